"""The ``grader`` command: parse options, hand the work to its module, map the exit code.

Exit codes (every command):

* 0: done (graded, whatever the score);
* 1: graded, but the score is under ``--fail-under`` (``batch``: some student
  could not be graded);
* 2: could not start: no such path, not a submission, a bad option, an
  output that cannot be written;
* 3: an internal error of the grader (never the submission's fault), or the
  grader's own files changed while grading;
* 130: interrupted (Ctrl-C).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.contract import TASKS

__all__ = ["main", "build_parser", "UsageError", "EXIT_OK", "EXIT_UNDER", "EXIT_USAGE",
           "EXIT_INTERNAL", "EXIT_INTERRUPTED", "add_grading_options", "run_options",
           "extra_checks"]

EXIT_OK, EXIT_UNDER, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
MIN_MEMORY_MB = 256

_EPILOG = """\
exit codes:
  0    graded (whatever the score)
  1    graded, but the score is under --fail-under
  2    could not grade: no such path, not a submission, a bad option, an unwritable output
  3    internal error of the grader (not the submission's fault; please report it),
       or the grader's own files changed during grading (integrity violation)
  130  interrupted

examples:
  grader check                          grade ./assignment
  grader check my_work --task quiz      grade only the quiz of my_work/
  grader check sub --format json --output report.json --fail-under 50
  grader check sub --format html --format json --output-dir reports/
"""


class UsageError(Exception):
    """A bad option or input: exit 2 with this one-line reason."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit 2)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"grader: {message} (see {self.prog} --help)\n")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 2**63 - 1")
    return value


def add_grading_options(parser: argparse.ArgumentParser, batch: bool = False) -> None:
    parser.add_argument("--task", action="append", choices=TASKS, metavar="NAME",
                        help=f"grade only this task; repeatable ({', '.join(TASKS)})")
    if not batch:
        parser.add_argument("--function", action="append", metavar="NAME",
                            help="grade only this function (or quiz question); repeatable")
    parser.add_argument("--seed", type=_seed, default=0,
                        help="seed of every random input; grading is deterministic for a seed "
                             "(default 0)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2 if batch else 2,
                        help="submissions graded at once (default: the number of cores)"
                        if batch else "student functions graded in parallel (default 2)")
    parser.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS",
                        help="wall-clock limit of one call of a student function (default 20; "
                             "checks that need longer scale with it)")
    parser.add_argument("--memory-mb", type=int, default=3072,
                        help="address space a worker may add on Linux/macOS, in MB (default "
                             f"3072, at least {MIN_MEMORY_MB}; 0: no limit; framework workers "
                             "get 4x)")
    parser.add_argument("--extra-checks", metavar="PATH", action="append",
                        help="instructor-only check modules (a .py file or a folder of them); "
                             "repeatable")


def build_parser() -> argparse.ArgumentParser:
    from grader.reporters import FORMATS

    parser = _Parser(
        prog="grader", description="Grade the weight-initialisation assignment.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    check = sub.add_parser(
        "check", help="grade one submission", epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade a submission: a folder that holds initializers.py, batchnorm.py, "
                    "diagnostics.py, frameworks.py and quiz.py (directly, under "
                    "assignment/, or a folder or two deeper), a .zip of one, or a notebook.")
    check.add_argument("submission", nargs="?", default="assignment",
                       help="the submission (default: assignment)")
    add_grading_options(check)
    check.add_argument("--format", action="append", choices=sorted(FORMATS), metavar="FORMAT",
                       help=f"report format, repeatable ({', '.join(sorted(FORMATS))}; "
                            "default text)")
    check.add_argument("--output", metavar="FILE",
                       help="write the report (one format) to FILE instead of standard output")
    check.add_argument("--output-dir", metavar="DIR",
                       help="write one file per format into DIR (report.json, report.html, ...)")
    check.add_argument("--fail-under", type=float, metavar="SCORE",
                       help="exit with 1 when the score is under SCORE")
    check.add_argument("--no-cache", action="store_true",
                       help="grade every function afresh (no .grader-cache/ read or written)")
    check.add_argument("--quiet", action="store_true", help="no progress display")
    check.add_argument("--verbose", action="store_true",
                       help="also show the statistics behind passed checks")
    check.add_argument("--plots", metavar="DIR",
                       help="also write the report's pictures as PNG files into DIR")
    check.add_argument("--pictures", action="store_true",
                       help="run the picture checks (no points; the html format and --plots "
                            "imply it) and keep their data in the report")
    return parser


def run_options(args: argparse.Namespace):
    """The run options of ``check`` and ``batch`` (UsageError when invalid)."""
    from grader import sandbox
    from grader.runner import RunOptions

    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout:g}")
    if args.memory_mb != 0 and args.memory_mb < MIN_MEMORY_MB:
        raise UsageError(f"--memory-mb must be 0 (no limit) or at least {MIN_MEMORY_MB}, got "
                         f"{args.memory_mb}: the frameworks alone need more")
    from grader.contract import POINTS

    tasks = tuple(dict.fromkeys(args.task)) if args.task else TASKS
    functions = tuple(dict.fromkeys(getattr(args, "function", None) or ())) or None
    if functions:
        known = {f: t for t in TASKS for f in POINTS[t]}
        unknown = [f for f in functions if f not in known]
        if unknown:
            raise UsageError(f"--function {unknown[0]}: no such function; one of "
                             f"{', '.join(known)}")
        if not args.task:
            tasks = tuple(dict.fromkeys(known[f] for f in functions))
    return RunOptions(seed=args.seed, tasks=tasks, jobs=args.jobs, functions=functions,
                      limits=sandbox.Limits(call_timeout_s=args.timeout,
                                            memory_mb=args.memory_mb))


def extra_checks(args: argparse.Namespace):
    from grader.battery import ExtraChecksError, load_extra
    from grader.grading import Extra

    if not getattr(args, "extra_checks", None):
        return Extra()
    batteries, files, paths = [], [], []
    for path in args.extra_checks:
        try:
            found, read = load_extra(path)
        except ExtraChecksError as exc:
            raise UsageError(str(exc)) from None
        batteries += found
        files += read
        paths.append(str(Path(path).resolve()))
    extra = Extra(tuple(batteries), tuple(files), tuple(paths))
    _check_shares(extra)
    return extra


def _check_shares(extra) -> None:
    """The points of the extra checks' functions can be shared (else a usage error now)."""
    from grader.contract import POINTS
    from grader.grading import load_batteries
    from grader.scoring import allocate

    tasks = tuple(dict.fromkeys(b.task for b in extra.batteries if b.task in POINTS))
    try:
        allocate([c for b in load_batteries(tasks, extra) for c in b.checks], POINTS)
    except ValueError as exc:
        raise UsageError(f"--extra-checks: {exc}") from None


def _formats(args: argparse.Namespace) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(args.format or ["text"]))
    if args.output and len(formats) > 1:
        raise UsageError("--output takes one format; use --output-dir for several")
    if args.output and args.output_dir:
        raise UsageError("give --output or --output-dir, not both")
    return formats


class _Progress:
    """A rich progress bar on stderr while grading, or nothing when not a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.description}"),
                                console=Console(stderr=True), transient=True)
            self.task = None

    def total(self, n: int) -> None:
        if self.bar is not None:
            self.bar.start()
            self.task = self.bar.add_task("", total=n)

    def advance(self, result) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, advance=1, description=result.id)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _check(args: argparse.Namespace, graded: list) -> int:
    from grader import integrity
    from grader.grading import grade
    from grader.inputs import open_submission
    from grader.reporters import emit

    options = run_options(args)
    formats = _formats(args)
    extra = extra_checks(args)
    if "html" in formats or args.plots or args.pictures:
        import dataclasses

        options = dataclasses.replace(options, figures=True)
    with open_submission(args.submission) as submission:
        integrity.compile_own()
        sys.dont_write_bytecode = True  # so that any new bytecode below is someone else's
        before = integrity.snapshot()

        progress = _Progress(bool(args.quiet or formats != ("text",) or args.output
                                  or args.output_dir))

        def record(result) -> None:
            graded.append(result)
            progress.advance(result)

        try:
            report = grade(submission, options, extra=extra, use_cache=not args.no_cache,
                           progress=record, on_total=progress.total)
        finally:
            progress.stop()
        changed = integrity.changes(before, integrity.snapshot())
    try:
        emit(report, formats, output=args.output, output_dir=args.output_dir,
             verbose=args.verbose)
        if args.plots:
            from grader.reporters import write_plots

            write_plots(report, args.plots)
    except OSError as exc:
        target = args.plots if args.plots and not (args.output or args.output_dir) else (
            args.output or args.output_dir)
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    if changed:
        print("grader: INTEGRITY VIOLATION: the grader's own files changed while this "
              "submission was graded; the grade cannot be trusted:\n  "
              + "\n  ".join(changed[:20]), file=sys.stderr)
        return EXIT_INTERNAL
    if args.fail_under is not None and report.score < args.fail_under:
        return EXIT_UNDER
    return EXIT_OK


def _quiet_frameworks() -> None:
    """Keep TensorFlow's C++ logging out of the report (set before any import)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _partial(graded: list) -> str:
    if not graded:
        return "nothing was graded before the error."
    done = sorted({f"{r.task}.{r.function}" for r in graded})
    return (f"graded before the error: {len(graded)} checks of {len(done)} functions "
            f"({', '.join(done[:8])}{', ...' if len(done) > 8 else ''}), "
            f"{sum(r.units for r in graded) / 10000:g} points")


def main(argv: list[str] | None = None) -> int:
    _quiet_frameworks()
    parser = build_parser()
    from grader import commands

    commands.register(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for a usage error, 0 for --help
        return int(exc.code or 0)
    graded: list = []
    try:
        if args.command == "check":
            return _check(args, graded)
        return commands.run(args)
    except UsageError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - whatever it is, it is not the student's
        from grader.submission import SubmissionError

        if isinstance(exc, SubmissionError):
            print(f"grader: {exc}", file=sys.stderr)
            return EXIT_USAGE
        import traceback

        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        print(f"grader: internal error, not caused by the submission: {detail}\n"
              f"grader: {_partial(graded)}\n"
              "Please report this with the submission and the command attached.",
              file=sys.stderr)
        if os.environ.get("GRADER_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL


def console() -> None:
    """The ``grader`` program: :func:`main`, then an exit that skips the interpreter's
    teardown (torch and scipy take half a second to finalise after every report is
    written); exit handlers (temporary directories, logging) still run first. Under a
    profiler or a coverage tool the exit is the normal one, so that they write their data."""
    import atexit

    try:
        code = main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


if __name__ == "__main__":
    console()

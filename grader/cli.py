"""``grader check``: grade a submission and print or write a report.

Exit codes: 0 graded; 1 graded but the score is under ``--fail-under``;
2 the grader could not grade (no such path, not a submission, bad option);
3 an internal error of the grader (never blamed on the submission).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.contract import TASKS

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_UNDER", "EXIT_USAGE", "EXIT_INTERNAL"]

EXIT_OK, EXIT_UNDER, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMAT_NAMES = ("text", "json", "junit", "csv", "gradescope")

_EPILOG = """\
exit codes:
  0  graded (whatever the score)
  1  graded, but the score is under --fail-under
  2  could not grade: no such path, not a submission, or a bad option
  3  internal error of the grader (not the submission's fault; please report it),
     or the grader's own files changed during grading (integrity violation)

examples:
  grader check                      grade ./assignment
  grader check my_work --task quiz  grade only the quiz of my_work/
  grader check sub --format json --output report.json --fail-under 50
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grade the weight-initialisation assignment.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = sub.add_parser(
        "check", help="grade one submission", epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade a submission directory: one that holds initializers.py, "
                    "batchnorm.py, diagnostics.py, frameworks.py and quiz.py, directly "
                    "or under an assignment/ folder.")
    check.add_argument("submission", nargs="?", default="assignment",
                       help="the submission directory (default: assignment)")
    check.add_argument("--task", action="append", choices=TASKS, metavar="NAME",
                       help=f"grade only this task; repeatable ({', '.join(TASKS)})")
    check.add_argument("--seed", type=int, default=0,
                       help="seed of every random input; grading is deterministic for a seed "
                            "(default 0)")
    check.add_argument("--format", choices=FORMAT_NAMES, default="text",
                       help="report format (default text)")
    check.add_argument("--output", metavar="FILE",
                       help="write the report to FILE instead of standard output")
    check.add_argument("--fail-under", type=float, metavar="SCORE",
                       help="exit with 1 when the score is under SCORE")
    check.add_argument("--jobs", type=int, default=2,
                       help="student functions graded in parallel (default 2)")
    check.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS",
                       help="wall-clock limit of one call of a student function (default 20; "
                            "calls that build framework models get 6x)")
    check.add_argument("--memory-mb", type=int, default=3072,
                       help="address-space limit of a worker on Linux/macOS, in MB "
                            "(default 3072; framework workers get 4x)")
    check.add_argument("--quiet", action="store_true", help="no progress display")

    batch = sub.add_parser(
        "batch", help="grade every submission folder under a directory",
        description="Grade each folder directly under ROOT that is a submission, one "
                    "after another, into one report per submission and a summary CSV.")
    batch.add_argument("root", help="the directory holding one folder per submission")
    batch.add_argument("--output-dir", required=True, metavar="DIR",
                       help="where to write <name>.<ext> per submission and summary.csv")
    batch.add_argument("--format", choices=FORMAT_NAMES[1:], default="json",
                       help="format of each submission's report (default json)")
    for action in check._actions:
        if action.dest in ("task", "seed", "jobs", "timeout", "memory_mb"):
            batch._add_action(action)
    return parser


def _progress(total: int, quiet: bool):
    """A rich progress bar on stderr, or nothing when not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None, (lambda result: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.description}"),
                        console=Console(stderr=True), transient=True)
    task_id = progress.add_task("", total=total)
    return progress, lambda result: progress.update(task_id, advance=1,
                                                    description=result.id)


def _check(args: argparse.Namespace) -> int:
    from grader import integrity
    from grader.checks import all_checks
    from grader.reporters import render
    from grader.reporters.text import print_report
    from grader.runner import GraderBug, run
    from grader.submission import SubmissionError, locate

    try:
        submission = locate(args.submission)
    except SubmissionError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = _options(args)
    if options is None:
        return EXIT_USAGE
    tasks = options.tasks
    checks = all_checks()
    total = sum(1 for c in checks if c.task in tasks)
    progress, on_result = _progress(total, args.quiet or args.format != "text")
    sys.dont_write_bytecode = True  # so that any new bytecode below is someone else's
    before = integrity.snapshot()
    try:
        if progress is not None:
            with progress:
                report = run(submission, checks, options, on_result)
        else:
            report = run(submission, checks, options, on_result)
    except GraderBug as exc:
        print(f"grader: internal error, not caused by the submission: {exc}\n"
              "Please report this with the submission attached.", file=sys.stderr)
        return EXIT_INTERNAL
    changed = integrity.changes(before, integrity.snapshot())
    if args.output:
        try:
            Path(args.output).write_text(render(report, args.format), encoding="utf-8")
        except OSError as exc:
            print(f"grader: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"grader: report written to {args.output} "
              f"(score {report.score:g}/{report.max_score:g})", file=sys.stderr)
    elif args.format == "text":
        from rich.console import Console
        print_report(report, Console(highlight=False))
    else:
        sys.stdout.write(render(report, args.format))
    if changed:
        print("grader: INTEGRITY VIOLATION: the grader's or the reference's files changed "
              "while this submission was graded; the grade cannot be trusted:\n  "
              + "\n  ".join(changed[:20]), file=sys.stderr)
        return EXIT_INTERNAL
    if args.fail_under is not None and report.score < args.fail_under:
        return EXIT_UNDER
    return EXIT_OK


def _options(args: argparse.Namespace):
    """The run options of ``check`` and ``batch``, or None (said why) when invalid."""
    from grader import sandbox
    from grader.runner import RunOptions

    if args.jobs < 1 or args.timeout <= 0 or args.memory_mb < 0:
        print("grader: --jobs and --timeout must be positive, --memory-mb at least 0",
              file=sys.stderr)
        return None
    tasks = tuple(dict.fromkeys(args.task)) if args.task else TASKS
    return RunOptions(seed=args.seed, tasks=tasks, jobs=args.jobs,
                      limits=sandbox.Limits(call_timeout_s=args.timeout,
                                            memory_mb=args.memory_mb))


def _batch(args: argparse.Namespace) -> int:
    import csv

    from rich.console import Console

    from grader import integrity
    from grader.checks import all_checks
    from grader.reporters import render
    from grader.runner import GraderBug, run
    from grader.submission import SubmissionError, locate

    root = Path(args.root)
    if not root.is_dir():
        print(f"grader: {args.root} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    options, checks = _options(args), all_checks()
    if options is None:
        return EXIT_USAGE
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True, highlight=False)
    sys.dont_write_bytecode = True
    guard = integrity.snapshot()
    ext = {"json": "json", "junit": "xml", "csv": "csv", "gradescope": "json"}[args.format]
    rows = []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for i, folder in enumerate(folders, 1):
        try:
            submission = locate(str(folder))
        except SubmissionError as exc:
            console.print(f"[{i}/{len(folders)}] {folder.name}: skipped ({exc})")
            rows.append({"submission": folder.name, "score": "", "max_score": "",
                         "status": "not a submission"})
            continue
        try:
            report = run(submission, checks, options)
        except GraderBug as exc:
            print(f"grader: internal error on {folder.name}: {exc}", file=sys.stderr)
            return EXIT_INTERNAL
        (out_dir / f"{folder.name}.{ext}").write_text(render(report, args.format),
                                                      encoding="utf-8")
        console.print(f"[{i}/{len(folders)}] {folder.name}: {report.score:g}/"
                      f"{report.max_score:g} ({report.duration_s:.1f} s)")
        row = {"submission": folder.name, "score": report.score,
               "max_score": report.max_score, "status": "graded"}
        row.update({t.name: t.score for t in report.tasks})
        rows.append(row)
    fields = ["submission", "score", "max_score", "status", *options.tasks]
    with open(out_dir / "summary.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    console.print(f"summary written to {out_dir / 'summary.csv'}")
    changed = integrity.changes(guard, integrity.snapshot())
    if changed:
        print("grader: INTEGRITY VIOLATION during the batch:\n  " + "\n  ".join(changed[:20]),
              file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


def _quiet_frameworks() -> None:
    """Keep TensorFlow's C++ logging out of the report (set before any import)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def main(argv: list[str] | None = None) -> int:
    _quiet_frameworks()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for a usage error, 0 for --help
        return int(exc.code or 0)
    if args.command == "check":
        return _check(args)
    if args.command == "batch":
        return _batch(args)
    parser.print_help()
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

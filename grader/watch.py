"""``grader watch [SUBMISSION]``: re-grade the modules a student saves, at once.

The watcher imports what the checks need once and keeps one warm worker
server, and the examples it drew and values it computed (``grader.memory``), for as
long as it runs; every time a module's content changes it grades again,
taking the results of unchanged functions from the cache, and redraws the
summary. Ctrl-C stops it cleanly.
"""
from __future__ import annotations

import hashlib
import sys
import time

__all__ = ["add_parser"]


def add_parser(sub) -> None:
    from grader.cli import add_grading_options

    parser = sub.add_parser(
        "watch", help="re-grade every time a module is saved",
        description="Grade SUBMISSION, then again whenever one of its modules changes "
                    "(unchanged functions come from the cache). Ctrl-C stops.")
    parser.add_argument("submission", nargs="?", default="assignment")
    add_grading_options(parser)
    parser.add_argument("--interval", type=float, default=0.5, metavar="SECONDS",
                        help="how often to look for changes (default 0.5)")
    parser.set_defaults(run=_run)


def _fingerprints(submission) -> dict[str, str]:
    from grader.contract import TASKS

    out = {}
    for task in TASKS:
        try:
            out[task] = hashlib.sha256(submission.module_path(task).read_bytes()).hexdigest()
        except OSError:
            out[task] = ""
    return out


def _run(args) -> int:
    from rich.console import Console

    from grader.cli import extra_checks, run_options
    from grader.memory import Memory
    from grader.grading import grade, load_batteries, open_workers
    from grader.reporters.text import print_report
    from grader.submission import locate

    options = run_options(args)
    extra = extra_checks(args)
    submission = locate(args.submission)
    console = Console(highlight=False)
    pool = open_workers(load_batteries(options.tasks, extra), extra)
    seen: dict[str, str] = {}
    memory = Memory()  # drawn by the first grading, replayed by the next
    try:
        while True:
            now = _fingerprints(submission)
            if now != seen:
                changed = [t for t in now if now[t] != seen.get(t)] if seen else []
                seen = now
                t0 = time.perf_counter()
                report = grade(submission, options, extra=extra, use_cache=True, pool=pool,
                               memory=memory)
                console.clear()
                if changed:
                    console.print(f"[dim]changed: {', '.join(f'{t}.py' for t in changed)}[/]")
                print_report(report, console)
                console.print(f"[dim]graded in {time.perf_counter() - t0:.1f} s; watching "
                              f"{submission.root} (Ctrl-C stops)[/]")
            time.sleep(args.interval)
    except KeyboardInterrupt:
        console.print("stopped watching")
        return 0
    finally:
        pool.close()
        sys.stdout.flush()

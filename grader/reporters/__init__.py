"""Reporters: each turns a :class:`grader.results.Report` into text.

A reporter is a function ``render(report) -> str``; it only formats.
:data:`FORMATS` maps a ``--format`` name to its reporter and :data:`FILES` to
the file it gets in ``--output-dir``. Reporters are imported when used.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from grader.atomic import write_text

__all__ = ["FORMATS", "FILES", "render", "emit", "write_plots"]

#: format -> module of grader.reporters that renders it
FORMATS = {
    "text": "text",
    "json": "json_report",
    "junit": "junit",
    "csv": "csv_report",
    "gradescope": "gradescope",
    "markdown": "markdown",
    "html": "html",
    "classroom": "classroom",
}

FILES = {"text": "report.txt", "json": "report.json", "junit": "junit.xml",
         "csv": "report.csv", "gradescope": "results.json", "markdown": "report.md",
         "html": "report.html", "classroom": "classroom.json"}


def render(report, fmt: str, **options) -> str:
    module = importlib.import_module(f"grader.reporters.{FORMATS[fmt]}")
    if fmt == "text":
        return module.render(report, verbose=bool(options.get("verbose")))
    return module.render(report)



def write_plots(report, directory: str) -> list[Path]:
    """Every picture of the report as ``DIR/<check id>.png``."""
    from grader import plots

    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(20, "not a directory", str(out))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for check in report.checks:
        if check.figure is not None and check.status == "passed":
            path = out / f"{check.id}.png"
            path.write_bytes(plots.draw(check.figure, png=True))
            written.append(path)
    print(f"grader: {len(written)} pictures written to {out}", file=sys.stderr)
    return written


def emit(report, formats, output: str | None = None, output_dir: str | None = None,
         verbose: bool = False) -> None:
    """Write the report in ``formats``: to a directory, a file, or standard output."""
    if output_dir:
        out = Path(output_dir)
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(20, "not a directory", str(out))
        for fmt in formats:
            write_text(out / FILES[fmt], render(report, fmt, verbose=verbose))
        print(f"grader: {', '.join(FILES[f] for f in formats)} written to {out} "
              f"(score {report.score:g}/{report.max_score:g})", file=sys.stderr)
        return
    fmt = formats[0]
    if output:
        write_text(Path(output), render(report, fmt, verbose=verbose))
        print(f"grader: report written to {output} (score {report.score:g}/"
              f"{report.max_score:g})", file=sys.stderr)
    elif fmt == "text":
        from rich.console import Console

        from grader.reporters.text import print_report

        print_report(report, Console(highlight=False), verbose=verbose)
    else:
        sys.stdout.write(render(report, fmt, verbose=verbose))

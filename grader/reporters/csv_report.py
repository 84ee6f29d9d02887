"""One CSV row per check, for spreadsheets and class-wide statistics."""
from __future__ import annotations

import csv
import io

from grader.cells import text_cell

__all__ = ["FIELDS", "render"]

FIELDS = ("submission", "seed", "task", "id", "function", "kind", "status", "score",
          "max_score", "message")


def render(report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIELDS)
    for check in report.checks:
        writer.writerow((text_cell(report.submission), report.seed, check.task, check.id,
                         check.function, check.kind, check.status, f"{check.score:.4f}",
                         f"{check.max_score:.4f}",
                         text_cell(check.message.splitlines()[0] if check.message else "")))
    return buf.getvalue()

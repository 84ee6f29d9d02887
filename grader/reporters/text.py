"""The terminal report: per task, one line per function with its points and one
line per check that did not pass; then the full messages and hints; then the
score. Rendered with rich (colour on a terminal, plain text elsewhere)."""
from __future__ import annotations

import io

__all__ = ["render", "print_report"]

_MARK = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"),
         "timeout": ("⏱", "red"), "not_attempted": ("·", "yellow"),
         "skipped": ("-", "dim")}


def _by_function(task) -> dict[str, list]:
    groups: dict[str, list] = {}
    for check in task.checks:
        groups.setdefault(check.function, []).append(check)
    return groups


def _function_mark(checks) -> tuple[str, str]:
    statuses = {c.status for c in checks}
    if statuses == {"passed"}:
        return _MARK["passed"]
    if statuses <= {"not_attempted"}:
        return _MARK["not_attempted"]
    if statuses <= {"skipped", "passed"}:
        return _MARK["skipped"]
    return _MARK["failed"]


def _first_line(text: str, width: int) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def print_report(report, console) -> None:
    from rich.text import Text

    width = max(40, console.width - 8)
    for task in report.tasks:
        console.print(Text(f"{task.name}  {task.score:g} / {task.max_score:g}", style="bold"))
        for function, checks in _by_function(task).items():
            mark, style = _function_mark(checks)
            got, most = sum(c.score for c in checks), sum(c.max_score for c in checks)
            line = Text(f"  {mark} ", style=style)
            line.append(f"{function:<22}", style="bold" if mark != "✓" else None)
            line.append(f" {got:5.2f} / {most:5.2f}")
            if all(c.status == "not_attempted" for c in checks):
                why = checks[0].message or "not attempted"
                why = why[len(function) + 1:] if why.startswith(function + " ") else why
                line.append(f"  {why}", style="yellow")
            console.print(line)
            if all(c.status in ("passed", "not_attempted") for c in checks):
                continue
            for c in checks:
                if c.status == "passed":
                    continue
                m, s = _MARK[c.status]
                detail = Text(f"      {m} {c.id.split('.', 2)[2]}: ", style=s)
                detail.append(_first_line(c.message or c.status, width - len(detail)))
                console.print(detail, overflow="ellipsis", no_wrap=True)
        console.print()
    problems = [c for c in report.checks if c.status in ("failed", "error", "timeout")]
    if problems:
        console.print(Text("What to look at", style="bold"))
        for c in problems:
            console.print(Text(f"{c.id} ({c.status})", style="red"))
            console.print(Text("  " + c.message.replace("\n", "\n  ")))
            if c.hint:
                console.print(Text("  hint: " + c.hint, style="cyan"))
        console.print()
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    console.print(Text(f"Score: {report.score:g} / {report.max_score:g}  "
                       f"(seed {report.seed}, {report.duration_s:.1f} s)", style="bold"))


def render(report) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_report(report, Console(file=buf, width=100, no_color=True, force_terminal=False,
                                 highlight=False))
    return buf.getvalue()

"""The terminal report: a table per task, then what to fix, with rich."""
from __future__ import annotations

import io

__all__ = ["render", "print_report"]

_STYLE = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"),
          "timeout": ("⏱", "red"), "not_attempted": ("·", "yellow"),
          "skipped": ("-", "dim")}


def _function_rows(task):
    """Group a task's checks by function, keeping the report order."""
    groups: dict[str, list] = {}
    for check in task.checks:
        groups.setdefault(check.function, []).append(check)
    return groups


def print_report(report, console) -> None:
    from rich.table import Table
    from rich.text import Text

    for task in report.tasks:
        table = Table(title=f"{task.name}  {task.score:g} / {task.max_score:g}",
                      title_justify="left", expand=False, show_edge=False)
        table.add_column("", width=1)
        table.add_column("check")
        table.add_column("points", justify="right")
        table.add_column("result", overflow="fold")
        for function, checks in _function_rows(task).items():
            if all(c.status == "not_attempted" for c in checks):
                table.add_row(Text("·", style="yellow"), function,
                              f"0 / {sum(c.max_score for c in checks):.3g}",
                              Text(checks[0].message or "not attempted yet", style="yellow"))
                continue
            for c in checks:
                mark, style = _STYLE[c.status]
                first = c.message.splitlines()[0] if c.message else c.status.replace("_", " ")
                table.add_row(Text(mark, style=style), c.id.split(".", 1)[1],
                              f"{c.score:.3g} / {c.max_score:.3g}",
                              Text(first, style=None if c.status == "passed" else style))
        console.print(table)
        console.print()
    problems = [c for c in report.checks if c.status in ("failed", "error", "timeout")]
    if problems:
        console.print("[bold]What to look at[/bold]")
        for c in problems:
            console.print(f"[red]{c.id}[/red] ({c.status})", highlight=False)
            console.print(Text("  " + c.message.replace("\n", "\n  ")))
            if c.hint:
                console.print(Text("  hint: " + c.hint, style="cyan"))
        console.print()
    for note in report.notes:
        console.print(f"[dim]note: {note}[/dim]")
    console.print(f"[bold]Score: {report.score:g} / {report.max_score:g}[/bold]  "
                  f"(seed {report.seed}, {report.duration_s:.1f} s)")


def render(report) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_report(report, Console(file=buf, width=110, no_color=True, force_terminal=False))
    return buf.getvalue()

"""A Markdown summary for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

A table of tasks and functions with their points, then every check that did
not pass with its message and hint.
"""
from __future__ import annotations

__all__ = ["render", "check_markdown"]

_ICON = {"passed": "✅", "failed": "❌", "error": "💥", "timeout": "⏱️",
         "not_attempted": "⬜", "skipped": "➖"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def check_markdown(check) -> str:
    """The message, evidence, hint and output of one check, as Markdown."""
    parts = [_fence(check.message) if "\n" in check.message else check.message or check.status]
    if check.evidence:
        parts.append(f"*Evidence:* {check.evidence}")
    if check.hint:
        parts.append(f"**Hint:** {check.hint}")
    if check.output:
        parts.append("It printed:\n" + _fence(check.output))
    return "\n\n".join(parts)


def _fence(text: str) -> str:
    return "```\n" + text.replace("```", "ʼʼʼ") + "\n```"


def _function_icon(checks) -> str:
    statuses = {c.status for c in checks}
    if statuses == {"passed"}:
        return _ICON["passed"]
    if statuses <= {"not_attempted"}:
        return _ICON["not_attempted"]
    if statuses <= {"skipped", "passed"}:
        return _ICON["skipped"]
    return _ICON["failed"]


def render(report) -> str:
    from grader.reporters.text import fmt_points

    lines = [f"## Score: {fmt_points(report.units)} / {fmt_points(report.max_units)}", ""]
    if report.pending_units:
        lines += [f"{fmt_points(report.pending_units)} more points are graded when you "
                  "submit.", ""]
    lines += ["| task | function | points | |", "|---|---|---:|:-:|"]
    for task in report.tasks:
        by: dict[str, list] = {}
        for c in task.checks:
            by.setdefault(c.function, []).append(c)
        lines.append(f"| **{task.name}** | | **{fmt_points(task.units)} / "
                     f"{fmt_points(task.max_units)}** | |")
        for function, checks in by.items():
            got, most = sum(c.units for c in checks), sum(c.max_units for c in checks)
            lines.append(f"| | `{function}` | {fmt_points(got)} / {fmt_points(most)} | "
                         f"{_function_icon(checks)} |")
    problems = [c for c in report.checks if c.status in ("failed", "error", "timeout")]
    if problems:
        lines += ["", "### What to fix", ""]
        for c in problems:
            lines += [f"#### {_ICON[c.status]} `{c.id}` ({c.status})", "", check_markdown(c), ""]
    lines += ["", f"<sub>seed {report.seed} · {report.duration_s:.1f} s"
              + "".join(f" · {_cell(n)}" for n in report.notes) + "</sub>", ""]
    return "\n".join(lines)

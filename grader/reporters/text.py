"""The terminal report: a summary that fits on a screen, then the details.

Per task, one line per function with its points; under it, one line per
check that did not pass (its first sentence), and one line saying how many
properties wait for correct basic values. A module that does not import is
said once, not once per check, and so is a problem that several checks of one
function share word for word (a function that is missing, an ``input()`` left in
it): one line naming those checks. Then the details of every problem: the whole
message, the evidence, the hint, what the function printed. Then the score,
and how many points wait for submission (the quiz in the student release).
Rendered with rich (colour on a terminal, plain text elsewhere).
"""
from __future__ import annotations

import io

__all__ = ["render", "print_report", "fmt_points", "waiting"]

_MARK = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"),
         "timeout": ("⏱", "red"), "not_attempted": ("·", "yellow"),
         "skipped": ("-", "dim")}


def fmt_points(units: int, decimals: int = 2) -> str:
    """Points with at most ``decimals`` decimals: 14.04, 35, 0.5 (4 gives them exactly)."""
    text = f"{units / 10000:.{decimals}f}".rstrip("0").rstrip(".")
    return text or "0"


def _by_function(checks) -> dict[str, list]:
    groups: dict[str, list] = {}
    for check in checks:
        groups.setdefault(check.function, []).append(check)
    return groups


def waiting(c) -> bool:
    """A property that waits for correct basic values (it failed because they are wrong)."""
    return c.status == "failed" and c.message.startswith("waits for correct basic values")


def _module_problem(task) -> str | None:
    """The one message shared by every check of the task (a module that does not import)."""
    messages = {c.message for c in task.checks if c.status != "skipped"}
    statuses = {c.status for c in task.checks if c.status != "skipped"}
    if len(messages) == 1 and statuses <= {"error", "timeout"}:
        message = next(iter(messages))
        if f"{task.name}.py" in message.split("\n", 1)[0]:
            return message
    return None


def _function_mark(checks) -> tuple[str, str]:
    statuses = {c.status for c in checks}
    if statuses == {"passed"}:
        return _MARK["passed"]
    if statuses <= {"not_attempted"}:
        return _MARK["not_attempted"]
    if statuses <= {"skipped", "passed"}:
        return _MARK["skipped"]
    if statuses & {"error", "timeout"} and not statuses & {"passed"}:
        return _MARK["error"]
    return _MARK["failed"]


def _first(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line


def _headline(text: str) -> str:
    """The first sentence of a message (its plain-words part), for the one-line summary."""
    line = _first(text)
    end = line.find(". ")
    return line[: end + 1] if end > 0 else line


def _not_attempted(why: str) -> str:
    """The few words of a function's line when it is not attempted (it fits 80 columns)."""
    if why.startswith("still raises NotImplementedError"):
        return "not attempted (NotImplementedError)"
    if why.startswith("is not answered yet"):
        return "not attempted: not answered yet"
    return f"not attempted: {why}"


def _shared_problems(checks) -> dict[tuple, list]:
    """(status, message, hint) -> the checks that share it, for problems that two or more
    checks of one function share word for word."""
    groups: dict[tuple, list] = {}
    for c in checks:
        if c.status in ("failed", "error", "timeout") and not waiting(c):
            groups.setdefault((c.status, c.message, c.hint), []).append(c)
    return {key: same for key, same in groups.items() if len(same) > 1}


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def print_report(report, console, verbose: bool = False) -> None:
    from rich.text import Text

    width = max(60, console.width)
    details = []
    for task in report.tasks:
        console.print(Text(f"{task.name}  {fmt_points(task.units)} / "
                           f"{fmt_points(task.max_units)}", style="bold"))
        module_problem = _module_problem(task)
        if module_problem is not None:
            mark, style = _MARK["error"]
            line = Text(f"  {mark} {_clip(_first(module_problem), width - 4)}", style=style)
            console.print(line)
            console.print(Text(f"    every function of {task.name}.py earns 0 until it imports",
                               style="dim"))
            details.append((f"{task.name}.py", task.checks[0]))
            console.print()
            continue
        for function, checks in _by_function(task.checks).items():
            mark, style = _function_mark(checks)
            got, most = sum(c.units for c in checks), sum(c.max_units for c in checks)
            line = Text(f"  {mark} ", style=style)
            line.append(f"{function:<22}", style="bold" if mark != "✓" else None)
            line.append(f" {fmt_points(got):>5} / {fmt_points(most)}")
            line.append(" " * (5 - len(fmt_points(most))))
            if any(c.cached for c in checks):
                line.append("  (cached)", style="dim")
            statuses = {c.status for c in checks}
            if statuses == {"not_attempted"}:
                why = _first(checks[0].message)
                why = why[len(function) + 1:] if why.startswith(function + " ") else why
                said = _not_attempted(why)
                line.append(f"  {_clip(said, width - len(line.plain) - 2)}", style="yellow")
            elif statuses <= {"skipped"}:
                room = width - len(line.plain) - 2
                line.append(f"  {_clip(_first(checks[0].message), room)}", style="dim")
            console.print(line, overflow="ellipsis", no_wrap=True)
            if statuses <= {"passed", "not_attempted", "skipped"} and not verbose:
                continue
            waits = [c for c in checks if waiting(c)]
            shared = _shared_problems(checks)
            for c in checks:
                if c.status == "passed":
                    if verbose and c.message:
                        console.print(Text(f"      ✓ {c.prop}: {_clip(c.message, width - 12)}",
                                           style="dim"))
                    continue
                if waiting(c) or c.status in ("not_attempted", "skipped"):
                    continue
                same = shared.get((c.status, c.message, c.hint), [c])
                if same[0] is not c:  # said with the first check that shares it
                    continue
                m, s = _MARK[c.status]
                if len(same) == 1:
                    detail = Text(f"      {m} {c.prop}: ", style=s)
                    detail.append(_clip(_headline(c.message or c.status), width - len(detail)))
                    details.append((c.id, c))
                else:  # the words first: the list of checks is in the details
                    count = f" ({len(same)} checks)"
                    detail = Text(f"      {m} ", style=s)
                    detail.append(_clip(_headline(c.message), width - len(detail) - len(count))
                                  + count)
                    props = ", ".join(x.prop for x in same)
                    details.append((f"{task.name}.{function}.{{{props}}}", c))
                console.print(detail, overflow="ellipsis", no_wrap=True)
            if waits:
                n = len(waits)
                console.print(Text(f"      … {n} more check{'s' if n > 1 else ''} earn "
                                   f"points once the basic values are right: "
                                   f"{', '.join(c.prop for c in waits)}", style="dim"),
                              overflow="ellipsis", no_wrap=True)
        console.print()
    if details:
        console.print(Text("Details", style="bold underline"))
        for name, c in details:
            console.print(Text(f"{name} ({c.status})", style="bold red"))
            console.print(Text("  " + c.message.replace("\n", "\n  ")))
            if c.evidence:
                console.print(Text(f"  evidence: {c.evidence}", style="dim"))
            if c.hint:
                console.print(Text(f"  hint: {c.hint}", style="cyan"))
            if c.output:
                console.print(Text("  it printed:", style="dim"))
                console.print(Text("    " + c.output.replace("\n", "\n    "), style="dim"))
        console.print()
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    for module, origin in sorted(report.sources.items()):
        console.print(Text(f"note: {module}.py came from {origin}", style="dim"))
    pending = report.pending_units
    line = Text(f"Score: {fmt_points(report.units)} / {fmt_points(report.max_units)}",
                style="bold")
    if pending:
        line.append(f"  ({fmt_points(pending)} more points are graded when you submit)",
                    style="bold yellow")
    line.append(f"  (seed {report.seed}, {report.duration_s:.1f} s)", style="dim")
    console.print(line)


def render(report, verbose: bool = False) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_report(report, Console(file=buf, width=100, color_system=None, force_terminal=False,
                                 force_jupyter=False, highlight=False), verbose=verbose)
    return buf.getvalue()

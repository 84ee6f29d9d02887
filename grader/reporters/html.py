"""The HTML report: one self-contained page (pictures embedded, no script, no network).

The same grouping as the text report (task, function, the checks that did
not pass with their message, evidence and hint), the pictures beside the
functions they are about, printable. Rendered from
``grader/templates/report.html.j2`` with Jinja2.
"""
from __future__ import annotations

__all__ = ["render", "context"]

_MARK = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "not_attempted": "·",
         "skipped": "–"}


def context(report) -> dict:
    """The template's data: tasks, functions, their checks and pictures."""
    from grader import plots
    from grader.reporters.text import fmt_points, waiting as _waiting

    tasks = []
    for task in report.tasks:
        functions: dict[str, dict] = {}
        for c in task.checks:
            f = functions.setdefault(c.function, {"name": c.function, "checks": [],
                                                  "units": 0, "max_units": 0,
                                                  "pictures": []})
            if c.figure is not None or (c.kind == "experiment" and c.max_units == 0):
                if c.status == "not_attempted":
                    continue  # the function's own line says it is not attempted
                if c.status == "passed":
                    f["pictures"].append({"uri": plots.draw(c.figure), "caption": c.message,
                                          "title": c.figure["title"]})
                else:
                    f["pictures"].append({"uri": "", "title": c.prop,
                                          "caption": f"No picture: {c.message.splitlines()[0]}"
                                          if c.message else "No picture."})
                continue
            f["checks"].append(c)
            f["units"] += c.units
            f["max_units"] += c.max_units
        for f in functions.values():
            statuses = {c.status for c in f["checks"]}
            f["state"] = ("passed" if statuses == {"passed"} else
                          "not_attempted" if statuses <= {"not_attempted"} else
                          "skipped" if statuses <= {"skipped", "passed"} else "failed")
            f["points"] = f"{fmt_points(f['units'])} / {fmt_points(f['max_units'])}"
            # as in the text report: a stub is said once, and the properties that wait for
            # correct basic values are named in one line
            f["waiting"] = [c.prop for c in f["checks"] if _waiting(c)]
            f["problems"] = [] if f["state"] == "not_attempted" else [
                c for c in f["checks"] if c.status != "passed" and not _waiting(c)]
        tasks.append({"name": task.name, "points": f"{fmt_points(task.units)} / "
                                                   f"{fmt_points(task.max_units)}",
                      "functions": list(functions.values())})
    return {"report": report, "tasks": tasks, "mark": _MARK,
            "score": f"{fmt_points(report.units)} / {fmt_points(report.max_units)}",
            "pending": fmt_points(report.pending_units) if report.pending_units else ""}


def render(report) -> str:
    from grader.classpage import environment

    return environment().get_template("report.html.j2").render(**context(report))

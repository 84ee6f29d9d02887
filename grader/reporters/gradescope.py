"""Gradescope's ``results.json``: one test per check, the summary on top.

Tests have readable names (``xavier_uniform: variance``), a ``number``
(task.function.check), ``score`` and ``max_score`` in sixteenths of a point
(exact as floats: they add up to the printed total), ``status``, Markdown
``output``, the check's ``visibility`` and ``tags`` (task, kind). The seed,
the versions and the sandbox are instructor-only details and go to
``extra_data`` (and a hidden test), so that a grade can be reproduced.
"""
from __future__ import annotations

import json

__all__ = ["render"]


def _summary(report) -> str:
    from grader.reporters.text import fmt_points

    lines = [f"Score: {fmt_points(report.units)} / {fmt_points(report.max_units)}", ""]
    for task in report.tasks:
        lines.append(f"- {task.name}: {fmt_points(task.units)} / {fmt_points(task.max_units)}")
    for note in report.notes:
        if "seed" not in note:
            lines += ["", note]
    return "\n".join(lines)


def render(report) -> str:
    from grader.reporters.markdown import check_markdown

    tests = []
    for t_index, task in enumerate(report.tasks, start=1):
        functions = list(dict.fromkeys(c.function for c in task.checks))
        seen: dict[str, int] = {}
        for check in task.checks:
            seen[check.function] = seen.get(check.function, 0) + 1
            tests.append({
                "name": f"{check.function}: {check.prop.replace('_', ' ')}",
                "number": f"{t_index}.{functions.index(check.function) + 1}."
                          f"{seen[check.function]}",
                "score": check.score,
                "max_score": check.max_score,
                "status": "passed" if check.status == "passed" else "failed",
                "output": check_markdown(check),
                "output_format": "md",
                "visibility": check.visibility,
                "tags": [task.name, check.kind],
            })
    tests.append({"name": "grading details (instructors)", "score": 0.0, "max_score": 0.0,
                  "status": "passed", "visibility": "hidden", "output_format": "md",
                  "output": f"seed {report.seed}; versions "
                            + ", ".join(f"{k} {v}" for k, v in report.versions.items())
                            + "".join(f"\n\n{n}" for n in report.notes),
                  "tags": ["details"]})
    return json.dumps({
        "score": report.score,
        "execution_time": round(report.duration_s, 1),
        "output": _summary(report),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"seed": report.seed, "versions": report.versions,
                       "notes": list(report.notes), "submission": report.submission},
        "tests": tests,
    }, indent=2, allow_nan=False) + "\n"

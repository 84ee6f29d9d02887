"""Gradescope autograder ``results.json``: one test per check."""
from __future__ import annotations

import json

__all__ = ["render"]


def render(report) -> str:
    tests = []
    for check in report.checks:
        output = check.message + (f"\nHint: {check.hint}" if check.hint else "")
        tests.append({
            "name": check.id,
            "score": round(check.score, 4),
            "max_score": round(check.max_score, 4),
            "status": "passed" if check.status == "passed" else "failed",
            "output": output or check.status,
        })
    return json.dumps({
        "score": report.score,
        "execution_time": round(report.duration_s, 1),
        "output": f"Graded with seed {report.seed}: {report.score:g}/{report.max_score:g}",
        "visibility": "visible",
        "tests": tests,
    }, indent=2) + "\n"

"""The JSON GitHub Classroom's grading reporter reads from a grader step.

``{"version": 1, "status": "pass|fail|error", "max_score", "tests": [...]}``;
the workflow in ``examples/github-classroom/`` base64-encodes it into the
step's ``result`` output. A check passes or fails; a grader problem would be
``error`` (it exits 3 before writing this).
"""
from __future__ import annotations

import json

__all__ = ["render"]


def render(report) -> str:
    tests = []
    for check in report.checks:
        status = "pass" if check.status == "passed" else (
            "error" if check.status in ("error", "timeout") else "fail")
        message = check.message + (f"\nHint: {check.hint}" if check.hint else "")
        tests.append({"name": check.id, "status": status, "score": check.score,
                      "max_score": check.max_score, "message": message,
                      "line_no": 0, "test_code": check.id})
    status = "pass" if report.units == report.max_units else "fail"
    return json.dumps({"version": 1, "status": status, "max_score": report.max_score,
                       "tests": tests}, indent=2, allow_nan=False) + "\n"

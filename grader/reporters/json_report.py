"""The JSON report (the contract's report format, ``grader-report/1``)."""
from __future__ import annotations

import json

__all__ = ["render"]


def render(report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"

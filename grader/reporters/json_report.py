"""The JSON report of SPEC §7."""
from __future__ import annotations

import json

__all__ = ["render"]


def render(report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"

"""The battery of checks, one module per task, plus the NumPy-only rule."""
from __future__ import annotations

from grader.check import Check
from grader.contract import TASKS

__all__ = ["all_checks"]


def all_checks() -> list[Check]:
    """Every check, in report order: task by task, each task's own checks first."""
    from grader.checks import (batchnorm, diagnostics, frameworks, initializers, numpy_only,
                               quiz)

    own = {
        "initializers": initializers.CHECKS,
        "batchnorm": batchnorm.CHECKS,
        "diagnostics": diagnostics.CHECKS,
        "frameworks": frameworks.CHECKS,
        "quiz": quiz.CHECKS,
    }
    out: list[Check] = []
    for task in TASKS:
        out += own[task]
        out += [c for c in numpy_only.CHECKS if c.task == task]
    ids = [c.id for c in out]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate check ids: {sorted(duplicates)}")
    return out

"""Every NumPy-only function, made to use torch: each must fail its ``numpy_only`` check.

The records are built from the reference's own signatures: each function is
replaced by one that does a torch operation and then returns the reference's
(correct) result, so that only the NumPy-only rule is broken.
"""
from __future__ import annotations

import importlib
import inspect

from banks.record import Broken
from grader.contract import NUMPY_ONLY_TASKS, POINTS

__all__ = ["BROKEN"]


def _record(task: str, function: str) -> Broken:
    reference = getattr(importlib.import_module(f"reference.{task}"), function)
    signature = inspect.signature(reference)
    params = ", ".join(str(p) for p in signature.parameters.values())
    args = ", ".join(signature.parameters)
    source = f"""
        _ref_{function} = {function}
        def {function}({params}):
            import torch
            torch.zeros(1)
            return _ref_{function}({args})
    """
    return Broken(f"{function}_uses_torch", function, ("numpy_only",), source)


BROKEN: dict[str, tuple[Broken, ...]] = {
    task: tuple(_record(task, f) for f in POINTS[task]) for task in NUMPY_ONLY_TASKS}

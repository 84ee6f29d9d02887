"""Checks of frameworks.py (SPEC)."""
from __future__ import annotations

from grader.check import Check

__all__ = ["CHECKS"]

CHECKS: tuple[Check, ...] = ()

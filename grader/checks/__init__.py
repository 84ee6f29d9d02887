"""The batteries of checks, one per task. Only the tasks asked for are imported."""
from __future__ import annotations

import importlib
import importlib.util

from grader.battery import Battery
from grader.contract import TASKS

__all__ = ["battery", "batteries", "has_quiz_key"]


def has_quiz_key() -> bool:
    """Whether this grader holds the quiz's answer key (the instructor's does)."""
    return importlib.util.find_spec("grader.quiz_key") is not None


def battery(task: str) -> Battery:
    """The battery of one task (importing its module, and nothing else)."""
    if task == "quiz":
        from grader.checks import quiz

        key = importlib.import_module("grader.quiz_key") if has_quiz_key() else None
        return quiz.battery(key)
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; one of {TASKS}")
    return importlib.import_module(f"grader.checks.{task}").BATTERY


def batteries(tasks: tuple[str, ...] = TASKS) -> tuple[Battery, ...]:
    """The batteries of ``tasks``, in the order given."""
    return tuple(battery(t) for t in tasks)

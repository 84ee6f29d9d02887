"""Checks of quiz.py: ``quiz.qN.answer``, one per question.

The student's ``ANSWERS`` dict is read in the worker. Every check first
checks that its answer is well formed for its question's kind
(``grader.quiz_format``), then grades it against the answer key
(``grader.quiz_key``) when the grader has one. The student release has no
key: there a well-formed answer is ``skipped`` ("graded when you submit")
and the local report says how many points wait for submission. Feedback
says right or wrong and where to read, never the answer.

Answers are read kindly but by their kind:

* single choice: a string holding one letter, case and surrounding
  whitespace ignored, and ``"(b)"``, ``"b)"``, ``"b."``, ``"[b]"`` read as
  ``"b"``;
* multi-select: a set (or list, tuple, frozenset) of strings, each compared
  case-insensitively with spaces and hyphens read as underscores
  (``"Leaky ReLU"`` is ``leaky_relu``); duplicates do not matter. All or
  nothing: the exact set earns the question's points, anything else 0, and
  the message says how many options are classified wrongly, not which;
* numeric: an int or float (NumPy scalars too), not a string, as the stub
  asks. Correct within the relative tolerance ``grader.quiz_format.TOLERANCE``.

An answer of the wrong kind (a set for a letter, a string for a number, ...)
fails with a message that names the kind expected; ``None`` (the stub) is
``not_attempted``.
"""
from __future__ import annotations

import math
from functools import partial
from types import ModuleType

import numpy as np

from grader import quiz_format
from grader.battery import Battery
from grader.check import Check, CheckFailed, CheckSkipped, describe, number
from grader.contract import QUIZ_QUESTIONS
from grader.student import StudentNotImplemented

__all__ = ["battery", "normalise_letter", "normalise_names", "parse_number"]

_KIND_TEXT = {
    "single_choice": 'a single choice: one letter as a string, such as "c"',
    "multi_select": 'a multi-select: a set of option names, such as {"relu", "linear"}',
    "numeric": "numeric: a number (int or float, not a string), such as 0.5 or 3.2e9",
}


class _WrongKind(Exception):
    """The answer is not of the kind the question asks for."""


def normalise_letter(value: object) -> str:
    """``" (B) "`` -> ``"b"``; anything but a string raises :class:`_WrongKind`."""
    if not isinstance(value, str):
        raise _WrongKind(describe(value))
    return value.strip().lower().strip("()[]{}.:,;'\" ")


def normalise_names(value: object) -> frozenset[str]:
    """A set/list/tuple of option names -> a frozenset of normalised names."""
    if isinstance(value, str) or not isinstance(value, (set, frozenset, list, tuple)):
        raise _WrongKind(describe(value))
    names = set()
    for item in value:
        if not isinstance(item, str):
            raise _WrongKind(f"a collection holding {describe(item)}")
        names.add("_".join(item.strip().lower().replace("-", " ").split()))
    return frozenset(names)


def parse_number(value: object) -> float:
    """An int, float or NumPy real scalar -> float; a string or anything else is wrong."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray)
                                                and value.shape != ()):
        raise _WrongKind(describe(value))
    got = number(value)
    if got is not None:
        return got
    if isinstance(value, str):
        raise _WrongKind(f"the string {value!r:.60}: write the number without quotes (an "
                         "expression such as 2 / 3 or math.sqrt(2) is fine)")
    raise _WrongKind(describe(value))


def _answer(student, question: str) -> object:
    answers = student.value()
    if not isinstance(answers, dict):
        raise CheckFailed(
            f"ANSWERS should be a dict mapping 'q1' ... 'q7' to your answers; "
            f"got {describe(answers)}",
            "Keep the ANSWERS dict of the stub and replace its None values.")
    value = answers.get(question)
    if value is None:
        raise StudentNotImplemented(
            f"{question} is not answered yet (still None)",
            f"Read {question} in the docstring of quiz.py and put your answer in ANSWERS.")
    return value


def _wrong(question: str, what: str) -> CheckFailed:
    return CheckFailed(f"{question}: {what}", f"Read {quiz_format.READ[question]}.")


def _single_choice(question: str, value: object, key) -> str:
    letter = normalise_letter(value)
    options = quiz_format.OPTIONS[question]
    if letter not in options:
        raise CheckFailed(
            f"{question} is a single choice: answer one of the letters "
            f"{', '.join(options)}; got {value!r:.60}",
            'Write one letter as a string, e.g. "c".')
    if key is None:
        return f"({letter})"
    if not key.choice_is(question, letter):
        raise _wrong(question, f"({letter}) is not the right answer")
    return "correct"


def _multi_select(question: str, value: object, key) -> str:
    names = normalise_names(value)
    options = quiz_format.OPTIONS[question]
    unknown = sorted(names - set(options))
    if unknown:
        raise CheckFailed(
            f"{question}: {', '.join(map(repr, unknown))} "
            f"{'is not an option' if len(unknown) == 1 else 'are not options'}; "
            f"the options are {', '.join(options)}",
            "Answer with a set of the option names exactly as the question lists them.")
    if key is None:
        return "{" + ", ".join(sorted(names)) + "}"
    wrong = sum((name in names) != key.option_is_selected(question, name) for name in options)
    if wrong:
        raise _wrong(
            question,
            f"your set is not the right one: {wrong} of the {len(options)} options "
            f"{'is' if wrong == 1 else 'are'} classified wrongly (selected but false, or "
            "true but not selected). Multi-select questions are all or nothing: the exact "
            "set earns the points, any other set 0")
    return "correct"


def _numeric(question: str, value: object, key) -> str:
    given = parse_number(value)
    if not math.isfinite(given):
        raise CheckFailed(f"{question} should be a finite number; got {given}")
    if key is None:
        return f"{given:.6g}"
    correct = key.numeric_value(question)
    tol = quiz_format.TOLERANCE
    if abs(given - correct) > tol * abs(correct):
        raise _wrong(question, f"{given:.6g} is not the right value (accepted within a "
                               f"relative tolerance of {tol:g})")
    return "correct"


_GRADE = {"single_choice": _single_choice, "multi_select": _multi_select,
          "numeric": _numeric}


def _check(student, rng, *, question: str, key: ModuleType | None) -> str:
    """Grade ``ANSWERS[question]`` (see the module docstring for the rules)."""
    value = _answer(student, question)
    kind = quiz_format.KIND[question]
    try:
        verdict = _GRADE[kind](question, value, key)
    except _WrongKind as exc:
        raise CheckFailed(f"{question} is {_KIND_TEXT[kind]}; got {exc}",
                          "Use the answer format described at the top of quiz.py.") from None
    if key is None:
        raise CheckSkipped(f"{question}: your answer {verdict} is well formed; it is graded "
                           "when you submit", pending=True)
    return verdict


def battery(key: ModuleType | None) -> Battery:
    """The quiz's battery, grading answers with ``key`` (None: their form only)."""
    return Battery(
        task="quiz",
        checks=tuple(Check(f"quiz.{q}.answer", "unit", partial(_check, question=q, key=key))
                     for q in QUIZ_QUESTIONS),
        attribute="ANSWERS",
    )

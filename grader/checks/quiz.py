"""Checks of quiz.py (SPEC §5): ``quiz.qN.answer``, one per question.

The student's ``ANSWERS`` dict is read in the worker; each check grades one
entry against ``grader.quiz_key``, which holds salted hashes and formulas,
never the answers themselves. Feedback says right or wrong and where in the
reference to read, never the answer.

Answers are normalised kindly before they are compared:

* single choice: a string, case and surrounding whitespace ignored, and
  ``"(b)"``, ``"b)"``, ``"b."``, ``"[b]"`` read as ``"b"``;
* multi-select: a set, frozenset, list or tuple of strings, each compared
  case-insensitively with spaces and hyphens read as underscores
  (``"Leaky ReLU"`` is ``leaky_relu``); duplicates do not matter. All or
  nothing: the exact set earns the question's points, anything else 0, and
  the message says how many options are classified wrongly, not which;
* numeric: an int or float (NumPy scalars too), or a string holding a plain
  number such as ``"0.5"`` or ``"3.2e9"``; expressions in strings (``"2**3"``)
  are not evaluated. Correct within the relative tolerance
  ``grader.quiz_key.TOLERANCE`` (``|given - correct| <= 1e-3 * |correct|``).

An answer of the wrong kind (a set for a letter, a list for a number, ...)
fails with a message that names the kind expected; ``None`` (the stub) is
``not_attempted``.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from grader import quiz_key
from grader.check import Check, CheckFailed, describe
from grader.contract import QUIZ_QUESTIONS
from grader.student import StudentNotImplemented

__all__ = ["CHECKS", "normalise_letter", "normalise_names", "parse_number"]

_KIND_TEXT = {
    "single_choice": 'a single choice: one letter as a string, such as "c"',
    "multi_select": 'a multi-select: a set of option names, such as {"relu", "linear"}',
    "numeric": "numeric: a number (int or float), such as 0.5 or 3.2e9",
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
    """An int, float, NumPy scalar or numeric string -> float (no evaluation)."""
    if isinstance(value, (bool, np.bool_)):
        raise _WrongKind(describe(value))
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise _WrongKind(
                f"the string {value!r:.60}, which is not a plain number (expressions in "
                "strings are not evaluated: write it without quotes, e.g. 2 ** 3 or "
                "math.sqrt(2))") from None
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
    return CheckFailed(f"{question}: {what}", f"Read {quiz_key.READ[question]}.")


def _single_choice(question: str, value: object) -> str:
    letter = normalise_letter(value)
    options = quiz_key.OPTIONS[question]
    if letter not in options:
        raise CheckFailed(
            f"{question} is a single choice: answer one of the letters "
            f"{', '.join(options)}; got {value!r:.60}",
            'Write one letter as a string, e.g. "c".')
    if not quiz_key.choice_is(question, letter):
        raise _wrong(question, f"({letter}) is not the right answer")
    return "correct"


def _multi_select(question: str, value: object) -> str:
    names = normalise_names(value)
    options = quiz_key.OPTIONS[question]
    unknown = sorted(names - set(options))
    if unknown:
        raise CheckFailed(
            f"{question}: {', '.join(map(repr, unknown))} "
            f"{'is not an option' if len(unknown) == 1 else 'are not options'}; "
            f"the options are {', '.join(options)}",
            "Answer with a set of the option names exactly as the question lists them.")
    wrong = sum((name in names) != quiz_key.option_is_selected(question, name)
                for name in options)
    if wrong:
        raise _wrong(
            question,
            f"your set is not the right one: {wrong} of the {len(options)} options "
            f"{'is' if wrong == 1 else 'are'} classified wrongly (selected but false, or "
            "true but not selected). Multi-select questions are all or nothing: the exact "
            "set earns the points, any other set 0")
    return "correct"


def _numeric(question: str, value: object) -> str:
    given = parse_number(value)
    if not math.isfinite(given):
        raise CheckFailed(f"{question} should be a finite number; got {given}")
    correct = quiz_key.numeric_value(question)
    tol = quiz_key.TOLERANCE
    if abs(given - correct) > tol * abs(correct):
        raise _wrong(question, f"{given:.6g} is not the right value (accepted within a "
                               f"relative tolerance of {tol:g})")
    return "correct"


_GRADE = {"single_choice": _single_choice, "multi_select": _multi_select,
          "numeric": _numeric}


def _check(student, rng, *, question: str) -> str:
    """Grade ``ANSWERS[question]`` (see the module docstring for the rules)."""
    value = _answer(student, question)
    kind = quiz_key.KIND[question]
    try:
        return _GRADE[kind](question, value)
    except _WrongKind as exc:
        raise CheckFailed(f"{question} is {_KIND_TEXT[kind]}; got {exc}",
                          "Use the answer format described at the top of quiz.py.") from None


CHECKS: tuple[Check, ...] = tuple(
    Check(f"quiz.{q}.answer", "unit", partial(_check, question=q)) for q in QUIZ_QUESTIONS
)

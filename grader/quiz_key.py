"""The quiz's answer key: the instructor's grader only, never in the student release.

The student release grades the quiz's form only (``grader.quiz_format``) and
leaves its points to the final grade; this module is what the final grade
adds. Even here the answers are not in plain text, so that a glance at the
instructor's repository does not give them away:

* Single choice: the SHA-256 of ``SALT | question | letter``.
* Multi-select: for every option, the SHA-256 of
  ``SALT | question | name=selected`` or ``... | name=not_selected``, so a
  check can count how many options a student classified wrongly without the
  key listing the correct set.
* Numeric: a formula that computes the number from the question's data.

"""
from __future__ import annotations

import hashlib
import math
from typing import Callable

__all__ = ["SALT", "digest", "choice_is", "option_is_selected", "numeric_value"]

SALT = "weight-init-quiz/1"

_CHOICE: dict[str, str] = {
    "q1": "a015d25de0867715e5a3a4fa138fd3d7702869362b1fed0a32312f34ffed8814",
    "q5": "139dbae5d43ac339ab03166b26aff9719e9a2f2d905b9749368adf8ef80e8877",
}

_MEMBERSHIP: dict[str, dict[str, str]] = {
    "q3": {
        "sigmoid": "f9816a81662457e4de71dfdcf68d9f95681ae6062a7789263191e59369f7d9db",
        "tanh": "7c82795f79a7d6929fb27dc882d84375e7c950313ad0b3ad062993a0b549c55a",
        "relu": "5e4f72243ee88f6996fe2678a783f881ea9250dd23bfc00bbf1876f1bfdbb902",
        "leaky_relu": "162d668bf741569568003da0fc229fd1e363dc1811e8ebe293313df9f8e178fa",
        "linear": "757eee0ad405c3b945c2a1b52bcd76d98e7198d26be3f56a18a14dceb5bf0367",
    },
    "q6": {
        "per_channel": "a6368b5be1ee56a19d41c912a27b231ac3236adcec19928f45d874638030b07f",
        "running_stats_in_training":
            "038d470019f7a2c92194ad2e6d6f198f08a17451c3517b99503dee1d8df18d92",
        "unbiased_running_var":
            "ea120ae7d34138c7a6748f4a43070f775cb007aa1afd3fcc1f3492ada4cd7c3c",
        "scale_invariant": "8426db7bc00b6f3212f067a8d31ff3d7f23eff3065c3706388372e2a114ded57",
        "constant_init_ok": "fa8c91265c5d50b3496945e6c39290b61f662a5ac96108235120430458675e3d",
        "fixed_unit_variance":
            "6f12a69c681eb5f28c638b9142ee6bfce962222bb7b6d5f1764127bd4ee6eb54",
    },
}

# Each number is computed from the data of its question.
_FORMULA: dict[str, Callable[[], float]] = {
    # Xavier-normal variance for fan_in = 256, fan_out = 64
    "q2": lambda: 2 / (256 + 64),
    # 50 linear layers of width 100, weight variance 0.02: factor (n * s) per layer
    "q4": lambda: (100 * 0.02) ** 50,
    # kaiming_normal_ std for nn.Linear(100, 64): gain sqrt(2), fan_in = 100
    "q7": lambda: math.sqrt(2 / 100),
}

def digest(question: str, text: str) -> str:
    """The salted SHA-256 the key stores for ``text`` in ``question``."""
    return hashlib.sha256(f"{SALT}|{question}|{text}".encode("utf-8")).hexdigest()


def choice_is(question: str, letter: str) -> bool:
    """Whether the normalised ``letter`` is the answer of a single-choice question."""
    return digest(question, letter) == _CHOICE[question]


def option_is_selected(question: str, name: str) -> bool:
    """Whether option ``name`` of a multi-select question belongs to the answer."""
    return digest(question, f"{name}=selected") == _MEMBERSHIP[question][name]


def numeric_value(question: str) -> float:
    """The number a numeric question asks for."""
    return float(_FORMULA[question]())

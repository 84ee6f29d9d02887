"""What counts as a quiz answer "in plain text": every way an answer could be written.

Used to scan the instructor's grader (the key is hashed) and the student
release (which holds no key at all).
"""
from __future__ import annotations

import itertools
import re

import reference.quiz as ref

__all__ = ["forbidden_strings", "leaks"]


def forbidden_strings() -> list[str]:
    out = []
    for q, answer in ref.ANSWERS.items():
        kind = ref.QUESTIONS[q]["kind"]
        if kind == "numeric":
            value = float(answer)
            out += [repr(value), repr(answer), f"{value:.4g}", f"{value:.5g}", f"{value:.6g}",
                    f"{value:.10g}"]
            if value.is_integer():
                out.append(str(int(value)))
        elif kind == "multi_select":
            # the members joined, and as a set or list literal, in every order (a
            # quoted tuple such as torch's list of nonlinearities is not an answer)
            for order in itertools.permutations(sorted(answer)):
                out += [",".join(order), ", ".join(order), " and ".join(order)]
                for quote in ('"', "'"):
                    items = ", ".join(f"{quote}{x}{quote}" for x in order)
                    out += ["{" + items + "}", "[" + items + "]"]
            out.append(repr(answer))
        else:
            out += [f'"{q}": "{answer}"', f"'{q}': '{answer}'", f'{q}="{answer}"']
    return sorted(set(s for s in out if len(s) >= 4))


def leaks(text: str, forbidden: list[str]) -> list[str]:
    found = []
    for s in forbidden:
        pattern = re.escape(s)
        if re.fullmatch(r"[0-9.e+-]+", s):  # a whole number, not part of a longer one
            pattern = r"(?<![0-9.])" + pattern + r"(?![0-9])"
        if re.search(pattern, text):
            found.append(s)
    return found

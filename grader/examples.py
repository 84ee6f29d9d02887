"""Examples drawn once per process and replayed for every later submission.

Grading is deterministic for a seed: a property-based check asks hypothesis
for the same examples, in the same order, for every submission on which the
property holds. Drawing them is most of the grader's own work (about 1 ms of
hypothesis per example, 1,241 examples for a full check), so a process that
grades more than once (``grader batch``'s graders, ``grader watch``) keeps
what it drew here and replays it: the student's function still runs on every
example, in its own worker, exactly as under hypothesis.

A replay that meets a failure does not report it: the check searches again
with hypothesis from the same seed, which reaches the same failure (the calls
before it were the same) and shrinks it, so the message is the one a first
run gives. Only examples on which a property held are kept, and only in the
memory of the grader's own process: nothing of a submission is read.
"""
from __future__ import annotations

__all__ = ["Examples"]


class Examples:
    """The examples drawn so far, by (seed, number of examples, strategy)."""

    def __init__(self) -> None:
        self._drawn: dict[tuple, tuple] = {}

    def get(self, key: tuple) -> tuple | None:
        return self._drawn.get(key)

    def keep(self, key: tuple, examples: tuple) -> None:
        self._drawn[key] = examples

    def __len__(self) -> int:
        return len(self._drawn)

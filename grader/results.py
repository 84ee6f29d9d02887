"""The data model of a grade: frozen dataclasses, and nothing that renders.

Reporters (``grader.reporters``) only format these objects; the JSON report of
SPEC §7 is ``Report.to_dict()``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["STATUSES", "KINDS", "SCHEMA", "CheckResult", "TaskResult", "Report"]

SCHEMA = "grader-report/1"
STATUSES = ("passed", "failed", "not_attempted", "error", "timeout", "skipped")
KINDS = ("statistical", "property", "parity", "unit", "experiment")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: one student function, one property."""

    id: str
    function: str
    kind: str
    status: str
    score: float
    max_score: float
    message: str = ""
    hint: str = ""
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if not 0.0 <= self.score <= self.max_score:
            raise ValueError(f"score {self.score} outside [0, {self.max_score}]")

    @property
    def task(self) -> str:
        return self.id.split(".", 1)[0]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "function": self.function,
            "kind": self.kind,
            "status": self.status,
            "score": round(self.score, 6),
            "max_score": round(self.max_score, 6),
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class TaskResult:
    name: str
    checks: tuple[CheckResult, ...]

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 4)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class Report:
    submission: str
    seed: int
    tasks: tuple[TaskResult, ...]
    duration_s: float
    versions: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tasks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tasks), 4)

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for t in self.tasks for c in t.checks)

    def to_dict(self) -> dict:
        out = {
            "schema": SCHEMA,
            "submission": self.submission,
            "seed": self.seed,
            "score": self.score,
            "max_score": self.max_score,
            "duration_s": round(self.duration_s, 3),
            "versions": dict(self.versions),
            "tasks": [t.to_dict() for t in self.tasks],
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out

"""The data model of a grade: frozen dataclasses, and nothing that renders.

Reporters (``grader.reporters``) only format these objects; the JSON report of
the contract's JSON report is ``Report.to_dict()`` and :func:`report_from_dict` reads it back
(the cache, ``grader merge``). Points are integer units of 0.0001
(``grader.scoring``), so every sum is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from grader.check import KINDS, VISIBILITIES
from grader.scoring import to_points, to_units

__all__ = ["STATUSES", "KINDS", "SCHEMA", "CheckResult", "TaskResult", "Report",
           "report_from_dict", "check_from_dict"]

SCHEMA = "grader-report/1"
STATUSES = ("passed", "failed", "not_attempted", "error", "timeout", "skipped")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: one student function, one property.

    ``message`` says what happened in plain words; ``evidence`` is the
    statistic or bound behind it (one clause); ``output`` is what the student's
    function printed while the check ran (the first lines).
    """

    id: str
    function: str
    kind: str
    status: str
    units: int
    max_units: int
    message: str = ""
    hint: str = ""
    evidence: str = ""
    output: str = ""
    duration_s: float = 0.0
    visibility: str = "visible"
    gated: bool = False
    cached: bool = False
    #: skipped here, graded by the final grader (the quiz in the student release)
    pending: bool = False
    #: the known mistake the check recognised, if any
    mistake: str = ""
    #: a picture's plain data (``grader.check.Figure.to_dict``), for the reports that draw
    figure: dict | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility {self.visibility!r}")
        if not 0 <= self.units <= self.max_units:
            raise ValueError(f"score {self.units} units outside [0, {self.max_units}]")
        if self.units and self.status != "passed":
            raise ValueError(f"{self.id}: only a passed check scores")

    @property
    def task(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def prop(self) -> str:
        return self.id.split(".", 2)[2]

    @property
    def score(self) -> float:
        return to_points(self.units)

    @property
    def max_score(self) -> float:
        return to_points(self.max_units)

    def to_dict(self) -> dict:
        out = {
            "id": self.id,
            "function": self.function,
            "kind": self.kind,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "message": self.message,
            "hint": self.hint,
            "evidence": self.evidence,
        }
        if self.output:
            out["output"] = self.output
        if self.visibility != "visible":
            out["visibility"] = self.visibility
        if self.pending:
            out["pending"] = True
        if self.mistake:
            out["mistake"] = self.mistake
        if self.figure is not None:
            out["figure"] = self.figure
        return out


@dataclass(frozen=True)
class TaskResult:
    name: str
    checks: tuple[CheckResult, ...]

    @property
    def units(self) -> int:
        return sum(c.units for c in self.checks)

    @property
    def max_units(self) -> int:
        return sum(c.max_units for c in self.checks)

    @property
    def score(self) -> float:
        return to_points(self.units)

    @property
    def max_score(self) -> float:
        return to_points(self.max_units)

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
    #: where each module came from when it is not a plain file (a notebook cell)
    sources: dict = field(default_factory=dict)

    @property
    def units(self) -> int:
        return sum(t.units for t in self.tasks)

    @property
    def max_units(self) -> int:
        return sum(t.max_units for t in self.tasks)

    @property
    def score(self) -> float:
        return to_points(self.units)

    @property
    def max_score(self) -> float:
        return to_points(self.max_units)

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for t in self.tasks for c in t.checks)

    @property
    def pending_units(self) -> int:
        """Points of checks skipped here that the final grade will run (the quiz)."""
        return sum(c.max_units for c in self.checks if c.pending)

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
        if self.sources:
            out["sources"] = dict(self.sources)
        return out


def check_from_dict(data: dict) -> CheckResult:
    """Invert :meth:`CheckResult.to_dict` (raises on anything malformed)."""
    return CheckResult(
        id=str(data["id"]), function=str(data["function"]), kind=str(data["kind"]),
        status=str(data["status"]), units=to_units(float(data["score"])),
        max_units=to_units(float(data["max_score"])), message=str(data.get("message", "")),
        hint=str(data.get("hint", "")), evidence=str(data.get("evidence", "")),
        output=str(data.get("output", "")),
        visibility=str(data.get("visibility", "visible")), pending=bool(data.get("pending")),
        mistake=str(data.get("mistake", "")),
        figure=dict(data["figure"]) if isinstance(data.get("figure"), dict) else None)


def report_from_dict(data: dict) -> Report:
    """Invert :meth:`Report.to_dict` (raises on anything malformed)."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"not a {SCHEMA} report")
    tasks = tuple(TaskResult(str(t["name"]), tuple(check_from_dict(c) for c in t["checks"]))
                  for t in data["tasks"])
    return Report(submission=str(data["submission"]), seed=int(data["seed"]), tasks=tasks,
                  duration_s=float(data.get("duration_s", 0.0)),
                  versions=dict(data.get("versions", {})),
                  notes=tuple(str(n) for n in data.get("notes", ())),
                  sources=dict(data.get("sources", {})))

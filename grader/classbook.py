"""What a class's reports add up to: the gradebook, the item analysis, the Canvas file.

Everything here is computed from the per-student outcomes of a batch (or of
several shards, merged), in student order, so that a merge gives exactly
what one run would. The class page (``grader/templates/class.html.j2``) is
rendered from the same numbers.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from grader.cells import text_cell
from grader.contract import POINTS, TASKS
from grader.scoring import to_points

__all__ = ["STATUSES", "Outcome", "status_of", "gradebook_csv", "canvas_csv", "items",
           "items_csv", "class_summary", "CANVAS_COLUMNS"]

#: a student's status in the gradebook
STATUSES = ("graded", "not_a_submission", "nothing_attempted", "import_errors",
            "internal_error", "timeout")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "Section")
#: what the worker says when a module failed, hung or crashed while it was imported
_IMPORT_PROBLEM = re.compile(r"could not be imported|\(importing \w+\.py\)|"
                             r"while importing \w+\.py")


@dataclass(frozen=True)
class Outcome:
    """One student's row: the report (a dict, the JSON report) unless there is none."""

    student: str
    status: str
    report: dict | None = None
    message: str = ""
    duration_s: float = 0.0
    key: str = ""  # what the grade depends on (to skip it on a rerun)
    roster: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"student": self.student, "status": self.status, "message": self.message,
                "duration_s": round(self.duration_s, 3), "key": self.key}


def status_of(report: dict) -> str:
    """graded, nothing_attempted or import_errors, from a report's checks."""
    checks = [c for t in report["tasks"] for c in t["checks"]]
    if checks and all(c["status"] in ("not_attempted", "skipped") for c in checks):
        return "nothing_attempted"
    if any(_IMPORT_PROBLEM.search(c["message"].split("\n", 1)[0]) for c in checks):
        return "import_errors"
    return "graded"


def _task_scores(report: dict | None) -> dict[str, str]:
    if report is None:
        return {}
    return {t["name"]: f"{t['score']:g}" for t in report["tasks"]}


def gradebook_csv(outcomes: list[Outcome], tasks: tuple[str, ...] = TASKS) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", "status", *tasks, "duration_s",
                     "message"])
    for o in sorted(outcomes, key=lambda o: o.student):
        r = o.report
        scores = _task_scores(r)
        writer.writerow([text_cell(o.student), f"{r['score']:g}" if r else "0",
                         f"{r['max_score']:g}" if r else f"{_max(tasks):g}", o.status,
                         *(scores.get(t, "") for t in tasks), f"{o.duration_s:.1f}",
                         text_cell(o.message.split("\n", 1)[0])])
    return buf.getvalue()


def _max(tasks) -> float:
    return to_points(sum(round(p * 10000) for t in tasks for p in POINTS[t].values()))


def canvas_csv(outcomes: list[Outcome], assignment: str, tasks=TASKS) -> str:
    """Canvas' gradebook import: Student, ID, SIS User ID, Section, then the assignment.

    The student column is the submission's name unless a roster maps it; Canvas
    matches rows on ``ID`` or ``SIS User ID``, which only a roster can give.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, text_cell(assignment)])
    writer.writerow(["Points Possible", "", "", "", f"{_max(tasks):g}"])
    for o in sorted(outcomes, key=lambda o: o.student):
        row = [text_cell(o.roster.get(c, o.student if c == "Student" else ""))
               for c in CANVAS_COLUMNS]
        writer.writerow(row + [f"{o.report['score']:g}" if o.report else "0"])
    return buf.getvalue()


@dataclass(frozen=True)
class Item:
    """One check across the class."""

    id: str
    task: str
    function: str
    kind: str
    max_score: float
    students: int
    passed: int
    not_attempted: int
    mean_points: float
    mistakes: dict

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0


def items(outcomes: list[Outcome]) -> list[Item]:
    """Item analysis: every check's pass rate, mean points and named mistakes."""
    rows: dict[str, dict] = {}
    for o in sorted(outcomes, key=lambda o: o.student):
        if o.report is None:
            continue
        for t in o.report["tasks"]:
            for c in t["checks"]:
                row = rows.setdefault(c["id"], {"task": t["name"], "function": c["function"],
                                                "kind": c["kind"], "max": c["max_score"],
                                                "n": 0, "passed": 0, "na": 0, "units": 0,
                                                "mistakes": {}})
                row["n"] += 1
                row["passed"] += c["status"] == "passed"
                row["na"] += c["status"] == "not_attempted"
                row["units"] += round(c["score"] * 10000)
                if c.get("mistake"):
                    row["mistakes"][c["mistake"]] = row["mistakes"].get(c["mistake"], 0) + 1
    return [Item(i, r["task"], r["function"], r["kind"], r["max"], r["n"], r["passed"],
                 r["na"], to_points(round(r["units"] / r["n"])) if r["n"] else 0.0,
                 dict(sorted(r["mistakes"].items(), key=lambda kv: (-kv[1], kv[0]))))
            for i, r in rows.items()]


def items_csv(found: list[Item]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "task", "function", "kind", "max_score", "students", "pass_rate",
                     "mean_points", "not_attempted_share", "named_mistakes"])
    for it in found:
        writer.writerow([it.id, it.task, it.function, it.kind, f"{it.max_score:g}",
                         it.students, f"{it.pass_rate:.3f}", f"{it.mean_points:g}",
                         f"{it.not_attempted / it.students:.3f}" if it.students else "0",
                         "; ".join(f"{name} ({n})" for name, n in it.mistakes.items())])
    return buf.getvalue()


def class_summary(outcomes: list[Outcome], found: list[Item]) -> dict:
    """The numbers of the class page: scores, statuses, rates, the commonest mistakes."""
    graded = [o for o in outcomes if o.report is not None]
    scores = sorted(o.report["score"] for o in graded)
    tasks: dict[str, list[float]] = {}
    for o in graded:
        for t in o.report["tasks"]:
            tasks.setdefault(t["name"], []).append(t["score"] / t["max_score"]
                                                   if t["max_score"] else 0.0)
    statuses = {s: sum(o.status == s for o in outcomes) for s in STATUSES}
    mistakes: dict[tuple[str, str], int] = {}
    for it in found:
        for name, n in it.mistakes.items():
            key = (it.function, name)
            mistakes[key] = max(mistakes.get(key, 0), n)
    top = sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "students": len(outcomes), "graded": len(graded), "scores": scores,
        "mean": sum(scores) / len(scores) if scores else 0.0,
        "median": scores[len(scores) // 2] if scores else 0.0,
        "statuses": statuses,
        "tasks": {name: sum(v) / len(v) for name, v in tasks.items()},
        "items": found,
        "mistakes": [{"function": f, "mistake": m, "students": n} for (f, m), n in top],
    }

"""The re-check cache: equal to a fresh grade, invalidated by every input, never trusted
by the instructor's tools."""
from __future__ import annotations

import json

from conftest import make_submission, run_cli
from grader.cache import CACHE_DIR, Cache, fingerprint
from grader.grading import grade
from grader.runner import RunOptions, versions
from grader.submission import locate
from standin import InProcessPool

TASKS = ("diagnostics", "quiz")


def _grade(path, seed=0, use_cache=True):
    options = RunOptions(seed=seed, tasks=TASKS, jobs=1)
    return grade(locate(str(path)), options, use_cache=use_cache, pool=InProcessPool())


def _verdicts(report):
    return [(c.id, c.status, c.units, c.max_units, c.message, c.hint) for c in report.checks]


def test_cached_results_equal_fresh_ones(tmp_path):
    sub = make_submission(tmp_path / "s", overrides={
        "diagnostics": "def diagnose(grad_norms, ratio=100.0):\n    return 'healthy'\n"})
    fresh = _grade(sub)
    assert not any(c.cached for c in fresh.checks)
    again = _grade(sub)
    assert all(c.cached for c in again.checks)
    assert _verdicts(again) == _verdicts(fresh)
    assert any("from the cache" in n for n in again.notes)
    assert (sub / CACHE_DIR / ".gitignore").read_text() == "*\n"


def test_a_change_in_the_module_the_seed_or_the_grader_invalidates(tmp_path):
    sub = make_submission(tmp_path / "s")
    _grade(sub)
    (sub / "quiz.py").write_text((sub / "quiz.py").read_text() + "\nANSWERS['q1'] = 'a'\n")
    report = _grade(sub)
    by = {c.task: c.cached for c in report.checks}
    assert by == {"diagnostics": True, "quiz": False}  # only the edited module regrades
    assert [t.name for t in report.tasks] == list(TASKS)
    assert _verdicts(report) == _verdicts(_grade(sub, use_cache=False))
    assert any(n.endswith("since the last check): diagnostics") for n in report.notes)
    submission = locate(str(sub))
    a = Cache(submission, fingerprint(), 0, {**versions(), "figures": False})
    b = Cache(submission, "another grader", 0, {**versions(), "figures": False})
    assert a.key("quiz", "q1") != b.key("quiz", "q1")
    assert b.lookup("quiz", "q1") is None and a.lookup("quiz", "q1") is not None
    assert not any(c.cached for c in _grade(sub, seed=1).checks)


def test_malformed_or_tampered_entries_are_ignored(tmp_path):
    sub = make_submission(tmp_path / "s")
    _grade(sub)
    entry = sub / CACHE_DIR / "quiz.q2.json"
    data = json.loads(entry.read_text())
    data["results"][0]["max_score"] = 99.0  # points that do not add up to the function's
    entry.write_text(json.dumps(data))
    (sub / CACHE_DIR / "quiz.q3.json").write_text("{not json")
    report = _grade(sub)
    cached = {c.function: c.cached for c in report.checks if c.task == "quiz"}
    assert cached["q2"] is False and cached["q3"] is False and cached["q1"] is True
    assert report.max_score == 35


def test_no_cache_neither_reads_nor_writes(tmp_path):
    sub = make_submission(tmp_path / "s")
    _grade(sub, use_cache=False)
    assert not (sub / CACHE_DIR).exists()


def test_a_planted_cache_earns_nothing_in_a_batch(tmp_path):
    """A student can compute a valid key for their own submission; the batch never reads it."""
    cls = tmp_path / "class"
    sub = make_submission(cls / "mallory", overrides={
        "quiz": "ANSWERS = dict(ANSWERS)\nANSWERS['q1'] = 'a'\n"})
    planted = make_submission(tmp_path / "honest")
    _grade(planted)  # a cache of full marks for the correct quiz...
    src = planted / CACHE_DIR
    (sub / CACHE_DIR).mkdir()
    for f in src.iterdir():  # ...copied in, with keys recomputed for mallory's own source
        (sub / CACHE_DIR / f.name).write_bytes(f.read_bytes())
    cache = Cache(locate(str(sub)), fingerprint(), 0, {**versions(), "figures": False})
    for f in (sub / CACHE_DIR).glob("quiz.*.json"):
        data = json.loads(f.read_text())
        data["key"] = cache.key("quiz", f.stem.split(".")[1])
        f.write_text(json.dumps(data))
    out = tmp_path / "out"
    proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "students" / "mallory" / "report.json").read_text())
    q1 = next(c for c in report["tasks"][0]["checks"] if c["function"] == "q1")
    assert q1["status"] == "failed" and report["score"] == 13

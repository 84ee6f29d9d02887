"""End to end, as a course would run it: real warm workers, the sandbox, the command line.

The grader must not need the solutions: a copy of the project without
``reference/``, run on an interpreter that cannot find ``reference`` any other
way (``python -S``: no site hooks, so not through the editable install
either), grades the reference's code (copied in as a submission) to full
marks, the stubs to 0, and a broken submission exactly as the in-tree
grader does.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from banks import batchnorm, diagnostics, frameworks, initializers
from conftest import ROOT, STUBS, grade, make_submission


def _record(bank, name):
    return next(r for r in bank if r.name == name)


#: one broken function per task, all in one submission
BROKEN = {"initializers": _record(initializers.BROKEN, "xu_missing_sqrt3").source,
          "batchnorm": _record(batchnorm.BROKEN, "eps_outside_sqrt").source,
          "diagnostics": _record(diagnostics.BROKEN, "dg_inverted").source,
          "frameworks": _record(frameworks.BROKEN, "xavier").source}


def _without_reference(tmp_path: Path) -> Path:
    tree = tmp_path / "project"
    for name in ("grader", "assignment"):
        shutil.copytree(ROOT / name, tree / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".grader-cache"))
    return tree


def _grade_there(tree: Path, submission: Path) -> dict:
    env = {"PYTHONPATH": f"{tree}:{sysconfig.get_paths()['purelib']}", "PATH": "/usr/bin:/bin",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-S", "-m", "grader", "check", str(submission),
                          "--format", "json", "--no-cache"], cwd=tree, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def _verdicts(report) -> dict:
    if isinstance(report, dict):
        return {c["id"]: c["status"] for t in report["tasks"] for c in t["checks"]}
    return {c.id: c.status for c in report.checks}


def test_grader_needs_no_reference(tmp_path):
    tree = _without_reference(tmp_path)
    probe = subprocess.run([sys.executable, "-S", "-c", "import reference"], cwd=tree,
                           env={"PYTHONPATH": f"{tree}:{sysconfig.get_paths()['purelib']}"},
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'reference'" in probe.stderr

    solved = make_submission(tmp_path / "solved")
    report = _grade_there(tree, solved)
    assert report["score"] == 100 and report["max_score"] == 100
    assert set(_verdicts(report).values()) == {"passed"}

    stubs = _grade_there(tree, STUBS)
    assert stubs["score"] == 0 and set(_verdicts(stubs).values()) == {"not_attempted"}
    for t in stubs["tasks"]:
        for c in t["checks"]:
            assert c["message"] and "Traceback" not in c["message"]

    broken = make_submission(tmp_path / "broken", overrides=BROKEN)
    there = _verdicts(_grade_there(tree, broken))
    here = _verdicts(grade(broken))
    assert there == here
    lost = {i.split(".")[1] for i, s in there.items() if s != "passed"}
    assert lost == {"xavier_uniform", "batchnorm_forward", "diagnose", "build_torch_model"}


def test_no_grader_module_imports_the_solutions():
    import ast

    for path in (ROOT / "grader").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "reference" or n.startswith("reference.") for n in names), path


def test_no_grader_module_outside_the_batteries_names_a_task():
    for name in ("runner.py", "gates.py", "cli.py", "grading.py", "workers.py"):
        text = (ROOT / "grader" / name).read_text(encoding="utf-8")
        assert "task ==" not in text and "task !=" not in text, name

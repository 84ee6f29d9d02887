"""The student release: everything a student needs, nothing of the solutions.

The release is built, installed into a fresh virtual environment that has
only the release (the pinned CPU frameworks come from the project's
environment, to save time), and grades its own stubs to 0, the reference's
code to full marks but the quiz (which waits for submission), and a broken
submission as the instructor's grader does.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from banks import initializers
from conftest import REFERENCE, ROOT, make_submission, run_cli
from leaks import forbidden_strings, leaks

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the fresh environment borrows this one's packages")


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student"
    proc = run_cli("release", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def _bodies(path: Path) -> set[str]:
    """The AST of every function body of a file (docstrings and trivial bodies left out)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            if len(body) >= 1 and not (len(body) == 1 and isinstance(
                    body[0], (ast.Raise, ast.Pass, ast.Return)) and len(ast.dump(body[0])) < 200):
                out.add(ast.dump(ast.Module(body=body, type_ignores=[])))
    return out


def test_the_release_holds_what_a_student_needs(release):
    names = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    for needed in ("README.md", "HANDOUT.md", "CONTRACT.md", "grade.py", "pyproject.toml",
                   "assignment.ipynb", "assignment/initializers.py", "assignment/quiz.py",
                   "grader/cli.py", "grader/checks/initializers/random_laws.py",
                   "grader/templates/report.html.j2"):
        assert needed in names, needed
    for absent in ("grader/quiz_key.py", "grader/release.py", "grader/export.py",
                   "grader/docs.py", "grader/batch.py"):
        assert absent not in names, absent
    assert not any(n.startswith(("reference/", "tests/", "examples/", "bench/")) for n in names)


def test_no_function_body_of_the_solutions_appears_in_the_release(release):
    solutions = set()
    for path in REFERENCE.glob("*.py"):
        solutions |= _bodies(path)
    assert solutions
    for path in release.rglob("*.py"):
        shared = _bodies(path) & solutions
        assert not shared, f"{path.relative_to(release)} holds a body of reference/"


def test_no_quiz_answer_in_any_form(release):
    forbidden = forbidden_strings()
    for path in release.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not leaks(text, forbidden), path.relative_to(release)
            assert "_MEMBERSHIP" not in text and "SALT" not in text, path
    assert not list(release.rglob("quiz_key*"))


def _fresh_environment(tmp_path: Path, release: Path) -> Path:
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", str(release)], check=True,
                   capture_output=True)
    return python


def _grade(python: Path, release: Path, submission: Path) -> dict:
    out = subprocess.run([str(python), "-m", "grader", "check", str(submission), "--format",
                          "json", "--no-cache"], cwd=release, capture_output=True, text=True,
                         timeout=900, env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_the_release_grades_in_a_fresh_environment(tmp_path, release):
    python = _fresh_environment(tmp_path, release)
    probe = subprocess.run([str(python), "-c", "import grader, sys; print(grader.__file__); "
                            "import importlib.util as u; print(u.find_spec('reference'))"],
                           capture_output=True, text=True, cwd=tmp_path)
    where, ref = probe.stdout.split()
    assert str(tmp_path / "env") in where and ref == "None"

    stubs = _grade(python, release, release / "assignment")
    assert stubs["score"] == 0
    statuses = {c["status"] for t in stubs["tasks"] for c in t["checks"]}
    assert statuses == {"not_attempted"}

    solved = make_submission(tmp_path / "solved")
    report = _grade(python, release, solved)
    by_task = {t["name"]: t for t in report["tasks"]}
    assert report["score"] == 85 and report["max_score"] == 100
    quiz = by_task["quiz"]["checks"]
    assert all(c["status"] == "skipped" and c.get("pending") for c in quiz)
    assert all("graded when you submit" in c["message"] for c in quiz)
    others = [c for t in report["tasks"] if t["name"] != "quiz" for c in t["checks"]]
    assert {c["status"] for c in others} == {"passed"}

    record = next(r for r in initializers.BROKEN if r.name == "xu_missing_sqrt3")
    broken = make_submission(tmp_path / "broken", overrides={"initializers": record.source})
    there = _grade(python, release, broken)
    lost = {c["function"] for t in there["tasks"] for c in t["checks"]
            if c["status"] not in ("passed", "skipped")}
    assert lost == {"xavier_uniform"}


def test_local_equals_final_for_correct_work(release):
    """The release runs exactly the instructor's public checks."""
    from grader.checks import batteries

    ids = sorted(c.id for b in batteries() for c in b.checks)
    sys.path.insert(0, str(release))
    try:
        out = subprocess.run([sys.executable, "-c", (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from grader.checks import batteries; "
            "print('\\n'.join(sorted(c.id for b in batteries() for c in b.checks)))"),
            str(release)], capture_output=True, text=True, cwd=release, check=True)
    finally:
        sys.path.remove(str(release))
    assert out.stdout.split() == ids


def test_release_refuses_to_overwrite(tmp_path, release):
    out = run_cli("release", "--out", str(release))
    assert out.returncode == 2 and "exists" in out.stderr
    assert ROOT.joinpath("handout", "CONTRACT.md").exists()

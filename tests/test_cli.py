"""The command line: options, formats and every documented exit code, run as a user would."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import REFERENCE, ROOT, STUBS, grade_cli, make_submission, run_cli


def test_help_documents_exit_codes():
    out = run_cli("check", "--help")
    assert out.returncode == 0
    for code in ("0    graded", "1    graded", "2    could not grade", "3    internal error",
                 "130  interrupted"):
        assert code in out.stdout


@pytest.mark.parametrize("args, needle", [
    (["check", "NOPE"], "no such file or directory"),
    (["check", "--task", "nope"], "invalid choice"),
    (["check", str(REFERENCE), "--jobs", "0"], "--jobs must be at least 1"),
    (["check", str(REFERENCE), "--seed", "-1"], "must be between 0 and 2**63 - 1"),
    (["check", str(REFERENCE), "--seed", "x"], "is not an integer"),
    (["check", str(REFERENCE), "--timeout", "0"], "--timeout must be positive"),
    (["check", str(REFERENCE), "--memory-mb", "1"], "--memory-mb must be 0"),
    (["check", str(REFERENCE), "--function", "softmax"], "no such function"),
    (["check", str(REFERENCE), "--format", "json", "--format", "html", "--output", "x"],
     "--output takes one format"),
    (["check", str(REFERENCE), "--extra-checks", "missing.py"], "no such Python file"),
])
def test_bad_input_exits_2_with_one_line(args, needle):
    out = run_cli(*args)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 3


_TOO_MANY = """
from grader.battery import Battery
from grader.check import Check


def _ok(student, rng):
    return ""


BATTERY = Battery("quiz", tuple(Check(f"quiz.q1.extra{i}", "unit", _ok) for i in range(40)))
"""


@pytest.mark.parametrize("command", [["check", str(REFERENCE), "--task", "quiz"],
                                     ["export", "gradescope", "--out", "bundle.zip"]])
@pytest.mark.parametrize("source, needle", [
    ('raise RuntimeError("oops")\n', "RuntimeError: oops"),
    ("X = 1\n", "defines no BATTERY"),
    (_TOO_MANY, "quiz.q1 has 41 checks that carry a weight but only 32 sixteenths"),
])
def test_extra_checks_that_cannot_grade_are_refused_before_grading(tmp_path, command, source,
                                                                   needle):
    """Not first on Gradescope, where every submission would pay for the instructor's file."""
    checks = tmp_path / "hidden.py"
    checks.write_text(source)
    out = run_cli(*command, "--extra-checks", str(checks), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "bundle.zip").exists()


def test_not_a_submission_suggests_where_the_modules_are(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    out = run_cli("check", str(tmp_path))
    assert out.returncode == 2 and "not a submission" in out.stderr
    nested = tmp_path / "work"
    make_submission(nested / "a" / "b" / "c")
    out = run_cli("check", str(nested))
    assert out.returncode == 2 and "Found them in" in out.stderr


def test_the_wrong_folder_suggests_grader_check_dot(tmp_path):
    make_submission(tmp_path)
    out = run_cli("check", cwd=tmp_path)  # default: ./assignment, which does not exist
    assert out.returncode == 2
    assert "grader check ." in out.stderr


def test_a_file_is_not_a_submission(tmp_path):
    f = tmp_path / "initializers.py"
    f.write_text("")
    out = run_cli("check", str(f))
    assert out.returncode == 2 and "is not a folder" in out.stderr


def test_default_grades_the_shipped_stubs_to_zero():
    out = run_cli("check", "--task", "quiz", "--format", "json", "--no-cache")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["submission"] == "assignment" and report["score"] == 0
    assert {c["status"] for t in report["tasks"] for c in t["checks"]} == {"not_attempted"}


def test_json_report_follows_the_schema():
    out = run_cli("check", str(REFERENCE), "--task", "diagnostics", "--task", "quiz",
                  "--format", "json", "--seed", "5", "--no-cache")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["schema"] == "grader-report/1" and report["seed"] == 5
    assert set(report) >= {"submission", "score", "max_score", "duration_s", "versions", "tasks"}
    assert set(report["versions"]) >= {"python", "numpy", "torch", "tensorflow", "scipy",
                                       "hypothesis"}
    assert [t["name"] for t in report["tasks"]] == ["diagnostics", "quiz"]
    units = 0
    for task in report["tasks"]:
        task_units = sum(round(c["score"] * 10000) for c in task["checks"])
        assert task_units == round(task["score"] * 10000)
        units += task_units
        for c in task["checks"]:
            assert set(c) >= {"id", "function", "kind", "status", "score", "max_score",
                              "message", "hint"}
            assert c["id"].startswith(f"{task['name']}.{c['function']}.")
            assert c["kind"] in ("statistical", "property", "parity", "unit", "experiment")
            assert abs(c["max_score"] * 10000 - round(c["max_score"] * 10000)) < 1e-6
    assert units == round(report["score"] * 10000) == 35 * 10000


def test_fail_under_and_output_file(tmp_path):
    target = tmp_path / "report.json"
    out = run_cli("check", str(STUBS), "--task", "quiz", "--format", "json", "--output",
                  str(target), "--fail-under", "1")
    assert out.returncode == 1
    assert json.loads(target.read_text())["score"] == 0
    assert run_cli("check", str(REFERENCE), "--task", "quiz", "--fail-under", "1",
                   "--quiet").returncode == 0


def test_unwritable_output_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = run_cli("check", str(REFERENCE), "--task", "quiz", "--output",
                  str(blocker / "r.json"))
    assert out.returncode == 2 and "cannot write" in out.stderr
    out = run_cli("check", str(REFERENCE), "--task", "quiz", "--format", "json",
                  "--output-dir", str(blocker))
    assert out.returncode == 2 and "cannot write" in out.stderr


def test_output_dir_writes_one_file_per_format(tmp_path):
    out = run_cli("check", str(REFERENCE), "--task", "quiz", "--format", "json",
                  "--format", "junit", "--format", "markdown", "--output-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "report.json").read_text())["score"] == 15
    assert ET.fromstring((tmp_path / "junit.xml").read_text()).tag == "testsuites"
    assert (tmp_path / "report.md").read_text().startswith("## Score: 15 / 15")


def test_an_internal_error_exits_3_and_says_what_was_graded(tmp_path):
    extra = tmp_path / "bad_checks.py"
    extra.write_text(
        "from grader.battery import Battery\n"
        "from grader.check import Check\n"
        "def _explode(student, rng):\n"
        "    student.value()\n"
        "    raise RuntimeError('a bug in an instructor check')\n"
        "BATTERY = Battery('quiz', (Check('quiz.q7.boom', 'unit', _explode),))\n")
    out = run_cli("check", str(REFERENCE), "--task", "quiz", "--extra-checks", str(extra),
                  "--jobs", "1")
    assert out.returncode == 3, out.stderr
    assert "internal error, not caused by the submission" in out.stderr
    assert "graded before the error" in out.stderr and "Traceback" not in out.stderr


def test_an_integrity_violation_exits_3(tmp_path):
    """A file of the grader written while grading (here by an instructor's check, in the
    grader's own process) makes the grade untrustworthy."""
    planted = ROOT / "grader" / "planted_by_a_test.txt"
    extra = tmp_path / "writer.py"
    extra.write_text(
        "from pathlib import Path\n"
        "from grader.battery import Battery\n"
        "from grader.check import Check\n"
        f"def _write(student, rng):\n    Path({str(planted)!r}).write_text('x = 1')\n"
        "    return ''\n"
        "BATTERY = Battery('quiz', (Check('quiz.q7.writes', 'unit', _write),))\n")
    try:
        out = run_cli("check", str(REFERENCE), "--task", "quiz", "--extra-checks", str(extra))
    finally:
        planted.unlink(missing_ok=True)
    assert out.returncode == 3, out.stderr
    assert "INTEGRITY VIOLATION" in out.stderr and "planted_by_a_test.txt" in out.stderr


def test_text_report_names_functions_and_score():
    out = run_cli("check", str(STUBS), "--task", "quiz", "--no-cache")
    assert out.returncode == 0
    assert "not attempted" in out.stdout and "q3" in out.stdout
    assert "Score: 0 / 15" in out.stdout and "Traceback" not in out.stdout + out.stderr


@pytest.mark.parametrize("fmt", ["junit", "csv", "gradescope", "classroom", "markdown"])
def test_other_formats(tmp_path, fmt):
    sub = make_submission(tmp_path / "s", overrides={
        "quiz": "ANSWERS = dict(ANSWERS)\nANSWERS['q1'] = 'a'\n"})
    out = run_cli("check", str(sub), "--task", "quiz", "--format", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "junit":
        cases = ET.fromstring(out.stdout).findall(".//testcase")
        assert cases and any(c.find("failure") is not None for c in cases)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        assert rows and {r["status"] for r in rows} >= {"passed", "failed"}
    elif fmt in ("gradescope", "classroom"):
        data = json.loads(out.stdout)
        assert all("max_score" in t for t in data["tests"])
    else:
        assert "### What to fix" in out.stdout


def test_python_dash_m_and_console_script_agree():
    exe = ROOT / ".venv" / "bin" / "grader"
    if not exe.exists():
        pytest.skip("console script not installed in .venv")
    import subprocess

    out = subprocess.run([str(exe), "check", str(REFERENCE), "--task", "quiz", "--format",
                          "json"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0 and json.loads(out.stdout)["schema"] == "grader-report/1"


def test_a_module_saved_by_windows_notepad_scores_as_it_imports(tmp_path):
    """A byte-order mark and CRLF newlines: Python imports the module, and the checks
    that read its source (the NumPy-only rule) read it as Python does."""
    sub = make_submission(tmp_path / "sub")
    for task in ("batchnorm", "diagnostics"):
        text = (sub / f"{task}.py").read_text(encoding="utf-8").replace("\n", "\r\n")
        (sub / f"{task}.py").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = grade_cli(sub, "--task", "batchnorm", "--task", "diagnostics")
    assert report["score"] == report["max_score"], [
        (c["id"], c["message"][:80]) for t in report["tasks"] for c in t["checks"]
        if c["status"] != "passed"]


def test_input_breakpoint_a_missing_library_and_a_new_signature_get_a_hint_naming_them(
        tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={"diagnostics": (
        "_diagnose, _clip = diagnose, clip_by_global_norm\n"
        "def diagnose(grad_norms, ratio=100.0):\n"
        "    input('continue? ')\n"
        "    return _diagnose(grad_norms, ratio)\n"
        "def clip_by_global_norm(grads, max_norm):\n"
        "    breakpoint()\n"
        "    return _clip(grads, max_norm)\n"
        "def relative_error(a, b, eps):\n"  # a parameter the stub does not have
        "    return 0.0\n"), "quiz": "name = input('your name: ')\n",
        "batchnorm": "import seaborn_of_the_student.style\n"})
    proc = run_cli("check", str(sub), "--format", "json", "--no-cache", "--task", "diagnostics",
                   "--task", "quiz", "--task", "batchnorm")
    assert proc.returncode == 0, proc.stderr[-3000:]
    hints = {}
    for t in json.loads(proc.stdout)["tasks"]:
        for c in t["checks"]:
            if c["status"] != "passed":
                hints.setdefault(c["function"], set()).add(c["hint"])
    assert {f: len(h) for f, h in hints.items()} == {
        "diagnose": 1, "clip_by_global_norm": 1, "batchnorm_forward": 1, "batchnorm_backward": 1,
        "relative_error": 1,
        **{f"q{i}": 1 for i in range(1, 8)}}
    assert "seaborn_of_the_student is none of them" in hints["batchnorm_forward"].pop()
    assert "relative_error's parameters must stay as the stub has them" in \
        hints["relative_error"].pop()
    assert hints["diagnose"] == hints["q1"] and "take the input() calls out" in \
        hints["diagnose"].pop()
    assert "breakpoint() or pdb.set_trace()" in hints["clip_by_global_norm"].pop()


def test_a_zipped_submission_is_graded(tmp_path):
    import zipfile

    sub = make_submission(tmp_path / "hw3")
    archive = tmp_path / "hw3.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sub.iterdir():
            zf.write(p, f"my_submission/hw3/{p.name}")
    out = run_cli("check", str(archive), "--task", "quiz", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["score"] == 15


def test_a_zip_writes_nothing_outside_its_folder(tmp_path):
    import zipfile

    from grader.inputs import unpack_zip

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("../up.py", "/abs.py", "a/../../up2.py", "C:/drive.py", "D:rel.py",
                     "..\\back.py", "sub/initializers.py"):
            zf.writestr(name, "x = 1\n")
        link = zipfile.ZipInfo("sub/link.py")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    into = tmp_path / "into"
    into.mkdir()
    unpack_zip(archive, into)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "evil.zip", "into", "into/sub", "into/sub/initializers.py"]


def _interrupt(tmp_path, *args) -> subprocess.CompletedProcess:
    """Run ``python -m grader ARGS`` on a class whose frameworks.py hangs, then press Ctrl-C."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # as in a terminal: a test run started in the background (nohup, `&`) ignores SIGINT,
    # and a child would inherit that
    proc = subprocess.Popen([sys.executable, "-m", "grader", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(8)  # well into grading: the hung import is being waited for
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _hung(directory):
    sub = make_submission(directory)
    with open(sub / "frameworks.py", "a", encoding="utf-8") as fh:
        fh.write("\nimport time\ntime.sleep(10 ** 6)\n")
    return sub


def test_ctrl_c_stops_a_check_with_exit_130(tmp_path):
    sub = _hung(tmp_path / "sub")
    out = _interrupt(tmp_path, "check", str(sub), "--no-cache", "--task", "frameworks")
    assert out.returncode == 130, out.stderr
    assert out.stderr.strip().endswith("grader: interrupted")
    assert "Traceback" not in out.stderr


def test_ctrl_c_stops_a_batch_with_exit_130_and_a_consistent_gradebook(tmp_path):
    cls = tmp_path / "class"
    _hung(cls / "ann")
    _hung(cls / "bob")
    out_dir = tmp_path / "out"
    out = _interrupt(tmp_path, "batch", str(cls), "--output-dir", str(out_dir), "--task",
                     "frameworks", "--jobs", "1")
    assert out.returncode == 130, out.stderr
    assert "run the same command again to finish" in out.stderr
    rows = list(csv.DictReader(io.StringIO((out_dir / "gradebook.csv").read_text())))
    assert rows == []  # nobody finished; the file is whole, with its header
    assert "Traceback" not in out.stderr


def test_the_program_runs_exit_handlers_and_keeps_its_exit_code():
    """The ``grader`` program skips the interpreter's teardown, not the exit handlers."""
    code = ("import atexit, sys; from grader.cli import console; "
            "atexit.register(lambda: print('exit handler ran', flush=True)); "
            "sys.argv = ['grader', 'check', 'no/such/folder']; console()")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.strip() == "exit handler ran"
    assert "no such file or directory" in proc.stderr


def test_under_a_profiler_the_program_exits_normally(tmp_path):
    """A profiler (or a coverage tool) writes its data at the normal exit."""
    out = tmp_path / "grader.prof"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "grader",
                           "check", "no/such/folder"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert "no such file or directory" in proc.stderr  # (cProfile drops the exit code)
    assert out.stat().st_size > 0


def test_a_task_alone_is_graded_as_in_a_full_check(tmp_path):
    """A grade depends on the submission and the seed only: ``--task`` loads fewer of the
    grader's modules than a full check, and once changed the examples (Hypothesis drew
    literals from their source; for this record, ``clip_by_global_norm.values`` failed in a
    full check and passed alone). Nothing is written to the folder the grader runs in."""
    from banks import diagnostics

    record = next(b for b in diagnostics.BROKEN if b.name == "cb_returns_inputs_unclipped")
    sub = make_submission(tmp_path / "sub", {"diagnostics": record.source})
    here = tmp_path / "here"
    here.mkdir()
    reports = []
    for selection in (("--task", "diagnostics"), ()):
        proc = run_cli("check", str(sub), "--no-cache", "--format", "json", *selection,
                       cwd=here)
        assert proc.returncode == 0, proc.stderr[-3000:]
        task = next(t for t in json.loads(proc.stdout)["tasks"] if t["name"] == "diagnostics")
        reports.append([(c["id"], c["status"], c["score"], c["message"]) for c in task["checks"]])
    alone, full = reports
    assert alone == full
    assert list(here.iterdir()) == []

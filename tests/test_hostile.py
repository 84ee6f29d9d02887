"""Hostile and broken submissions cost their own points and nothing else.

Each case plants one misbehaviour in a copy of the reference and checks that
the batch completes, the offending function (or module, for misbehaviour at
import) earns nothing, every other function keeps its points, no file outside
the worker's scratch directory changes and no process is left behind.
"""
from __future__ import annotations

import os
import sys
import time

import pytest

from conftest import grade, lost, make_submission
from grader import integrity
from grader.sandbox import detect_isolation

SANDBOXED = detect_isolation().name == "bubblewrap"
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason="bubblewrap sandbox not available")
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX process limits")

FAST = {"call_timeout_s": 3.0, "start_timeout_s": 30.0}
SIG = "def diagnose(grad_norms, ratio=100.0):\n"

CASES = {
    "infinite_loop": ("diagnostics", SIG + "    while True:\n        pass\n", "diagnose",
                      {"timeout"}),
    "memory_bomb": ("diagnostics", SIG + "    blocks = []\n    while True:\n"
                    "        blocks.append(bytearray(10**8))\n", "diagnose", {"error", "timeout"}),
    "os_exit": ("diagnostics", SIG + "    import os\n    os._exit(3)\n", "diagnose", {"error"}),
    "segfault": ("diagnostics", SIG + "    import ctypes\n    ctypes.string_at(0)\n",
                 "diagnose", {"error"}),
    "sys_exit_in_call": ("diagnostics", SIG + "    import sys\n    sys.exit(0)\n", "diagnose",
                         {"error"}),
    "stdout_flood": ("diagnostics", SIG + "    print('x' * 50_000_000)\n    return 'healthy'\n",
                     "diagnose", {"error"}),
    "huge_request": ("diagnostics", "def relative_error(a, b):\n    import numpy as np\n"
                     "    return float(np.ones(10**9).sum())\n", "relative_error", {"error"}),
    "huge_return": ("diagnostics", "def relative_error(a, b):\n    import numpy as np\n"
                    "    return np.zeros(5 * 10**7)\n", "relative_error", {"error", "failed"}),
    "wrong_types": ("diagnostics", "def relative_error(a, b):\n    return [0.0]\n",
                    "relative_error", {"failed"}),
    "nan_arrays": ("batchnorm", "import numpy as _np\n"
                   "def batchnorm_backward(dout, x, gamma, eps=1e-5):\n"
                   "    n = _np.full(_np.shape(x), _np.nan)\n"
                   "    return n, _np.full(_np.shape(gamma), _np.nan), _np.full(_np.shape(gamma), _np.nan)\n",
                   "batchnorm_backward", {"failed"}),
    "evil_pickle": ("diagnostics", "class _Evil:\n    def __reduce__(self):\n"
                    "        return (open, ('/tmp/grader-pwned', 'w'))\n"
                    "def relative_error(a, b):\n    return _Evil()\n", "relative_error", {"failed"}),
    "patch_grader_in_call": ("diagnostics", SIG +
                             "    import grader.wire as w\n    w.encode = lambda v, **k: 'healthy'\n"
                             "    return 'healthy'\n", "diagnose", {"error"}),
}


def _stray_sleepers(marker: str) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        pids.append(int(pid))
            except OSError:
                pass
    return pids


def _assert_contained(report, task, function, statuses):
    losses = lost(report)
    assert set(losses) == {function}, losses
    own = [c for c in report.checks if c.function == function]
    assert own and all(c.status in statuses and c.score == 0 for c in own), \
        [(c.id, c.status, c.message[:80]) for c in own]
    for c in own:  # a message, and no frame of the grader's own code in it
        assert c.message
        assert not [line for line in c.message.splitlines()
                    if line.lstrip().startswith('File "') and "grader" in line]


@posix_only
@pytest.mark.parametrize("name", sorted(CASES))
def test_misbehaving_function_costs_only_its_points(tmp_path, name):
    task, source, function, statuses = CASES[name]
    sub = make_submission(tmp_path / "sub", overrides={task: source})
    before = integrity.snapshot()
    t0 = time.monotonic()
    report = grade(sub, tasks=(task,), **FAST)
    assert time.monotonic() - t0 < 600  # the batch completes
    _assert_contained(report, task, function, statuses)
    assert integrity.changes(before, integrity.snapshot()) == []
    assert not os.path.exists("/tmp/grader-pwned")


@posix_only
def test_sys_exit_at_import_costs_that_module_only(tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={"diagnostics": "import sys\nsys.exit(0)\n"})
    report = grade(sub, tasks=("diagnostics", "batchnorm"), **FAST)
    for c in report.checks:
        if c.task == "diagnostics":
            assert c.status == "error" and "SystemExit" in c.message
        else:
            assert c.status == "passed", c


@posix_only
def test_infinite_loop_at_import_is_waited_for_once(tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={"diagnostics": "while True:\n    pass\n"})
    t0 = time.monotonic()
    report = grade(sub, tasks=("diagnostics",), call_timeout_s=3.0, start_timeout_s=5.0)
    assert {c.status for c in report.checks} == {"timeout"}
    # six functions, one import verdict: far less than six waits of 5 s plus slack
    assert time.monotonic() - t0 < 6 * 5.0


@posix_only
def test_monkeypatching_numpy_at_import_costs_that_module(tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={
        "diagnostics": "import numpy as _np\n_np.allclose = lambda *a, **k: True\n"
                       "_np.array_equal = lambda *a, **k: True\n"})
    report = grade(sub, tasks=("diagnostics", "batchnorm"), **FAST)
    for c in report.checks:
        if c.task == "diagnostics":
            assert c.status == "error" and "numpy.allclose" in c.message
        else:
            assert c.status == "passed", c


@posix_only
def test_overwriting_the_grader_in_the_worker_changes_nothing(tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={"quiz": (
        "import grader.runner, grader.results\n"
        "grader.runner._result = lambda *a, **k: None\n"
        "grader.results.Report.score = property(lambda self: 100.0)\n")})
    report = grade(sub, tasks=("quiz", "diagnostics"), **FAST)
    for c in report.checks:
        if c.task == "quiz":
            assert c.status == "error" and "imported the grader" in c.message
        else:
            assert c.status == "passed", c


@posix_only
@pytest.mark.parametrize("sandbox", ["auto", "off"])
def test_background_process_is_not_left_behind(tmp_path, monkeypatch, sandbox):
    monkeypatch.setenv("GRADER_SANDBOX", sandbox)
    marker = f"{4000 + os.getpid() % 1000}.25"
    source = SIG + (
        "    import os\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            os.execvp('sleep', ['sleep', '{marker}'])\n"
        "        os._exit(0)\n"
        "    os.wait()\n"
        "    return 'healthy'\n")
    sub = make_submission(tmp_path / "sub", overrides={"diagnostics": source})
    report = grade(sub, tasks=("diagnostics",), **FAST)
    assert "diagnose" in lost(report)
    time.sleep(0.5)
    assert _stray_sleepers(marker) == []


@needs_sandbox
@pytest.mark.parametrize("target", ["grader", "reference", "other"])
def test_writes_outside_the_scratch_directory_fail(tmp_path, target):
    from conftest import ROOT
    other = make_submission(tmp_path / "other_student")
    victim = {"grader": ROOT / "grader" / "results.py",
              "reference": ROOT / "reference" / "__pycache__" / "initializers.cpython-311.pyc",
              "other": other / "initializers.py"}[target]
    before = victim.read_bytes() if victim.exists() else None
    source = SIG + (f"    with open({str(victim)!r}, 'wb') as fh:\n"
                    "        fh.write(b'owned')\n    return 'healthy'\n")
    sub = make_submission(tmp_path / "sub", overrides={"diagnostics": source})
    guard = integrity.snapshot()
    report = grade(sub, tasks=("diagnostics",), **FAST)
    assert (victim.read_bytes() if victim.exists() else None) == before
    assert integrity.changes(guard, integrity.snapshot()) == []
    _assert_contained(report, "diagnostics", "diagnose", {"error"})


@needs_sandbox
def test_no_network_in_the_sandbox(tmp_path):
    source = SIG + ("    import socket\n    s = socket.socket()\n    s.settimeout(2)\n"
                    "    s.connect(('127.0.0.1', 9))\n    return 'healthy'\n")
    sub = make_submission(tmp_path / "sub", overrides={"diagnostics": source})
    report = grade(sub, tasks=("diagnostics",), **FAST)
    _assert_contained(report, "diagnostics", "diagnose", {"error"})


def test_sandbox_can_be_turned_off_and_the_report_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX", "off")
    report = grade(make_submission(tmp_path / "sub"), tasks=("diagnostics",))
    assert any("sandbox is off" in note for note in report.notes)
    assert report.score == pytest.approx(report.max_score)

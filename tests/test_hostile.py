"""Hostile and broken submissions cost their own points and nothing else.

One class folder holds one submission per misbehaviour, each a copy of the
reference with one function (or one module, for misbehaviour at import)
replaced; one ``grader batch`` grades them all through the real warm workers
and the sandbox. Each offending function (or module) earns nothing, every
other function keeps its points, no file outside the workers' scratch
directories changes, nothing is left running, and the batch goes on.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, make_submission, run_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the warm, sandboxed workers are Linux's")

SIG = "def diagnose(grad_norms, ratio=100.0):\n"
MARKER = f"{4000 + os.getpid() % 1000}.25"
PWNED = "/tmp/grader-pwned"


def _forging(head: bytes) -> str:
    """A relative_error that writes the frame of JSON ``head`` to every descriptor it can."""
    return ("def relative_error(a, b):\n    import os, struct\n"
            f"    head = {head!r}\n"
            "    body = struct.pack('>Q', len(head)) + head\n"
            "    for fd in range(3, 12):\n"
            "        try:\n"
            "            os.write(fd, struct.pack('>Q', len(body)) + body)\n"
            "        except OSError:\n"
            "            pass\n"
            "    return 0.0\n")


def _copying(path: str) -> str:
    """A relative_error that runs the one of the file at ``path`` (a Python expression)."""
    return ("def relative_error(a, b):\n    import os\n    space = {}\n"
            f"    with open({path}) as fh:\n"
            "        exec(compile(fh.read(), 'copied', 'exec'), space)\n"
            "    return space['relative_error'](a, b)\n")


#: finds the grader's own answer for ``name`` anywhere in the process: a module of the
#: grader's that defines it, or any function object of the grader's of that name
_SEEK = ("_found = {}\n\n\n"
         "def _seek(name):\n"
         "    import gc, sys\n"
         "    if name not in _found:\n"
         "        hits = [getattr(m, name) for m in list(sys.modules.values())\n"
         "                if str(getattr(m, '__name__', '')).startswith('grader')\n"
         "                and callable(getattr(m, name, None))]\n"
         "        hits += [o for o in gc.get_objects() if callable(o)\n"
         "                 and getattr(o, '__name__', '') == name\n"
         "                 and str(getattr(o, '__module__', '')).startswith('grader')]\n"
         "        if not hits:\n"
         "            raise LookupError('no answer for ' + name + ' in this process')\n"
         "        _found[name] = hits[0]\n"
         "    return _found[name]\n\n\n")

# name -> (task, source, the function that must lose, its allowed statuses)
CASES = {
    # the graded function calls the grader's own oracle of it, or the exact gradient the
    # grader compares with, found in the worker's memory: none is there to find
    "calls_its_own_oracle": ("batchnorm", _SEEK + (
        "def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,\n"
        "                      momentum=0.1, eps=1e-5, unbiased_running_var=True):\n"
        "    return _seek('batchnorm_forward')(x, gamma, beta, running_mean, running_var,\n"
        "                                      training, momentum, eps, unbiased_running_var)\n"),
        "batchnorm_forward", {"error"}),
    # ... or asks the grader for it, with a question of its own on the worker's socket
    "asks_the_grader_for_itself": ("batchnorm", (
        "def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,\n"
        "                      momentum=0.1, eps=1e-5, unbiased_running_var=True):\n"
        "    import os, stat, sys\n"
        "    wire = sys.modules['grader.wire']\n"
        "    question = {'status': 'helper', 'name': 'batchnorm_forward', 'kwargs': {},\n"
        "                'args': [x, gamma, beta, running_mean, running_var, training,\n"
        "                         momentum, eps, unbiased_running_var]}\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            if not stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
        "                continue\n"
        "        except OSError:\n"
        "            continue\n"
        "        os.write(fd, wire.frame(question))\n"
        "        answer = wire.read_frame(os.fdopen(os.dup(fd), 'rb', buffering=0))\n"
        "        if answer.get('status') == 'ok':\n"
        "            return answer['value']\n"
        "        raise RuntimeError('no answer for it: ' + str(answer.get('message')))\n"
        "    raise LookupError('no answer for it: no socket')\n"),
        "batchnorm_forward", {"error"}),
    "looks_up_the_exact_gradient": ("diagnostics", _SEEK + (
        "def numerical_gradient(f, x, h=1e-5):\n"
        "    cells = [c.cell_contents for c in f.__closure__]\n"
        "    function = next(c for c in cells if callable(c))\n"
        "    params = next((c for c in cells if isinstance(c, dict)), {})\n"
        "    return _seek(function.__name__ + '_grad')(x, **params)\n"),
        "numerical_gradient", {"error"}),
    "infinite_loop": ("diagnostics", SIG + "    while True:\n        pass\n", "diagnose",
                      {"timeout"}),
    "memory_bomb": ("diagnostics", SIG + "    blocks = []\n    while True:\n"
                    "        blocks.append(bytearray(10**8))\n", "diagnose", {"error", "timeout"}),
    "os_exit": ("diagnostics", SIG + "    import os\n    os._exit(3)\n", "diagnose", {"error"}),
    # NumPy patched with a stand-in that answers as the original and says it equals
    # anything: the guard compares by identity, so it is caught all the same
    "patch_with_a_liar": ("diagnostics", "_honest = diagnose\n\n\nclass _Liar:\n"
                          "    def __init__(self, f):\n        self.f = f\n\n"
                          "    def __call__(self, *a, **k):\n        return self.f(*a, **k)\n\n"
                          "    def __eq__(self, other):\n        return True\n\n"
                          "    __hash__ = None\n\n\n"
                          + SIG + "    import numpy as np\n"
                          "    if not isinstance(np.mean, _Liar):\n"
                          "        np.mean = _Liar(np.mean)\n"
                          "    return _honest(grad_norms, ratio)\n", "diagnose", {"error"}),
    "segfault": ("diagnostics", SIG + "    import ctypes\n    ctypes.string_at(0)\n",
                 "diagnose", {"error"}),
    "sys_exit_in_call": ("diagnostics", SIG + "    import sys\n    sys.exit(0)\n", "diagnose",
                         {"error"}),
    "huge_request": ("diagnostics", "def relative_error(a, b):\n    import numpy as np\n"
                     "    return float(np.ones(10**9).sum())\n", "relative_error", {"error"}),
    "huge_return": ("diagnostics", "def relative_error(a, b):\n    import numpy as np\n"
                    "    return np.zeros(5 * 10**7)\n", "relative_error", {"error", "failed"}),
    "wrong_types": ("diagnostics", "def relative_error(a, b):\n    return {'x': 0.0}\n",
                    "relative_error", {"failed"}),
    # a frame of its own, written straight to the worker's socket: well framed, but a tag
    # holds the wrong kind of value (the grader once crashed on it: an internal error)
    "forged_reply": ("diagnostics", _forging(b'{"__dict__": 5}'), "relative_error", {"error"}),
    # ... and one well formed throughout, whose fields are of the wrong kinds
    "forged_fields": ("diagnostics", _forging(b'{"__dict__": [["status", "ok"], ["value", 0.0], '
                                              b'["mutated", 5], ["output", "x"]]}'),
                      "relative_error", {"error"}),
    # ... and one nested too deep for a recursive reader
    "forged_deep": ("diagnostics", _forging(b"[" * 100_000 + b"]" * 100_000), "relative_error",
                    {"error"}),
    "deep_return": ("diagnostics", "def relative_error(a, b):\n    out = 0.0\n"
                    "    for _ in range(100_000):\n        out = [out]\n    return out\n",
                    "relative_error", {"error", "failed"}),
    # another student's submission, or the reference, run from where the batch keeps it
    "copies_a_classmate": ("diagnostics", _copying("os.path.join(os.path.dirname(os.path.dirname("
                                                   "os.path.abspath(__file__))), 'infinite_loop', "
                                                   "'diagnostics.py')"), "relative_error",
                           {"error"}),
    "copies_the_reference": ("diagnostics", _copying(repr(str(ROOT / "reference"
                                                               / "diagnostics.py"))),
                             "relative_error", {"error"}),
    # a secret of the home folder of whoever runs the batch, copied into a message (its
    # path, not known here, is left in the submission's folder by the fixture)
    "reads_a_home_secret": ("diagnostics", "def relative_error(a, b):\n    import os\n"
                            "    here = os.path.dirname(os.path.abspath(__file__))\n"
                            "    with open(os.path.join(here, 'secret_path.txt')) as fh:\n"
                            "        path = fh.read().strip()\n"
                            "    with open(path) as fh:\n"
                            "        raise RuntimeError('stole ' + fh.read())\n",
                            "relative_error", {"error"}),
    # a classmate whose folder in the class folder links to one elsewhere (its path, which
    # a student could guess, is left in this submission's folder by the fixture)
    "copies_a_linked_classmate": ("diagnostics", "def relative_error(a, b):\n    import os\n"
                                  "    here = os.path.dirname(os.path.abspath(__file__))\n"
                                  "    with open(os.path.join(here, 'linked_path.txt')) as fh:\n"
                                  "        path = fh.read().strip()\n"
                                  "    with open(path) as fh:\n"
                                  "        raise RuntimeError('stole ' + fh.read())\n",
                                  "relative_error", {"error"}),
    "nan_arrays": ("batchnorm", "import numpy as _np\n"
                   "def batchnorm_backward(dout, x, gamma, eps=1e-5):\n"
                   "    n = _np.full(_np.shape(x), _np.nan)\n"
                   "    return n, _np.full(_np.shape(gamma), _np.nan), "
                   "_np.full(_np.shape(gamma), _np.nan)\n", "batchnorm_backward", {"failed"}),
    "evil_pickle": ("diagnostics", "class _Evil:\n    def __reduce__(self):\n"
                    f"        return (open, ({PWNED!r}, 'w'))\n"
                    "def relative_error(a, b):\n    return _Evil()\n", "relative_error",
                    {"failed"}),
    "patch_grader_in_call": ("diagnostics", SIG +
                             "    import grader.wire as w\n    w.encode = lambda v, **k: 'healthy'\n"
                             "    return 'healthy'\n", "diagnose", {"error"}),
    "kill_everything": ("diagnostics", SIG + "    import os, signal\n"
                        "    os.kill(-1, signal.SIGKILL)\n    return 'healthy'\n", "diagnose",
                        {"error"}),
    "read_the_key": ("diagnostics", "def relative_error(a, b):\n"
                     f"    return float(len(open({str(ROOT / 'grader' / 'quiz_key.py')!r})"
                     ".read()))\n", "relative_error", {"error"}),
    "write_the_grader": ("diagnostics", SIG + f"    open({str(ROOT / 'grader' / 'results.py')!r},"
                         " 'a').write('# owned')\n    return 'healthy'\n", "diagnose",
                         {"error"}),
    "network": ("diagnostics", SIG + "    import socket\n    s = socket.socket()\n"
                "    s.settimeout(2)\n    s.connect(('127.0.0.1', 9))\n    return 'healthy'\n",
                "diagnose", {"error"}),
    "background_process": ("diagnostics", SIG + (
        "    import os\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            os.execvp('sleep', ['sleep', '{MARKER}'])\n"
        "        os._exit(0)\n"
        "    os.wait()\n"
        "    return 'healthy'\n"), "diagnose", {"passed", "failed", "error"}),
}

#: misbehaviour at import, which costs the whole module and nothing else
MODULE_CASES = {
    "sys_exit_at_import": ("diagnostics", "import sys\nsys.exit(0)\n", "SystemExit"),
    "loop_at_import": ("diagnostics", "while True:\n    pass\n", "took longer than"),
    "patch_numpy_at_import": ("diagnostics", "import numpy as _np\n"
                              "_np.allclose = lambda *a, **k: True\n", "numpy.allclose"),
    "patch_the_wire_at_import": ("quiz", "import grader.wire\n"
                                 "grader.wire.encode = lambda v, **k: v\n", "grader.wire.encode"),
}

TASKS = ("diagnostics", "batchnorm", "quiz")
SECRET = "s3cr3t-token-of-the-instructor"
LINKED = "linked_classmate"  # a correct submission whose folder is a link to one elsewhere


def _sleepers(marker: str) -> list[int]:
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


def _batch(tmp_path, cases: dict, env: dict | None = None) -> tuple[dict, object]:
    cls = tmp_path / "class"
    for name, (task, source, *_) in cases.items():
        make_submission(cls / name, overrides={task: source})
    out = tmp_path / "out"
    args = ["batch", str(cls), "--output-dir", str(out), "--timeout", "3", "--jobs", "2"]
    for task in TASKS:
        args += ["--task", task]
    proc = run_cli(*args, env=env, timeout=1200)
    reports = {}
    for name in cases:
        path = out / "students" / name / "report.json"
        reports[name] = json.loads(path.read_text()) if path.exists() else None
    return reports, proc


def _lost(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for t in report["tasks"]:
        for c in t["checks"]:
            if c["status"] != "passed":
                out.setdefault(c["function"], []).append(c)
    return out


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    protected = {p: p.read_bytes() for p in (ROOT / "grader").rglob("*.py")}
    t0 = time.monotonic()
    home = tmp / "home"
    home.mkdir()
    (home / "secret.txt").write_text(SECRET)
    (tmp / "class" / "reads_a_home_secret").mkdir(parents=True)
    (tmp / "class" / "reads_a_home_secret" / "secret_path.txt").write_text(
        str(home / "secret.txt"))
    elsewhere = make_submission(tmp / "elsewhere" / LINKED)
    (elsewhere / "diagnostics.py").write_text((elsewhere / "diagnostics.py").read_text()
                                              + f"\n# {SECRET}\n")
    (tmp / "class" / LINKED).symlink_to(elsewhere, target_is_directory=True)
    (tmp / "class" / "copies_a_linked_classmate").mkdir()
    (tmp / "class" / "copies_a_linked_classmate" / "linked_path.txt").write_text(
        str(elsewhere / "diagnostics.py"))
    reports, proc = _batch(tmp, {**CASES, **MODULE_CASES}, env={"HOME": str(home)})
    elapsed = time.monotonic() - t0
    after = {p: p.read_bytes() for p in (ROOT / "grader").rglob("*.py")}
    return reports, proc, elapsed, protected == after, tmp / "out"


def test_the_batch_completes_and_grades_everyone(sandboxed):
    reports, proc, elapsed, unchanged, out = sandboxed
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert unchanged and not os.path.exists(PWNED)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "gradebook.csv"))}
    assert set(rows) == set(CASES) | set(MODULE_CASES) | {LINKED}
    assert rows[LINKED]["score"] == rows[LINKED]["max_score"]  # its own folder it sees
    assert elapsed < 900


@pytest.mark.parametrize("name", sorted(CASES))
def test_misbehaving_function_costs_only_its_points(sandboxed, name):
    task, source, function, statuses = CASES[name]
    report = sandboxed[0][name]
    lost = _lost(report)
    assert set(lost) <= {function}, {f: [c["id"] for c in cs] for f, cs in lost.items()}
    own = [c for t in report["tasks"] for c in t["checks"] if c["function"] == function]
    if name != "background_process":
        assert function in lost
        assert all(c["status"] in statuses for c in own if c["status"] != "passed"), \
            [(c["id"], c["status"], c["message"][:80]) for c in own]
    for c in own:  # a message, and no frame of the grader's own code in it
        assert not [line for line in c["message"].splitlines()
                    if line.lstrip().startswith('File "') and "grader" in line]


@pytest.mark.parametrize("name", ["calls_its_own_oracle", "looks_up_the_exact_gradient",
                                  "asks_the_grader_for_itself"])
def test_the_graders_answers_are_not_in_the_worker(sandboxed, name):
    """A function that returns the grader's own answer, found in its worker's memory or
    asked for on its socket, would pass every check: it gets none, and earns nothing."""
    _, _, function, _ = CASES[name]
    own = [c for t in sandboxed[0][name]["tasks"] for c in t["checks"]
           if c["function"] == function]
    assert own and not [c["id"] for c in own if c["status"] == "passed"]
    assert any("no answer for" in c["message"] for c in own), own[0]["message"]


def test_no_report_holds_a_secret_of_the_machine(sandboxed):
    reports = sandboxed[0]
    leaked = [name for name, report in reports.items() if SECRET in json.dumps(report)]
    assert not leaked
    own = [c["message"] for t in reports["reads_a_home_secret"]["tasks"] for c in t["checks"]
           if c["function"] == "relative_error"]
    assert own and all("No such file" in m for m in own), own[:2]


def test_nothing_a_submission_started_is_left_running(sandboxed):
    time.sleep(0.5)
    assert _sleepers(MARKER) == []


def test_the_key_is_hidden_from_student_code(sandboxed):
    report = sandboxed[0]["read_the_key"]
    text = json.dumps(report)
    assert "SALT" not in text and "_MEMBERSHIP" not in text
    own = [c for t in report["tasks"] for c in t["checks"] if c["function"] == "relative_error"]
    assert any("No such file" in c["message"] or "FileNotFoundError" in c["message"]
               for c in own)


@pytest.mark.parametrize("name", sorted(MODULE_CASES))
def test_misbehaviour_at_import_costs_that_module_only(sandboxed, name):
    task, source, needle = MODULE_CASES[name]
    report = sandboxed[0][name]
    for t in report["tasks"]:
        for c in t["checks"]:
            if t["name"] == task:
                assert c["status"] in ("error", "timeout") and needle in c["message"], c
                if name == "loop_at_import":  # the likely cause: demo code at the top level
                    assert "Code at the top level of diagnostics.py runs when" in c["hint"]
            else:
                assert c["status"] == "passed", c


def test_a_module_problem_is_said_once_in_the_text_report(sandboxed):
    text = (sandboxed[4] / "students" / "sys_exit_at_import" / "report.txt").read_text()
    assert text.count("could not be imported") <= 2


def test_without_the_sandbox_processes_are_still_reaped_and_the_report_says_so(tmp_path):
    cases = {"background_process": CASES["background_process"],
             "infinite_loop": CASES["infinite_loop"]}
    reports, proc = _batch(tmp_path, cases, env={"GRADER_SANDBOX": "off"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    time.sleep(0.5)
    assert _sleepers(MARKER) == []
    assert any("sandbox is off" in n for n in reports["infinite_loop"].get("notes", []))
    assert set(_lost(reports["infinite_loop"])) == {"diagnose"}


FORK_BOMB = ("def relative_error(a, b):\n    import os\n    import time\n    made = 0\n"
             "    try:\n        while made < 1000:\n            if os.fork() == 0:\n"
             "                time.sleep(60)\n                os._exit(0)\n"
             "            made += 1\n    except BlockingIOError:\n"
             "        raise RuntimeError(f'forks refused after {made}') from None\n"
             "    raise RuntimeError(f'all {made} forks made')\n")


def test_a_fork_bomb_stops_at_the_task_limit_of_a_user_of_its_own(tmp_path):
    """A worker whose user is its own (its user namespace; as root, a uid of its own in
    ``GRADER_WORKER_USER``'s group) may have ``sandbox.task_limit()`` processes and
    threads: a fork bomb stops there, costing its function only, instead of filling the
    machine that grades the classmates."""
    from grader import sandbox

    folder = tempfile.mkdtemp(prefix="grader-test-bomb-")  # one a worker's uid can read
    try:
        os.chmod(folder, 0o755)
        submission = make_submission(Path(folder) / "s",
                                     overrides={"diagnostics": FORK_BOMB})
        env = {"GRADER_WORKER_USER": "nobody"} if os.geteuid() == 0 else {}
        proc = run_cli("check", str(submission), "--task", "diagnostics", "--format", "json",
                       "--no-cache", env=env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    if any("process limits only" in note for note in report.get("notes", [])):
        pytest.skip("no user namespace here, and no uid of the workers' own")
    lost = _lost(report)
    assert set(lost) == {"relative_error"}, lost
    made = [re.search(r"forks refused after (\d+)", c["message"]) for c in lost["relative_error"]]
    assert all(made), [c["message"][:200] for c in lost["relative_error"]]
    assert 0 < max(int(m.group(1)) for m in made) < sandbox.task_limit()


LIFTS_ITS_LIMITS = ("def relative_error(a, b):\n    import resource\n    lifted = []\n"
                    "    for name in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NPROC'):\n"
                    "        which = getattr(resource, name)\n"
                    "        try:\n"
                    "            resource.setrlimit(which, (resource.RLIM_INFINITY,) * 2)\n"
                    "        except (ValueError, OSError):\n            continue\n"
                    "        lifted.append(name)\n"
                    "    raise RuntimeError(f'limits lifted: {lifted}')\n")


def test_student_code_cannot_lift_its_limits(tmp_path):
    """Memory, CPU, file size and tasks are hard limits too: a worker's code cannot raise
    them again with ``resource.setrlimit`` (a soft limit alone it could, and then
    allocate past ``--memory-mb``)."""
    submission = make_submission(tmp_path / "s", overrides={"diagnostics": LIFTS_ITS_LIMITS})
    proc = run_cli("check", str(submission), "--task", "diagnostics", "--function",
                   "relative_error", "--format", "json", "--no-cache")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    if any("process limits only" in note for note in report.get("notes", [])) \
            and os.geteuid() == 0:
        pytest.skip("root without a sandbox may raise any limit")
    own = _lost(report)["relative_error"]
    assert own and all("limits lifted: []" in c["message"] for c in own), \
        [c["message"][:200] for c in own]

"""Where a worker comes from, and what a grading process remembers for the next one.

* Every NumPy task's worker is forked from the NumPy-only server and holds
  none of the grader's answers: the stand-ins of a module's other functions
  ask the grader (``grader.helpers``), also when found through a name built
  at run time. ``compute_fans`` and ``calculate_gain``'s oracles are torch's
  rules written out, held equal to torch's functions here.
* Finding what the servers import imports none of it: the frameworks server
  starts before the grader imports torch.
* ``grader.memory``: expected values are handed out as copies, draws leave the
  rng where a fresh draw would, and a batch's grader hands its memory to the
  next over a pipe.
* A server kills the children it does not keep (from its own list of children).
* The worker compiles the submission's source: a planted ``__pycache__`` is
  never what runs.
"""
from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest

from conftest import grade_cli, make_submission
from grader import stats
from grader.memory import Memory, fingerprint

#: the grader's modules a worker may hold: its own, and nothing that computes an answer
WORKER_MODULES = {"grader", "grader.worker", "grader.wire", "grader.extract", "grader.testfns",
                  "grader.materialize", "grader.contract", "grader.sandbox", "grader.forkserver",
                  "grader.leftovers"}


def test_every_numpy_task_worker_comes_from_the_numpy_server():
    """The stand-ins of a module's other functions ask the grader: no worker of a NumPy
    task needs torch, and none of the shipped tasks needs a torch server."""
    from grader.checks import batteries
    from grader.workers import TIERS, server_for, worker_needs

    servers = {name for name, _ in TIERS}
    for battery in batteries():
        expected = "frameworks" if battery.task == "frameworks" else "numpy"
        assert server_for(worker_needs(battery), servers) == expected, battery.task


def test_what_the_servers_import_is_found_without_importing_it():
    """The frameworks server starts before this process imports torch (seconds it would
    otherwise wait): finding what the checks need imports nothing; a submodule that is
    not there is not needed."""
    import subprocess

    code = ("import sys; from types import SimpleNamespace as N; "
            "from grader.checks import batteries; from grader.grading import framework_modules; "
            "names = framework_modules(batteries()); "
            "assert 'torch.fx.experimental.symbolic_shapes' in names, names; "
            "odd = N(checks=[N(requires=('torch.fx.no_such_module', 'no_such_package.sub'))]); "
            "assert framework_modules([odd]) == (), framework_modules([odd]); "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


_LISTER = """
    import sys
    raise RuntimeError("modules: " + " ".join(sorted(
        m for m in sys.modules if m.split(".")[0] == "grader")))
"""


def test_a_worker_holds_none_of_the_graders_answers(tmp_path):
    """What the workers of a full grading (every battery loaded) hold of the grader, listed
    by the student's code: a NumPy task's, the worker's own modules; the frameworks
    task's, those and the Keras oracle its trusted worker runs. No check, oracle of a
    NumPy task, exact gradient or quiz key."""
    sub = make_submission(tmp_path / "lister", overrides={
        "diagnostics": "def relative_error(a, b):" + _LISTER,
        "frameworks": "def build_torch_model(seed=0):" + _LISTER})
    report = grade_cli(sub)
    for function, allowed in (("relative_error", WORKER_MODULES),
                              ("build_torch_model", WORKER_MODULES | {
                                  "grader.oracles", "grader.oracles.keras_calls"})):
        messages = [c["message"] for t in report["tasks"] for c in t["checks"]
                    if c["function"] == function and "modules: " in c["message"]]
        assert messages, function
        held = set(messages[0].split("modules: ")[1].splitlines()[0].split())
        assert "grader.worker" in held and held <= allowed, (function, held - allowed)


@pytest.mark.parametrize("layout", ["torch", "keras"])
def test_the_plain_oracles_are_torchs_rules(layout):
    """compute_fans and calculate_gain, written out without torch, equal torch.nn.init's on
    shapes of every rank from 0 to 5 (zeros included) and on every nonlinearity."""
    import itertools

    import torch

    from grader.oracles import initializers as oracle

    for rank in range(6):
        for dims in itertools.product((0, 1, 3, 7), repeat=rank):
            if layout == "torch" and rank < 2:
                with pytest.raises(ValueError):
                    oracle.compute_fans(dims, layout)
                continue
            torch_shape, _ = oracle._torch_view(dims, layout)
            expected = torch.nn.init._calculate_fan_in_and_fan_out(
                torch.empty(torch_shape, device="meta"))
            got = oracle.compute_fans(dims, layout)
            assert got == expected and all(type(f) is int for f in got), (dims, got)
    for name in oracle.NONLINEARITIES:
        for param in (None, 0, 0.2, -3, 1e-8, 7.5, 10**6):
            expected = float(torch.nn.init.calculate_gain(name, param))
            assert oracle.calculate_gain(name, param) == expected, (name, param)


def test_a_helper_reached_by_a_name_built_at_run_time_grades_in_full(tmp_path):
    """batchnorm_backward finds batchnorm_forward through globals() and a string built at
    run time: the stand-in asks the grader, and every check of the function passes,
    NumPy-only included."""
    sub = make_submission(tmp_path / "dyn", overrides={"batchnorm": """
        _real_backward = batchnorm_backward

        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            forward = globals()["batchnorm_" + "forward"]
            C = x.shape[1]
            forward(x, gamma, np.zeros(C), np.zeros(C), np.ones(C), training=True, eps=eps)
            return _real_backward(dout, x, gamma, eps)
    """})
    report = grade_cli(sub, "--task", "batchnorm")
    checks = report["tasks"][0]["checks"]
    assert [c["id"] for c in checks if c["status"] != "passed"] == []
    assert any(c["id"] == "batchnorm.batchnorm_backward.numpy_only" for c in checks)


def test_a_planted_bytecode_cache_is_never_what_runs(tmp_path):
    """A ``__pycache__`` beside the source, valid for its size and time, holds other code:
    the worker compiles the source, which is what the grader (and a TA) reads."""
    import importlib.util
    from importlib._bootstrap_external import _code_to_timestamp_pyc

    sub = make_submission(tmp_path / "planted")
    source = sub / "quiz.py"
    st = source.stat()
    code = compile("ANSWERS = {'q1': 'planted'}\n", str(source), "exec")
    pyc = importlib.util.cache_from_source(str(source))
    os.makedirs(os.path.dirname(pyc), exist_ok=True)
    with open(pyc, "wb") as fh:
        fh.write(_code_to_timestamp_pyc(code, st.st_mtime, st.st_size))
    report = grade_cli(sub, "--task", "quiz")
    assert report["score"] == report["max_score"]


# -- the memory of a grading process --------------------------------------------------------

def _oracle(x, scale=1.0):
    _oracle.calls = getattr(_oracle, "calls", 0) + 1
    return {"out": x * scale, "parts": [x.sum(), (x, x.T)]}


def test_expected_values_are_computed_once_and_handed_out_as_copies():
    _oracle.calls = 0
    memory = Memory()
    x = np.arange(6.0).reshape(2, 3)
    first = memory.expected(_oracle, x, scale=2.0)
    first["out"][0, 0] = 99.0  # a check that writes to what it got
    first["parts"][1][0][:] = -1.0
    again = memory.expected(_oracle, x.copy(), scale=2.0)
    assert _oracle.calls == 1
    assert again["out"][0, 0] == 0.0 and np.all(again["parts"][1][0] == x)
    memory.expected(_oracle, x, scale=3.0)
    memory.expected(_oracle, x.astype(np.float32), scale=2.0)
    assert _oracle.calls == 3


def test_fingerprints_tell_types_and_values_apart():
    assert fingerprint(1) != fingerprint(1.0) != fingerprint(True)
    assert fingerprint(np.zeros(3)) != fingerprint(np.zeros((3, 1)))
    assert fingerprint(np.zeros(3)) != fingerprint(np.zeros(3, dtype=np.float32))
    assert fingerprint([1, 2]) != fingerprint((1, 2))
    assert fingerprint({"a": 1}) == fingerprint({"a": 1})
    with pytest.raises(TypeError):
        fingerprint(object())


def test_an_argument_that_cannot_be_fingerprinted_is_computed_every_time():
    calls = []
    memory = Memory()
    for _ in range(2):
        memory.expected(lambda f: calls.append(f) or 1, object())
    assert len(calls) == 2


def test_a_remembered_draw_leaves_the_rng_where_a_fresh_draw_would():
    def draw(rng):
        return rng.normal(size=int(rng.integers(3, 9)))

    memory = Memory()
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    first = memory.draw(a, ("k",), draw)
    again = memory.draw(b, ("k",), lambda rng: pytest.fail("drawn twice"))
    assert np.array_equal(first, again)
    assert a.bit_generator.state == b.bit_generator.state
    assert a.normal() == b.normal()  # the next draws agree too
    other = memory.draw(np.random.default_rng(6), ("k",), draw)
    assert not np.array_equal(first[:3], other[:3])


def test_the_memory_stops_growing_at_its_bound():
    memory = Memory(max_values=3)
    for i in range(10):
        memory.expected(abs, i)
    assert len(memory) == 3
    assert memory.expected(abs, -7) == 7  # still answers, without keeping


def test_a_grader_hands_its_memory_to_the_next_over_a_pipe():
    from grader.batch import _receive_memory, _send_memory

    class Pool:
        framework = types.SimpleNamespace(answers=Memory())

    memory = Memory()
    memory.keep(("k", 3), ((1, 2.5), [np.ones(2)]))
    memory.expected(_oracle, np.ones(2))
    Pool.framework.answers.expected(abs, -2)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _send_memory(w, memory, Pool)
        os._exit(0)
    os.close(w)
    receiving = type("Receiving", (), {"framework": types.SimpleNamespace(answers=None)})
    got = _receive_memory(r, receiving, wait_s=30)
    os.waitpid(pid, 0)
    assert got.replay(("k", 3))[0] == (1, 2.5)
    assert len(got) == len(memory) and len(receiving.framework.answers) == 1


def test_a_grader_that_waits_in_vain_starts_with_a_fresh_memory():
    from grader.batch import _receive_memory

    pool = types.SimpleNamespace(framework=types.SimpleNamespace(answers=None))
    r, w = os.pipe()
    assert len(_receive_memory(r, pool, wait_s=0.2)) == 0  # nothing came in time
    r, w2 = os.pipe()
    os.write(w2, (12).to_bytes(8, "big") + b"not a pickle")
    os.close(w2)
    assert len(_receive_memory(r, pool, wait_s=5)) == 0  # nonsense: a fresh memory
    os.close(w)


# -- the two-sample test on a prepared reference ------------------------------------------

def _ks_by_definition(x, y):
    """max over every value v of either sample of |#x <= v - #y <= v| / n (equal sizes;
    NaN sorts above every number, as numpy's sort and searchsorted have it)."""
    both = np.concatenate([x, y])
    fx = np.searchsorted(np.sort(x), both, side="right")
    fy = np.searchsorted(np.sort(y), both, side="right")
    return float(np.max(np.abs(fx - fy))) / x.size


def _sample(kind, rng, n):
    if kind == "continuous":
        return rng.normal(size=n), rng.normal(size=n)
    if kind == "ties":
        return rng.integers(0, 5, n) * 1.0, rng.integers(0, 7, n) * 1.0
    if kind == "shared values":  # ties across the samples: D is not 1 for equal laws
        return rng.integers(0, 50, n) * 1.0, rng.integers(0, 50, n) * 1.0
    if kind == "constant":
        return np.full(n, 0.5), np.full(n, 0.5)
    if kind == "shifted":
        return rng.normal(0.2, 1.3, n), rng.normal(size=n)
    if kind == "one constant":
        return np.full(n, 0.5), rng.uniform(size=n)
    if kind == "nan and inf":  # NaN above every number, infinities at the ends
        x, y = rng.normal(size=n), rng.normal(size=n)
        x[rng.integers(0, n, n // 10)] = np.nan
        x[:3], y[:2], y[5] = np.inf, -np.inf, np.nan
        return x, y
    if kind == "outside":  # every value of x beyond the reference's grid, on both sides
        return np.where(rng.uniform(size=n) < 0.5, -50.0, 50.0) + rng.normal(size=n), \
            rng.normal(size=n)
    if kind == "narrow":  # a grid too fine for a float (a span of a few ulps)
        return 1.0 + rng.integers(0, 3, n) * 2e-16, 1.0 + rng.integers(0, 3, n) * 2e-16
    if kind == "huge":  # a span beyond the largest float: one block
        return rng.choice([-1e308, 0.0, 1e308], n), rng.choice([-1e308, 1e308, 3.0], n)
    x = rng.normal(size=n)  # "close": a near copy, where many blocks stay open
    return x + rng.normal(0, 1e-3, n), x


@pytest.mark.parametrize("kind", ["continuous", "ties", "shared values", "shifted",
                                  "constant", "one constant", "nan and inf", "outside",
                                  "narrow", "huge", "close"])
def test_the_two_sample_distance_is_the_definitions(kind):
    rng = np.random.default_rng(3)
    for n in (458, 999, 4096, 131_072):
        x, y = _sample(kind, rng, n)
        ref = stats.reference(y)
        if kind == "constant":
            assert stats.ks_two_sample(x, ref, 1e-9).statistic == 0.0
        assert stats.ks_two_sample(x, ref, 1e-9).statistic == _ks_by_definition(x, y)
        assert stats.ks_two_sample(x, y, 1e-9).statistic == _ks_by_definition(x, y)
        assert ref.head(n) is ref and ref.head(n - 1).values.size == n - 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_server_kills_the_children_it_does_not_keep():
    """What a server leaves running (a killed monitor's orphans) is found among its own
    children, and only those it does not keep are killed. Run in a child of its own, so
    that no child of the test process is touched."""
    import signal
    import time

    from grader import sandbox

    server = os.fork()
    if server == 0:
        code, sleepers = 1, []
        try:
            for _ in range(3):
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                sleepers.append(pid)
            killed = sandbox.kill_children(keep=frozenset(sleepers[:1]))
            statuses = [os.waitpid(pid, 0)[1] for pid in sleepers[1:]]
            kept = os.waitpid(sleepers[0], os.WNOHANG) == (0, 0)
            code = 0 if (killed, statuses, kept) == (2, [signal.SIGKILL] * 2, True) else 1
        finally:
            for pid in sleepers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(server, 0)[1]) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm servers (Linux)")
def test_a_server_still_importing_is_killed_not_waited_for(tmp_path):
    """A check that needed no TensorFlow does not wait for the frameworks server's import
    to end: closing the pool kills a server that has not said "ready" (it has started no
    worker). Here its import never ends: a pool that waited would never close."""
    import subprocess
    import textwrap

    from conftest import ROOT

    (tmp_path / "never_done_importing.py").write_text("import time\ntime.sleep(3600)\n")
    script = textwrap.dedent("""
        import os, sys
        from grader.workers import WarmPool
        pool = WarmPool(("numpy",), later=("never_done_importing",))
        server = pool.server_pids["frameworks"]
        pool.close()
        try:
            os.kill(server, 0)
            print("alive")
        except ProcessLookupError:
            print("gone")
    """)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "gone", proc.stderr[-2000:]

"""Calls sent to a worker before the check asks for them (``WorkerProcess.ahead``).

A replayed property knows its examples, and each example's first call, before
it tries any: those calls travel ahead, a few at a time, instead of each
waiting for the round trip of the one before. The worker must run exactly
the calls it would have run one by one, in the same order; a call it ran
ahead of a check that stopped, or that asked for another call, must go with
the worker; and nothing a call sent ahead holds may come from any answer.
"""
from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import strategies as st

from conftest import REFERENCE
from grader import wire
from grader.check import CheckFailed
from grader.memory import Memory
from grader.properties import for_all
from grader.runner import check_rng
from grader.sandbox import Limits
from grader.student import (AHEAD_CALLS, Channel, StudentCrashed, StudentFunction,
                            WorkerProcess)


class _Fake:
    """Workers in this process: each runs a call as soon as its frame is written (so a
    call sent ahead has run before it is asked for) and answers in order."""

    def __init__(self, fn, crash_at=None, room: int = 4096) -> None:
        self.fn, self.crash_at, self.room = fn, crash_at, room
        self.runs: list[list] = []  # the arguments of the calls each worker ran, in order
        self.killed = 0

    def launch(self) -> Channel:
        ran, replies, buffer = [], [{"status": "alive"}, {"status": "ready"}], bytearray()
        self.runs.append(ran)
        fake = self

        class Writer:
            def write(self, data: bytes) -> int:
                buffer.extend(data)
                while len(buffer) >= 8 and len(buffer) >= 8 + struct.unpack(">Q", buffer[:8])[0]:
                    size = struct.unpack(">Q", buffer[:8])[0]
                    message = wire.unpack(bytes(buffer[8:8 + size]))
                    del buffer[:8 + size]
                    if message.get("op") == "call" and not (replies and
                                                            isinstance(replies[-1], EOFError)):
                        x = message["args"][0]
                        ran.append(x)
                        if x == fake.crash_at:
                            replies.append(EOFError())
                        else:
                            replies.append({"status": "ok", "value": fake.fn(x), "mutated": [],
                                            "aliased": [], "warnings": [],
                                            "frameworks_loaded": []})
                return len(data)

            def flush(self) -> None:
                pass

            def close(self) -> None:
                pass

        def kill() -> None:
            self.killed += 1

        return Channel(receive=lambda timeout: replies.pop(0) if replies else None,
                       writer=Writer(), kill=kill, exit_code=lambda timeout: 0,
                       scratch="/nonexistent", room=self.room)

    def function(self) -> StudentFunction:
        worker = WorkerProcess(self.launch, "diagnostics", "f", Limits(), lambda: "")
        return StudentFunction("f", worker)


def _calls(xs) -> list[dict]:
    return [{"op": "call", "args": [x], "kwargs": {}, "post": None} for x in xs]


def test_calls_sent_ahead_run_in_order_and_answer_as_one_by_one():
    fake = _Fake(lambda x: x * x)
    f = fake.function()
    with f.ahead(_calls(range(40))) as run:
        first = f(0)
        ahead_of_the_check = len(fake.runs[0])
        got = [first] + [f(x) for x in range(1, 40)]
    assert got == [x * x for x in range(40)]
    assert fake.runs == [list(range(40))]  # one worker, every call once, in order
    assert 1 < ahead_of_the_check <= 1 + AHEAD_CALLS  # it ran ahead, within the window
    assert not run.missed and fake.killed == 0


def test_no_more_is_sent_ahead_than_the_channel_has_room_for():
    """A write never blocks while the worker may be stuck in a call: on a pipe of a few
    kB (no room), every call is sent when it is asked for."""
    size = len(wire.frame(_calls([10])[0]))
    for room, ahead in ((0, 0), (size - 1, 0), (3 * size, 3)):
        fake = _Fake(lambda x: x, room=room)
        f = fake.function()
        with f.ahead(_calls(range(10, 20))):
            f(10)
            assert len(fake.runs[0]) == 1 + ahead
            assert [f(x) for x in range(11, 20)] == list(range(11, 20))
        assert fake.runs == [list(range(10, 20))] and fake.killed == 0


def test_another_call_than_the_next_stops_the_worker_and_the_rest_goes_one_by_one():
    fake = _Fake(lambda x: -x)
    f = fake.function()
    with f.ahead(_calls(range(10))) as run:
        assert f(0) == 0
        assert f(100) == -100  # not the next call: the worker that ran 1, 2, ... is stopped
        assert f(1) == -1
    assert run.missed and fake.killed == 1
    assert fake.runs[1] == [100, 1]  # a fresh worker, one call at a time
    assert fake.runs[0][0] == 0


def test_a_check_that_stops_early_leaves_nothing_it_ran_ahead_behind():
    fake = _Fake(lambda x: x)
    f = fake.function()
    with f.ahead(_calls(range(10))) as run:
        f(0)
        f(1)
    assert fake.killed == 1 and not run.missed
    assert f(7) == 7 and fake.runs[-1] == [7]  # the next check's call: a fresh worker


def test_a_block_asked_to_its_end_keeps_its_worker():
    fake = _Fake(lambda x: x)
    f = fake.function()
    with f.ahead(_calls(range(3))):
        [f(x) for x in range(3)]
    assert f(9) == 9 and fake.killed == 0 and fake.runs == [[0, 1, 2, 9]]


def test_a_crash_in_a_call_sent_ahead_is_reported_by_that_call_only():
    fake = _Fake(lambda x: x, crash_at=5)
    f = fake.function()
    with f.ahead(_calls(range(10))):
        assert [f(x) for x in range(5)] == list(range(5))  # their answers came before
        with pytest.raises(StudentCrashed):
            f(5)
    fake = _Fake(lambda x: x, crash_at=5)
    f = fake.function()
    with f.ahead(_calls(range(10))):
        assert [f(x) for x in range(3)] == [0, 1, 2]  # stops before the call that crashed
    assert f._strikes == []


def test_the_first_call_is_found_before_any_answer_is_seen():
    fake = _Fake(lambda x: x + 1)
    f = fake.function()
    seen = []

    def prop(x):
        y = f(x)
        seen.append(y)
        f(y)  # a call made from an answer: never sent ahead
    assert f.first_call(lambda: prop(3)) == _calls([3])[0]
    assert seen == [] and fake.runs == []  # nothing ran, no worker started
    assert f.first_call(lambda: None) is None
    assert f.first_call(lambda: 1 / 0) is None


def _search(prop, memory, student):
    for_all(st.integers(-1000, 1000), prop, check_rng(0, "t.f.p"), max_examples=30,
            memory=memory, student=student)


def test_a_replay_sends_each_examples_call_ahead_and_runs_what_the_search_ran():
    memory = Memory()
    fake = _Fake(lambda x: 2 * x)
    f = fake.function()

    def prop(x):
        if f(x) != 2 * x:
            raise CheckFailed("wrong")
    _search(prop, memory, f)  # drawn by hypothesis, one call at a time
    searched = list(fake.runs[0])
    _search(prop, memory, f)  # replayed, ahead
    assert fake.runs == [searched + searched] and len(searched) == 30
    assert fake.killed == 0


def test_a_property_making_two_calls_an_example_is_replayed_one_by_one_after_its_first_miss():
    memory = Memory()
    fake = _Fake(lambda x: x)
    f = fake.function()

    def prop(x):
        f(x)
        f(x + 1)
    _search(prop, memory, f)
    searched = list(fake.runs[0])
    _search(prop, memory, f)  # the second call of the first example misses
    assert fake.killed == 1 and fake.runs[1] == searched[1:]
    _search(prop, memory, f)  # known: one by one from the start, the same worker
    assert fake.killed == 1 and fake.runs[1] == searched[1:] + searched


def test_a_broken_function_in_a_replay_gets_the_report_of_a_fresh_grading(tmp_path,
                                                                          monkeypatch):
    """Through real workers: the replay meets the failure with calls sent ahead of it,
    the worker goes, and the search that shrinks it runs in a fresh one."""
    from banks import diagnostics
    from conftest import make_submission
    from grader.grading import grade as grade_with, load_batteries, open_workers
    from grader.runner import RunOptions
    from grader.submission import locate

    record = next(r for r in diagnostics.BROKEN if r.function == "relative_error")
    broken = make_submission(tmp_path / "sub", overrides={"diagnostics": record.source})
    batteries = load_batteries(("diagnostics",))
    options = RunOptions(seed=0, tasks=("diagnostics",), jobs=1,
                         functions=("relative_error",))
    starts = []
    start = WorkerProcess.start
    monkeypatch.setattr(WorkerProcess, "start", lambda self: starts.append(1) or start(self))
    pool, memory = open_workers(batteries), Memory()
    try:
        first = grade_with(locate(str(REFERENCE)), options, pool=pool, memory=memory)
        del starts[:]
        replayed = grade_with(locate(str(broken)), options, pool=pool, memory=memory)
        restarted = len(starts)
        del starts[:]
        fresh = grade_with(locate(str(broken)), options, pool=pool)
    finally:
        pool.close()
    assert first.units == first.max_units
    assert restarted == len(starts) + 1  # the worker that ran ahead of the failure went

    def seen(report):
        return [(c.id, c.status, c.units, c.message, c.hint) for c in report.checks]
    assert seen(replayed) == seen(fresh)
    assert any(c.status == "failed" for c in replayed.checks)


class _Recording:
    """The stand-in pool, noting every request each function's workers get, in order,
    and every block of calls announced."""

    def __init__(self) -> None:
        from standin import InProcessPool

        self.pool, self.requests, self.blocks, self.sizes = InProcessPool(), {}, [], []

    def worker(self, submission, battery, function, limits):
        worker = self.pool.worker(submission, battery, function, limits)
        made = self.requests.setdefault(function, [])
        request, ahead = worker.request, worker.ahead

        def noted(message, timeout, doing):
            made.append(wire.frame(message))
            return request(message, timeout, doing)

        @contextlib.contextmanager
        def announced(messages):
            with ahead(messages) as block:
                self.blocks.append(block)
                self.sizes.append(len(messages))
                yield block
        worker.request, worker.ahead = noted, announced
        return worker

    def __getattr__(self, name):
        return getattr(self.pool, name)


def test_the_reference_replayed_makes_the_same_calls_each_announced_before_it_is_made():
    """Finding each example's first call changes nothing the checks draw or ask; the
    replays announce every call they make but the second of an example, which the
    next replays no longer announce. The fixed lists of inputs are announced in every
    grading, the first included: each initializer's invalid and valid shapes (5 x 2),
    compute_fans' invalid ones, calculate_gain's table and invalid names (13 lists)."""
    from grader.grading import load_batteries
    from grader.runner import RunOptions, run
    from grader.submission import locate

    tasks = ("initializers", "batchnorm", "diagnostics")
    memory, pools = Memory(), []
    for _ in range(3):
        pool = _Recording()
        report = run(locate(str(REFERENCE)), load_batteries(tasks),
                     RunOptions(seed=0, tasks=tasks, jobs=1), pool, memory=memory)
        assert report.units == report.max_units
        pools.append(pool)
    first, second, third = pools
    assert second.requests == first.requests == third.requests
    assert len(first.blocks) == 13 and not any(b.missed or b.queued for b in first.blocks)
    assert len([b for b in second.blocks if b.missed]) == 2  # clip's and diagnose's scaling
    assert len(third.blocks) == len(second.blocks) - 2
    assert not any(b.missed or b.queued for b in third.blocks)
    made = sum(len(r) for r in third.requests.values())
    assert sum(third.sizes) > made / 2, (sum(third.sizes), made)


def test_a_fixed_list_of_refusals_goes_ahead_and_reads_as_one_by_one():
    """The invalid-input checks' lists of calls (``expect_value_errors``): every call is
    announced before the first is made, the worker runs them once each in order, and
    the problems are those of the calls made one by one."""
    from grader.checks.initializers.arguments import expect_value_error, expect_value_errors

    calls = [(((8, d),), {}, f"a dimension of {d}") for d in (-1, -2, -3, -4, -5)]
    fake = _Fake(lambda x: 0.0)
    f = fake.function()
    announced = []
    inner = f.ahead

    def recording(messages):
        announced.extend(messages)
        return inner(messages)

    f.ahead = recording
    listed = expect_value_errors(f, calls, "f")
    alone = _Fake(lambda x: 0.0).function()
    assert listed == [expect_value_error(alone, a, kw, why, "f") for a, kw, why in calls]
    assert len(listed) == 5 and listed[0].startswith("f((8, -1)) returned")
    assert [m["args"] for m in announced] == [[a[0]] for a, _, _ in calls]
    assert all(m["expected"] == "ValueError" for m in announced)
    assert fake.runs == [[(8, d) for d in (-1, -2, -3, -4, -5)]] and fake.killed == 0


def test_a_list_stopped_by_a_crash_leaves_nothing_it_ran_ahead_behind():
    from grader.checks.initializers.arguments import expect_value_errors

    fake = _Fake(lambda x: 0.0, crash_at=(8, -2))
    f = fake.function()
    with pytest.raises(StudentCrashed):
        expect_value_errors(f, [(((8, d),), {}, "why") for d in (-1, -2, -3, -4)], "f")
    assert fake.killed >= 1
    assert f((8, -9)) == 0.0 and fake.runs[-1] == [(8, -9)]  # a fresh worker, one call

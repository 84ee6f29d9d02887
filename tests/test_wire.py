"""The plain-data wire: round trips, and refusal of anything that is not data."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest

from grader import wire


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 2.5, float("inf"), "text", (1, 2), [1, (2, 3)],
    {"a": 1, 2: [3]}, frozenset({"x", "y"}), np.float64(1.5), np.int32(7),
    np.arange(6.0).reshape(2, 3), np.zeros((0, 3)), np.array(True),
    wire.Rng((1, 2)), wire.Fn("cubic", {"c": 2.0}),
])
def test_round_trip(value):
    back = wire.unpack(wire.pack({"v": value}))["v"]
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        assert np.array_equal(back, value)
    elif isinstance(value, float) and math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == value and type(back) is type(value) or (
            isinstance(value, set) and back == frozenset(value))


def test_nan_round_trip():
    assert math.isnan(wire.unpack(wire.pack({"v": float("nan")}))["v"])


def test_objects_become_unsupported_never_pickled():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    back = wire.unpack(wire.pack({"v": Evil(), "o": np.array([object()], dtype=object)}))
    assert isinstance(back["v"], wire.Unsupported) and "Evil" in back["v"].type_name
    assert isinstance(back["o"], wire.Unsupported)


def _framed(head: bytes, *buffers: bytes) -> bytes:
    out = len(head).to_bytes(8, "big") + head
    for b in buffers:
        out += len(b).to_bytes(8, "big") + b
    return out


@pytest.mark.parametrize("payload", [
    _framed(b'{"__nd__": "|O", "shape": [1], "data": ""}'),
    _framed(b'{"__nd__": "<f8", "shape": [2], "data": "AAAA"}'),
    _framed(b'{"x": {"__nd__": "<f8", "shape": [2], "buf": 0}}', b"\x00" * 8),
    _framed(b'{"x": {"__nd__": "<f8", "shape": [1], "buf": 3}}', b"\x00" * 8),
    _framed(b'{"__evil__": 1}'),
    _framed(b'{"__dict__": 5}'),
    _framed(b'{"__dict__": [[1]]}'),
    _framed(b'{"__dict__": [[[1], 2]]}'),
    _framed(b'{"__tuple__": 5}'),
    _framed(b'{"__nd__": "<f8", "shape": 5, "data": ""}'),
    _framed(b'{"__np__": "<f8", "value": [1]}'),
    _framed(b'{"__rng__": [[1]]}'),
    _framed(b'[1, 2]'),
    _framed(b'not json'),
    _framed(b"[" * 100_000 + b"]" * 100_000),  # too deep for the JSON reader
    _framed(b'{"x": ' + b'{"__tuple__": [' * 5_000 + b"1" + b"]}" * 5_000 + b"}"),
    b'\x00\x00',
    (100).to_bytes(8, "big") + b"{}",
])
def test_malformed_messages_are_refused(payload):
    with pytest.raises(wire.WireError):
        wire.unpack(payload)


def test_arrays_travel_as_raw_bytes():
    big = np.arange(1000.0)
    payload = wire.pack({"x": big})
    assert len(payload) < big.nbytes + 200  # no base64
    assert np.array_equal(wire.unpack(payload)["x"], big)


@pytest.mark.parametrize("value", [
    np.arange(12.0).reshape(3, 4).T, np.asfortranarray(np.ones((2, 3))), np.array(2.5),
    np.zeros((3, 0, 2), dtype=np.float32), np.arange(5, dtype=">i4"), np.array([True]),
])
def test_a_frame_is_its_length_then_the_packed_message(value):
    """Arrays of every layout (views, Fortran order, no dimension, no element) go into
    a frame joined once from their own memory: the same bytes as the packed message."""
    message = {"args": [value, [value, 1.5]], "kwargs": {"v": value}}
    payload = wire.pack(message)
    assert wire.frame(message) == len(payload).to_bytes(8, "big") + payload
    back = wire.unpack(payload)
    assert back["args"][0].shape == value.shape and back["args"][0].dtype == value.dtype
    assert np.array_equal(back["kwargs"]["v"], value)


def test_frames_and_size_limit():
    buf = io.BytesIO()
    wire.write_frame(buf, {"x": np.ones(3)})
    buf.seek(0)
    assert np.array_equal(wire.read_frame(buf)["x"], np.ones(3))
    huge = io.BytesIO((wire.MAX_FRAME_BYTES + 1).to_bytes(8, "big"))
    with pytest.raises(wire.WireError):
        wire.read_frame(huge)


@pytest.mark.parametrize("frame", [
    {"status": 5},
    {"status": "ok", "value": 1.0, "mutated": 5},
    {"status": "ok", "value": 1.0, "aliased": [1]},
    {"status": "ok", "value": 1.0, "warnings": ["x"]},
    {"status": "ok", "value": 1.0, "warnings": [{"category": 3}]},
    {"status": "ok", "value": 1.0, "output": "printed"},
    {"status": "ok", "value": 1.0, "output": {"text": 3}},
    {"status": "raised", "type": "ValueError", "mro": "ValueError", "message": "m"},
    {"status": "raised", "type": "ValueError", "mro": ["ValueError"], "fatal": "yes"},
    {"status": "exited", "code": "3"},
])
def test_a_worker_frame_of_the_wrong_shape_costs_the_function_not_the_grading(frame):
    """Student code can write frames of its own to its worker's socket: a frame whose
    fields are of the wrong kinds is the function's problem (a malformed reply), never
    the grader's."""
    from grader.sandbox import Limits
    from grader.student import Channel, StudentCrashed, StudentFunction, WorkerProcess

    frames = [{"status": "alive"}, {"status": "ready"}, frame]
    channel = Channel(receive=lambda timeout: frames.pop(0), writer=io.BytesIO(),
                      kill=lambda: None, exit_code=lambda timeout: 0, scratch="/nonexistent")
    worker = WorkerProcess(lambda: channel, "diagnostics", "relative_error", Limits(),
                           lambda: "")
    with pytest.raises(StudentCrashed, match="malformed"):
        StudentFunction("relative_error", worker).call(1.0, 2.0)

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
    _framed(b'[1, 2]'),
    _framed(b'not json'),
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


def test_frames_and_size_limit():
    buf = io.BytesIO()
    wire.write_frame(buf, {"x": np.ones(3)})
    buf.seek(0)
    assert np.array_equal(wire.read_frame(buf)["x"], np.ones(3))
    huge = io.BytesIO((wire.MAX_FRAME_BYTES + 1).to_bytes(8, "big"))
    with pytest.raises(wire.WireError):
        wire.read_frame(huge)

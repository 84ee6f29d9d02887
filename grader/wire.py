"""Plain data across the process boundary: JSON with tagged NumPy arrays.

Nothing here unpickles or evaluates anything. A message is a JSON document
followed by the raw bytes of the arrays it holds: an array is tagged in the
JSON with its dtype, its shape and the index of its buffer, and only plain
numeric and boolean dtypes are accepted.
Values a student may return that are not plain data (a torch tensor, an
object array, a function) decode to :class:`Unsupported`, so that a check can
say what it got instead of what it expected.

Two tags go only from the grader to a worker: ``Rng(seed)`` (the worker passes
``numpy.random.default_rng(seed)``) and ``Fn(name, params)`` (the worker passes
a function from ``grader.testfns``). ``RngState(state)`` carries a NumPy
generator's state both ways with a helper's question and its answer
(``grader.helpers``).
"""
from __future__ import annotations

import base64
import json
import math
import struct
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Rng",
    "Fn",
    "RngState",
    "Unsupported",
    "WireError",
    "MAX_FRAME_BYTES",
    "encode",
    "decode",
    "pack",
    "unpack",
    "frame",
    "write_frame",
    "read_frame",
]

#: The largest message either side accepts (a 10**9-element array is refused).
MAX_FRAME_BYTES = 256 * 1024 * 1024
_ALLOWED_KINDS = "biufc"
_HEADER = struct.Struct(">Q")


class WireError(ValueError):
    """A message that is not plain data, too large, or malformed."""


@dataclass(frozen=True)
class Rng:
    """Stands for ``numpy.random.default_rng(seed)``, made in the worker."""

    seed: tuple[int, ...]


@dataclass(frozen=True)
class Fn:
    """Stands for ``functools.partial(grader.testfns.<name>, **params)``."""

    name: str
    params: dict = field(default_factory=dict)

    def __hash__(self) -> int:  # params is a dict; identity by name is enough
        return hash(self.name)


@dataclass(frozen=True)
class RngState:
    """A ``numpy.random.Generator`` as its bit generator's ``state`` (plain data)."""

    state: dict

    def __hash__(self) -> int:
        return hash(repr(self.state))


@dataclass(frozen=True)
class Unsupported:
    """A returned value that is not plain data; ``type_name`` says what it was."""

    type_name: str
    text: str = ""


def _type_name(value: object) -> str:
    t = type(value)
    mod = t.__module__
    return t.__qualname__ if mod == "builtins" else f"{mod}.{t.__qualname__}"


def encode(value: object, *, _depth: int = 0, _buffers: list | None = None) -> object:
    """Turn ``value`` into JSON-ready data, tagging what JSON cannot hold.

    Arrays go to ``_buffers`` (raw bytes, referred to by index) when a list is
    given, else inline as base64.
    """
    return _encode(value, _depth, _buffers)


def _encode(value: object, depth: int, buffers: list | None) -> object:
    if depth > 64:
        raise WireError("value nested more than 64 levels deep")
    t = type(value)
    if t is str or t is bool or value is None:  # the common types first, exactly
        return value
    if t is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if t is int:
        return value if abs(value) < 2**63 else {"__bigint__": str(value)}
    d = depth + 1
    if t is list:
        return [_encode(v, d, buffers) for v in value]
    if t is tuple:
        return {"__tuple__": [_encode(v, d, buffers) for v in value]}
    if t is dict:
        return {"__dict__": [[_encode(k, d, buffers), _encode(v, d, buffers)]
                             for k, v in value.items()]}
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ALLOWED_KINDS or value.dtype.hasobject:
            return {"__unsupported__": f"numpy.ndarray of dtype {value.dtype}", "text": ""}
        arr = np.ascontiguousarray(value)
        if arr.nbytes > MAX_FRAME_BYTES:
            raise WireError(f"array of {arr.nbytes} bytes is too large")
        tag = {"__nd__": arr.dtype.str, "shape": list(value.shape)}
        if buffers is None:
            tag["data"] = base64.b64encode(arr.tobytes()).decode("ascii")
        else:
            tag["buf"] = len(buffers)
            buffers.append(arr)
        return tag
    if isinstance(value, np.generic):
        if value.dtype.kind not in _ALLOWED_KINDS:
            return {"__unsupported__": _type_name(value), "text": ""}
        return {"__np__": value.dtype.str, "value": _encode(value.item(), d, buffers)}
    if t in (set, frozenset):
        return {"__set__": [_encode(v, d, buffers) for v in value]}
    if isinstance(value, Rng):
        return {"__rng__": list(value.seed)}
    if isinstance(value, Fn):
        return {"__fn__": value.name, "params": _encode(value.params, d, buffers)}
    if isinstance(value, RngState):
        return {"__rngstate__": _encode(value.state, d, buffers)}
    if isinstance(value, Unsupported):
        return {"__unsupported__": value.type_name, "text": value.text}
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001 - a student's __repr__ may raise anything
        text = ""
    return {"__unsupported__": _type_name(value), "text": text}


_PLAIN = (str, int, float, bool)


def decode(data: object, *, _depth: int = 0, _buffers: list | None = None) -> object:
    """Invert :func:`encode`; raises :class:`WireError` on anything unexpected."""
    return _decode(data, _depth, _buffers)


def _decode(data: object, depth: int, buffers: list | None) -> object:
    if depth > 66:
        raise WireError("message nested too deeply")
    t = type(data)
    if t in _PLAIN or data is None:
        return data
    d = depth + 1
    if t is list:
        return [_decode(v, d, buffers) for v in data]
    if t is not dict or len(data) == 0:
        raise WireError(f"unexpected JSON value {t.__name__}")
    if "__nd__" in data:
        dtype = np.dtype(str(data["__nd__"]))
        if dtype.kind not in _ALLOWED_KINDS or dtype.hasobject:
            raise WireError(f"refused dtype {dtype}")
        shape = tuple(int(s) for s in data["shape"])
        if any(s < 0 for s in shape):
            raise WireError("negative dimension")
        if "buf" in data:
            index = data["buf"]
            if buffers is None or not isinstance(index, int) or not 0 <= index < len(buffers):
                raise WireError("array refers to a buffer the message does not have")
            raw = buffers[index]
        else:
            raw = base64.b64decode(str(data["data"]).encode("ascii"), validate=True)
        if len(raw) != dtype.itemsize * math.prod(shape):
            raise WireError("array bytes do not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if "__tuple__" in data:
        return tuple(_decode(v, d, buffers) for v in data["__tuple__"])
    if "__dict__" in data:
        out = {}
        for pair in data["__dict__"]:
            k, v = pair
            key = _decode(k, d, buffers)
            try:
                out[key] = _decode(v, d, buffers)
            except TypeError as exc:
                raise WireError("unhashable dict key") from exc
        return out
    if "__np__" in data:
        dtype = np.dtype(str(data["__np__"]))
        if dtype.kind not in _ALLOWED_KINDS:
            raise WireError(f"refused dtype {dtype}")
        return dtype.type(_decode(data["value"], d, buffers))
    if "__set__" in data:
        items = [_decode(v, d, buffers) for v in data["__set__"]]
        try:
            return frozenset(items)
        except TypeError as exc:
            raise WireError("unhashable set member") from exc
    if "__float__" in data:
        text = str(data["__float__"])
        if text not in ("nan", "inf", "-inf"):
            raise WireError(f"bad float {text!r}")
        return float(text)
    if "__bigint__" in data:
        return int(str(data["__bigint__"]))
    if "__rng__" in data:
        return Rng(tuple(int(s) for s in data["__rng__"]))
    if "__fn__" in data:
        params = _decode(data["params"], d, buffers)
        return Fn(str(data["__fn__"]), params if isinstance(params, dict) else {})
    if "__rngstate__" in data:
        state = _decode(data["__rngstate__"], d, buffers)
        if not isinstance(state, dict):
            raise WireError("a generator's state that is not a dict")
        return RngState(state)
    if "__unsupported__" in data:
        return Unsupported(str(data["__unsupported__"]), str(data.get("text", "")))
    raise WireError(f"unknown tag in {sorted(data)[:3]}")


def _parts(message: dict) -> tuple[list, int]:
    """The pieces of a packed message (arrays as views of their own memory: joined once,
    never copied before) and their total size."""
    buffers: list = []
    head = json.dumps(encode(message, _buffers=buffers), separators=(",", ":")).encode("utf-8")
    parts = [_HEADER.pack(len(head)), head]
    for arr in buffers:
        parts += [_HEADER.pack(arr.nbytes), arr.reshape(-1).view(np.uint8)]
    return parts, len(head) + _HEADER.size * (1 + len(buffers)) + sum(a.nbytes for a in buffers)


def pack(message: dict) -> bytes:
    """A message as bytes: the JSON length, the JSON, then each buffer's length and bytes."""
    return b"".join(_parts(message)[0])


def unpack(payload: bytes) -> dict:
    view = memoryview(payload)
    try:
        if len(view) < _HEADER.size:
            raise ValueError("truncated")
        (size,) = _HEADER.unpack(view[:_HEADER.size])
        at = _HEADER.size + size
        if at > len(view):
            raise ValueError("truncated")
        data = json.loads(bytes(view[_HEADER.size:at]).decode("utf-8"))
        buffers = []
        while at < len(view):
            if at + _HEADER.size > len(view):
                raise ValueError("truncated buffer length")
            (n,) = _HEADER.unpack(view[at:at + _HEADER.size])
            at += _HEADER.size
            if at + n > len(view):
                raise ValueError("truncated buffer")
            buffers.append(view[at:at + n])
            at += n
    except (UnicodeDecodeError, ValueError, struct.error, RecursionError) as exc:
        raise WireError(f"malformed message: {type(exc).__name__}: {exc}") from None
    try:
        message = decode(data, _buffers=buffers)
    except WireError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
            RecursionError) as exc:  # a tag with the wrong kind of value inside
        raise WireError(f"malformed message: {type(exc).__name__}: {exc}") from None
    if not isinstance(message, dict):
        raise WireError("a message must be a dict")
    return message


def frame(message: dict) -> bytes:
    """``message`` as one frame: its length, then the packed message."""
    parts, size = _parts(message)
    if size > MAX_FRAME_BYTES:
        raise WireError(f"message of {size} bytes exceeds {MAX_FRAME_BYTES}")
    return b"".join([_HEADER.pack(size), *parts])


def write_frame(stream, message: dict) -> None:
    stream.write(frame(message))
    stream.flush()


def _read_exact(stream, n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(stream) -> dict:
    (size,) = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    if size > MAX_FRAME_BYTES:
        raise WireError(f"message of {size} bytes exceeds {MAX_FRAME_BYTES}")
    return unpack(_read_exact(stream, size))

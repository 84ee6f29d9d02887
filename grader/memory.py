"""What a grading process computed for one submission that the next one needs again.

Grading is deterministic for a seed: every submission gets the same
property-based examples and the same inputs, so the grader's own side of a
grading (drawing the examples, and the expected values its oracles compute
from those inputs: torch autograd, ``torch.nn.init`` samples, Keras'
answers) is the same for every submission. A process that grades more than
once (``grader batch``'s graders, ``grader watch``) keeps both here, in its
own memory, and the next grading reuses them; the student's function still
runs on every input, in its own worker, exactly as the first time.

* **Examples.** Hypothesis draws about 1,200 examples for a full check, at
  about 1 ms each. A replay that meets a failure does not report it: the
  check searches again with hypothesis from the same seed, which reaches the
  same failure (the calls before it were the same) and shrinks it, so the
  message is the one a first run gives. Only examples on which a property
  held are kept. A replay knows its examples' calls before it makes them and
  sends them to the worker ahead (``grader.properties``); where an example
  makes a second call, this is noted, and the next replays go one by one.
* **Expected values.** An oracle's answer is kept under a fingerprint of the
  oracle and of every argument (the bytes of arrays included), and handed
  out as a copy, so no check can change what the next submission expects.
  An oracle that draws from an rng is kept with the rng's state before and
  after, and the rng is left where the oracle would have left it.

Nothing of a submission is read or kept, but for inputs derived from it
(which only make more keys). The expected values stop growing at a bound,
beyond which they are computed as if none were kept; the examples need none
(one set per check and seed, kept only where the property held).
"""
from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np

__all__ = ["Memory", "fingerprint"]

#: at most this many expected values, and this many bytes of arrays among them
MAX_VALUES = 50_000
MAX_BYTES = 1 << 30


def _feed(h, value) -> None:
    """Hash ``value`` (plain data, arrays, rngs) into ``h``, type by type."""
    if isinstance(value, np.ndarray):
        h.update(b"A" + value.dtype.str.encode() + repr(value.shape).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        h.update(b"L" if isinstance(value, list) else b"T")
        h.update(str(len(value)).encode())
        for v in value:
            _feed(h, v)
    elif isinstance(value, dict):
        h.update(b"D" + str(len(value)).encode())
        for k, v in value.items():
            _feed(h, k)
            _feed(h, v)
    elif isinstance(value, np.random.Generator):
        h.update(b"G" + repr(sorted(value.bit_generator.state.items())).encode())
    elif value is None or isinstance(value, (bool, int, float, complex, str, bytes,
                                             np.generic)):
        h.update(type(value).__name__.encode() + b":" + repr(value).encode())
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def fingerprint(*parts) -> bytes:
    """A digest of ``parts`` (plain data and NumPy arrays), equal for equal values."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, parts)
    return h.digest()


def _copy(value):
    """A copy no caller can change the kept value through."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


class Memory:
    """The examples drawn and the expected values computed so far, in this process."""

    def __init__(self, max_values: int = MAX_VALUES, max_bytes: int = MAX_BYTES,
                 ahead: bool = True) -> None:
        self._drawn: dict[tuple, tuple] = {}
        self._one_by_one: set[tuple] = set()
        #: whether replays send their calls ahead (``python -m bench workers`` compares)
        self.ahead = ahead
        self._values: dict[bytes, tuple] = {}
        self._max_values, self._max_bytes, self._bytes = max_values, max_bytes, 0

    # -- property-based examples (grader.properties.for_all) ------------------------
    def replay(self, key: tuple) -> tuple | None:
        """The examples kept under ``key`` (seed, number of examples, strategy), or None."""
        return self._drawn.get(key)

    def keep(self, key: tuple, examples: tuple) -> None:
        self._drawn[key] = examples

    def one_by_one(self, key: tuple) -> bool:
        """Whether the replay of ``key`` makes calls that cannot be sent ahead (some
        example makes more than one: ``grader.properties``)."""
        return not self.ahead or key in self._one_by_one

    def keep_one_by_one(self, key: tuple) -> None:
        self._one_by_one.add(key)

    # -- expected values -------------------------------------------------------------
    def expected(self, oracle: Callable, *args, **kwargs):
        """``oracle(*args, **kwargs)``, computed once for all the gradings of this process
        (arguments that are not plain data or arrays: computed every time)."""
        try:
            key = fingerprint(oracle.__module__, oracle.__qualname__, args, kwargs)
        except TypeError:
            return oracle(*args, **kwargs)
        found = self._values.get(key)
        if found is None:
            found = (oracle(*args, **kwargs),)
            self._store(key, found)
        return _copy(found[0])

    def draw(self, rng: np.random.Generator, key: tuple, draw: Callable):
        """``draw(rng)``, a draw of the grader's own from ``rng`` (a framework's sample):
        computed once per state of ``rng`` and ``key``, ``rng`` left as the draw leaves it."""
        digest = fingerprint("drawn", key, rng)
        found = self._values.get(digest)
        if found is None:
            found = (draw(rng), rng.bit_generator.state)
            self._store(digest, found)
        else:
            rng.bit_generator.state = found[1]
        return _copy(found[0])

    def _store(self, key: bytes, entry: tuple) -> None:
        """Keep ``entry`` (never handed out itself: callers get copies) if there is room."""
        size = _nbytes(entry[0])
        if len(self._values) < self._max_values and self._bytes + size <= self._max_bytes:
            self._values[key] = entry
            self._bytes += size

    def __len__(self) -> int:
        return len(self._drawn) + len(self._values)

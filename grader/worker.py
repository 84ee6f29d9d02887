"""The worker: the only place where student code runs.

A worker grades one student function (or reads one module attribute, for the
quiz). It is either forked, already warm, from ``grader.forkserver`` (Linux)
or started as a fresh interpreter (``python -m grader.worker SPEC``,
elsewhere); both then run :func:`serve`, which says it is alive, imports the
student's module, hands the module's other student-API functions over to
stand-ins whose calls the grader answers with its own oracles (a bug in a
helper is graded once, in the helper; ``grader.helpers``), and answers calls
over length-prefixed frames. No oracle of the grader is in a worker.

What student code prints is captured by Python-level streams into a bounded
buffer (the first 64 KB kept, the rest counted) and sent back with each
reply; printing never fails a function. File descriptors 1 and 2 go to
``/dev/null`` and to a capped file of the scratch directory (the tail of
which explains a crash).

Everything the worker sends is plain data (``grader.wire``); the grader
validates it and never unpickles or executes anything it receives. The
worker runs no check: it only calls and reports.
"""
from __future__ import annotations

import collections
import functools
import importlib
import importlib.machinery
import importlib.util
import io
import json
import operator
import os
import sys
import traceback
import warnings

__all__ = ["serve", "main", "call_target", "load_module", "substitute_helpers", "asking",
           "Guard", "dict_versions", "grader_modules", "guarded_imports", "GUARDED_MODULES"]

_TEXT_CAP = 4000
_CAPTURE_CAP = 64 * 1024

#: modules whose attributes student code must not replace
GUARDED_MODULES = ("builtins", "math", "numpy", "numpy.random", "numpy.linalg", "grader.wire",
                   "grader.worker", "grader.extract", "grader.testfns", "grader.materialize")


class _Capture(io.TextIOBase):
    """A text stream keeping the first ``cap`` characters written since the last take()."""

    def __init__(self, cap: int = _CAPTURE_CAP) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> dict | None:
        if not self.size and not self.dropped:
            return None
        out = {"text": "".join(self.parts), "dropped": self.dropped}
        self.parts, self.size, self.dropped = [], 0, 0
        return out


def _streams(proto_in_fd: int, proto_out_fd: int, scratch: str):
    """Private protocol streams; fds 0-2 pointed away; Python's streams captured."""
    proto_in = os.fdopen(os.dup(proto_in_fd), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(proto_out_fd), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDWR)
    err = os.open(os.path.join(scratch, "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                  0o600)
    for fd, target in ((0, devnull), (1, devnull), (2, err)):
        os.dup2(target, fd)
    os.close(devnull)
    os.close(err)
    for fd in {proto_in_fd, proto_out_fd} - {0, 1, 2}:
        os.close(fd)
    capture = _Capture()
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = capture
    return proto_in, proto_out, capture


#: a path's real path, remembered for the worker's life: a student's function that
#: raises on purpose (a ValueError for a bad shape) does so hundreds of times per
#: grading, and each traceback would otherwise ask the file system again for the same
#: few paths (the submission's folder is read-only in the sandbox)
_real = functools.lru_cache(maxsize=1024)(os.path.realpath)


def _student_traceback(exc: BaseException, submission: str) -> str:
    """The frames of the student's own files, as Python prints them."""
    frames = traceback.extract_tb(exc.__traceback__)
    root = _real(submission)
    own = [f for f in frames if _real(f.filename).startswith(root + os.sep)]
    for f in own:
        f.filename = os.path.relpath(_real(f.filename), root)
    if isinstance(exc, SyntaxError) and isinstance(exc.filename, str) \
            and _real(exc.filename).startswith(root + os.sep):  # where a notebook's went
        exc.filename = os.path.relpath(_real(exc.filename), root)
    lines = traceback.format_list(own)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-_TEXT_CAP:]


def _exception_report(exc: BaseException, submission: str, expected: str | None = None
                      ) -> dict:
    """``exc`` as plain data; an instance of the class named ``expected`` (the refusal a
    check asked for) goes without its traceback, which no message shows."""
    mro = [
        c.__name__ if c.__module__ == "builtins" else f"{c.__module__}.{c.__qualname__}"
        for c in type(exc).__mro__
    ]
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001
        message = "<unprintable>"
    return {"type": mro[0], "mro": mro, "message": message[:_TEXT_CAP],
            "traceback": "" if expected in mro else _student_traceback(exc, submission)}


class _SubmissionFinder:
    """Resolve ``assignment``, ``assignment.<m>`` and ``<m>`` to the submission's files.

    It sits first on ``sys.meta_path`` so that an installed ``assignment``
    package (the shipped stubs) can never stand in for the student's files.
    """

    def __init__(self, submission: str, modules: tuple[str, ...]) -> None:
        self.submission = submission
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "assignment":
            return importlib.util.spec_from_loader(fullname, loader=None, is_package=True)
        name = fullname.split(".", 1)[1] if fullname.startswith("assignment.") else fullname
        if name in self.modules and fullname in (name, f"assignment.{name}"):
            file = os.path.join(self.submission, f"{name}.py")
            if not os.path.isfile(file):
                raise ModuleNotFoundError(f"the submission has no {name}.py", name=fullname)
            return importlib.util.spec_from_file_location(fullname, file,
                                                          loader=_SourceOnly(fullname, file))
        return None


class _SourceOnly(importlib.machinery.SourceFileLoader):
    """Compiles the file's source every time: bytecode found beside it (a planted
    ``__pycache__``) is never read, so what runs is what the grader reads."""

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)


def _submission_hook(root: str):
    """A ``sys.path_hooks`` entry: the submission's folder imports ``.py`` sources only."""
    def hook(path: str):
        if os.path.realpath(path or ".") != root:
            raise ImportError("not the submission")
        return importlib.machinery.FileFinder(path, (_SourceOnly, [".py"]))
    return hook


def load_module(submission: str, module: str):
    """Import ``<submission>/<module>.py`` as ``assignment.<module>``.

    The submission's own helper modules import from their sources only (no
    bytecode, no compiled extension of the submission's).
    """
    from grader.contract import TASKS

    sys.meta_path.insert(0, _SubmissionFinder(submission, TASKS))
    sys.path_hooks.insert(0, _submission_hook(os.path.realpath(submission)))
    sys.path_importer_cache.pop(submission, None)
    sys.path.insert(0, submission)
    package = importlib.import_module("assignment")
    package.__path__ = [submission]
    mod = importlib.import_module(f"assignment.{module}")
    sys.modules[module] = mod
    return mod


def substitute_helpers(mod, target: str, helpers, exchange, deterministic=()) -> list[str]:
    """Point the module's other student-API functions at the grader's answers.

    ``helpers`` names the functions the grader answers for (never ``target``); each
    becomes a stand-in (:func:`asking`) whose calls are questions to the grader,
    ``exchange(question) -> answer``; those of ``deterministic`` remember their small
    answers. No oracle of the grader is in this process.
    """
    replaced = []
    for name in helpers or ():
        if name != target and hasattr(mod, name):
            setattr(mod, name, asking(name, exchange, {} if name in deterministic else None))
            replaced.append(name)
    return replaced


#: the answers a deterministic stand-in remembers: questions and answers of at most
#: _MEMO_BYTES each as sent, at most _MEMO_ENTRIES of them
_MEMO_BYTES = 4096
_MEMO_ENTRIES = 4096


def asking(name: str, exchange, memo: dict | None = None):
    """The stand-in for the module's ``name``: each call asks the grader
    (``grader.helpers``). A NumPy generator among the arguments goes as its state and
    is advanced by the answer; an exception the grader's oracle raised (SPEC's
    ``ValueError``) is raised here, as a built-in exception of the same name. Given a
    ``memo`` (a helper whose answer depends on the question alone), a question asked
    before is answered from it, as a fresh copy."""
    def stand_in(*args, **kwargs):
        import numpy as np

        from grader import wire

        generators = []

        def sent(value):
            if isinstance(value, np.random.Generator):
                generators.append(value)
                return wire.RngState(value.bit_generator.state)
            return value
        question = {"status": "helper", "name": name, "args": [sent(a) for a in args],
                    "kwargs": {k: sent(v) for k, v in kwargs.items()}}
        key = _memo_key(question) if memo is not None and not generators else None
        if key is not None and key in memo:
            answer = wire.unpack(memo[key])
        else:
            answer = exchange(question)
            if key is not None and len(memo) < _MEMO_ENTRIES:
                packed = wire.pack(answer)
                if len(packed) <= _MEMO_BYTES:
                    memo[key] = packed
        if answer.get("status") == "ok":
            states = answer.get("states")
            for generator, state in zip(generators, states if type(states) is list else ()):
                if isinstance(state, wire.RngState):
                    generator.bit_generator.state = state.state
            return answer.get("value")
        raise _answered_error(answer)
    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in


def _memo_key(question: dict) -> bytes | None:
    """The question as sent, when small enough to remember (None otherwise)."""
    from grader import wire

    try:
        key = wire.pack(question)
    except wire.WireError:
        return None
    return key if len(key) <= _MEMO_BYTES else None


def _answered_error(answer: dict) -> Exception:
    import builtins

    kind, message = str(answer.get("type", "RuntimeError")), str(answer.get("message", ""))
    cls = getattr(builtins, kind, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return RuntimeError(f"{kind}: {message}")


class _Questions:
    """The worker's side of the protocol while a stand-in waits for the grader's answer:
    calls sent ahead that arrive meanwhile wait in ``pending`` for their turn."""

    def __init__(self, read, send) -> None:
        self.read, self.send = read, send
        self.pending: "collections.deque[dict]" = collections.deque()

    def next_request(self) -> dict:
        return self.pending.popleft() if self.pending else self.read()

    def exchange(self, question: dict) -> dict:
        self.send(question, strict=True)
        while True:
            frame = self.read()
            if frame.get("op") == "answer":
                return frame
            self.pending.append(frame)


_SCALARS = (float, int, str, bool, type(None))


def _array_leaves(value, path: str, out: list | None = None) -> list:
    """(path, array) of every array in ``value`` (lists, tuples, dict values)."""
    import numpy as np

    out = [] if out is None else out
    if type(value) in _SCALARS:
        return out
    if isinstance(value, np.ndarray):
        out.append((path, value))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            if type(v) not in _SCALARS:
                _array_leaves(v, f"{path}[{i}]", out)
    elif isinstance(value, dict):
        for k, v in value.items():
            if type(v) not in _SCALARS:
                _array_leaves(v, f"{path}[{k!r}]", out)
    return out


def _unchanged(arr, old) -> bool:
    """Whether ``arr`` still holds what its copy ``old`` holds (NaN equal to NaN)."""
    import numpy as np

    if arr.shape != old.shape:
        return False
    if arr.dtype == old.dtype and arr.tobytes() == old.tobytes():
        return True
    return bool(np.array_equal(arr, old, equal_nan=True))


def _frameworks_loaded() -> list[str]:
    from grader.contract import FRAMEWORK_MODULES

    return sorted(m for m in FRAMEWORK_MODULES if m in sys.modules)


def grader_modules() -> frozenset[str]:
    """The grader's modules loaded in this process (listing sys.modules touches every
    name in it: a server lists them once, before it forks, for all its workers)."""
    return frozenset(m for m in list(sys.modules) if m == "grader" or m.startswith("grader."))


class Guard:
    """The namespaces student code must not patch, as they were before any of it ran.

    One guard per worker: each call is checked against it (any change found is
    fatal, and the worker exits, so it never needs retaking). A server takes
    one before it forks, which each worker inherits while nothing it guards has
    changed (:meth:`unchanged`). ``loaded`` is the grader's modules and the
    number of all modules, as the server listed them before it forked this
    worker; a worker that imported more since lists its own. A module imported
    later that is not the grader's (the student's, or a library's) is allowed.
    """

    def __init__(self, loaded: tuple[frozenset[str], int] | None = None) -> None:
        if loaded is None or loaded[1] != len(sys.modules):
            loaded = (grader_modules(), len(sys.modules))
        self.graders, self.count = loaded
        self.spaces = {name: vars(sys.modules[name]).copy() for name in GUARDED_MODULES
                       if name in sys.modules}
        self.entries = {name: (tuple(space), tuple(space.values()))
                        for name, space in self.spaces.items()}
        # sys.modules (an import, a module replaced) and every guarded namespace, held
        # here so that none is freed while its version is read
        self.watched = [sys.modules, *(vars(sys.modules[name]) for name in self.spaces)]
        self.versions = dict_versions(self.watched)
        self.seen = self._versions()

    def _versions(self) -> list[int] | None:
        return None if self.versions is None else [v.value for v in self.versions]

    def unchanged(self) -> bool:
        """Whether nothing it guards has changed since it was taken or last looked, as the
        namespaces' versions prove (False where there are none: then nobody knows)."""
        return self.seen is not None and self._versions() == self.seen

    def tampered(self) -> list[str]:
        """What student code replaced or deleted, or the grader's modules it imported.

        Objects are compared by identity, never with ``==``: a stand-in whose
        ``__eq__`` says yes to anything is a replacement all the same. Where the
        interpreter versions its dictionaries (:func:`dict_versions`), namespaces
        none of which changed since the last look are not compared again.
        """
        if self.unchanged():
            return []
        changed = self._compared()
        if not changed:
            self.seen = self._versions()  # what changed is allowed: an import, a name added
        return changed

    def _compared(self) -> list[str]:
        changed = []
        for name, space in self.spaces.items():
            module = sys.modules.get(name)
            current = vars(module) if module is not None else {}
            names, values = self.entries[name]
            if len(current) == len(names) and all(map(operator.is_, current.values(), values)) \
                    and all(map(operator.is_, current, names)):
                continue  # the same objects under the same names, in the same order
            changed += [f"{name}.{attr}" for attr, value in space.items()
                        if current.get(attr, _MISSING) is not value]
        imported = []
        if len(sys.modules) != self.count:  # something was imported (or removed): the grader?
            imported = [f"{m} (imported the grader)" for m in grader_modules() - self.graders]
            if not imported:
                self.count = len(sys.modules)
        return sorted(changed) + sorted(imported)

    def restore(self) -> None:
        """Put the guarded namespaces back as they were (so that the report can be sent)."""
        for name, space in self.spaces.items():
            module = sys.modules.get(name)
            if module is not None:
                current = vars(module)
                for attr in [a for a in current if a not in space]:
                    del current[attr]
                current.update(space)


_MISSING = object()


def dict_versions(dicts: list[dict]) -> list | None:
    """A live reader of each dictionary's version, or None where there is none to trust.

    CPython 3.11 and 3.12 give every dictionary a version that changes whenever the
    dictionary does (PEP 509; its ``ma_version_tag``, after the object's header and
    its size): a version read twice unchanged proves the dictionary unchanged, in
    one memory read instead of a comparison of every entry. The layout is checked
    on a probe (a value replaced, which leaves the size alone, must change the
    version of that dictionary and of no other) before it is trusted; any other
    interpreter gets None, and the guard compares every entry.
    """
    if sys.implementation.name != "cpython" or sys.maxsize <= 2**32 \
            or not (3, 11) <= sys.version_info[:2] <= (3, 12):
        return None
    import ctypes

    offset = 2 * ctypes.sizeof(ctypes.c_void_p) + ctypes.sizeof(ctypes.c_ssize_t)

    def reader(d: dict):
        return ctypes.c_uint64.from_address(id(d) + offset)

    probe, other = {"value": 0}, {"value": 0}
    mine, theirs = reader(probe), reader(other)
    seen, untouched = [mine.value], theirs.value
    for value in (1, 2):
        probe["value"] = value
        seen.append(mine.value)
    if len(set(seen)) != 3 or theirs.value != untouched:
        return None
    return [reader(d) for d in dicts]


def _tamper_report(names: list[str], when: str) -> dict:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return {"type": "TamperingDetected", "mro": ["TamperingDetected"],
            "message": f"the code replaced or deleted {shown} {when}; code that patches "
                       "NumPy, builtins or the grader earns no points", "traceback": ""}


def call_target(target, request: dict, submission: str, guard: Guard | None = None) -> dict:
    """Call ``target`` as ``request`` asks and report what it did, as plain data.

    ``guard`` is the worker's :class:`Guard` (None takes one now).
    """
    import numpy as np

    from grader import extract
    from grader.materialize import materialize

    args = materialize(request.get("args", []))
    kwargs = materialize(request.get("kwargs", {}))
    watched = _array_leaves([args, kwargs], "input")
    copies = [(path, arr.copy()) for path, arr in watched]
    loaded_before = _frameworks_loaded()
    guard = Guard() if guard is None else guard
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = target(*args, **kwargs)
            aliased = [f"{out} ~ {inp}" for out, arr in _array_leaves(value, "output")
                       for inp, given in watched
                       if np.may_share_memory(arr, given) and np.shares_memory(arr, given)]
            post = request.get("post")
            if post:
                value = extract.EXTRACTORS[post](value)
        except NotImplementedError as exc:
            return {"status": "not_implemented", "message": str(exc)[:_TEXT_CAP]}
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: it is the student's
            return {"status": "raised",
                    **_exception_report(exc, submission, request.get("expected"))}
    tampered = guard.tampered()
    if tampered:
        guard.restore()
        return {"status": "raised", "fatal": True, **_tamper_report(tampered, "while running")}
    mutated = [path for (path, arr), (_, old) in zip(watched, copies)
               if not _unchanged(arr, old)]
    return {
        "status": "ok",
        "value": value,
        "mutated": mutated,
        "aliased": aliased,
        "warnings": [
            {"category": w.category.__name__, "message": str(w.message)[:_TEXT_CAP]}
            for w in caught
        ],
        "frameworks_loaded": sorted(set(_frameworks_loaded()) - set(loaded_before)),
    }


def guarded_imports() -> None:
    """Import what a worker imports before its :class:`Guard` is taken: NumPy and the
    grader's modules that answer calls (guarded from then on)."""
    import numpy  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401

    from grader import contract, extract, materialize, sandbox, testfns, wire  # noqa: F401


def serve(spec: dict, proto_in_fd: int, proto_out_fd: int, guard: Guard | None = None) -> int:
    """Run one worker: ``spec`` says what to load; frames travel on the two descriptors.

    ``guard`` is one its server took before forking it (after :func:`guarded_imports`);
    it is used if nothing it guards has changed since (as its versions prove), else
    the worker takes its own.
    """
    from grader import sandbox, wire

    scratch = spec["scratch"]
    os.chdir(scratch)
    os.environ.clear()
    os.environ.update(sandbox.worker_env(scratch))
    proto_in, proto_out, capture = _streams(proto_in_fd, proto_out_fd, scratch)
    own_user = spec.get("isolation") == "namespaces" or spec.get("uid") is not None
    sandbox.set_limits(spec["memory_mb"], spec["cpu_s"], spec["file_mb"],
                       tasks=sandbox.task_limit() if own_user else 0)
    sys.dont_write_bytecode = True

    def send(message: dict, strict: bool = False) -> None:
        """Send ``message``; one that is not plain data goes as ``bad_value`` (``strict``:
        raises ``TypeError``, in the student's code that asked a helper with it)."""
        output = capture.take()
        if output:
            message = {**message, "output": output}
        try:
            wire.write_frame(proto_out, message)
        except wire.WireError as exc:
            if strict:
                raise TypeError(f"cannot pass this to the grader: {exc}") from None
            wire.write_frame(proto_out, {"status": "bad_value", "message": str(exc)})

    guarded_imports()
    send({"status": "alive", "pid": os.getpid()})
    if guard is None or not guard.unchanged():
        guard = Guard(spec.get("loaded"))
    submission, module_name, target_name = spec["submission"], spec["task"], spec["target"]
    try:
        if spec.get("trusted"):  # the grader's own module, loaded by the server: no student
            module = importlib.import_module(spec["trusted"])
        else:
            module = load_module(submission, module_name)
        frameworks_at_import = _frameworks_loaded()
    except BaseException as exc:  # noqa: BLE001 - SyntaxError, SystemExit, anything
        send({"status": "import_error", **_exception_report(exc, submission)})
        return 0
    tampered = guard.tampered()
    if tampered:
        guard.restore()
        send({"status": "import_error", **_tamper_report(tampered, "when imported")})
        return 0
    if not hasattr(module, target_name):
        send({"status": "missing", "message": f"{module_name}.py defines no {target_name!r}"})
        return 0
    questions = _Questions(lambda: wire.read_frame(proto_in), send)
    replaced = substitute_helpers(module, target_name, spec.get("helpers"), questions.exchange,
                                  frozenset(spec.get("deterministic", ())))
    send({"status": "ready", "replaced": replaced, "frameworks_at_import": frameworks_at_import})

    target = getattr(module, target_name)
    while True:
        try:
            request = questions.next_request()
        except EOFError:
            return 0
        op = request.get("op")
        if op == "answer":
            continue  # an answer no stand-in waits for any more
        if op == "exit":
            return 0
        if op == "value":
            send({"status": "ok", "value": getattr(module, target_name, None), "mutated": [],
                  "aliased": [], "warnings": [], "frameworks_loaded": []})
        elif op == "call":
            if not callable(target):
                send({"status": "raised", "type": "TypeError", "mro": ["TypeError"],
                      "message": f"{target_name} is not callable", "traceback": ""})
            else:
                reply = call_target(target, request, submission, guard)
                send(reply)
                if reply.get("fatal"):
                    return 0  # patched state must not leak into the next call
        else:
            send({"status": "bad_request", "message": f"unknown op {op!r}"})


def main(argv: list[str] | None = None) -> int:
    """A cold worker (no fork server): ``python -m grader.worker '<spec as JSON>'``."""
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    for name in spec.get("preload", ()):
        importlib.import_module(name)
    return serve(spec, 0, 1)


if __name__ == "__main__":
    sys.exit(main())

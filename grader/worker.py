"""The worker: the only place where student code runs.

Started by ``grader.sandbox`` as a separate Python process for one student
function (or one module attribute, for the quiz). It imports the student's
module, substitutes the reference for the *other* SPEC functions of that
module (SPEC §1: a bug in a helper is graded once, in the helper), then
serves calls over length-prefixed frames on what were its stdin and stdout.
Its own stdout and stderr go to capped files in its scratch directory, so a
student's prints never reach the protocol.

Everything it sends is plain data (``grader.wire``); the grader validates it
and never unpickles or executes anything it receives. The worker runs no
check: it only calls and reports.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import traceback
import warnings

__all__ = ["main"]

_TEXT_CAP = 4000


def _limit_resources(memory_mb: int, cpu_s: int, file_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: the grader's wall-clock timeout still applies
        return
    def setlimit(which, value):
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass
    if memory_mb > 0 and hasattr(resource, "RLIMIT_AS"):
        setlimit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    if cpu_s > 0:
        setlimit(resource.RLIMIT_CPU, cpu_s)
    setlimit(resource.RLIMIT_FSIZE, file_mb * 1024 * 1024)
    setlimit(resource.RLIMIT_CORE, 0)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _protocol_streams():
    """Keep private copies of stdin/stdout for frames; point fds 0-2 elsewhere."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
        target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    return proto_in, proto_out


def _student_traceback(exc: BaseException, submission: str) -> str:
    """The frames of the student's own files, as Python prints them."""
    frames = traceback.extract_tb(exc.__traceback__)
    root = os.path.realpath(submission)
    own = [f for f in frames if os.path.realpath(f.filename).startswith(root + os.sep)]
    for f in own:
        f.filename = os.path.relpath(os.path.realpath(f.filename), root)
    lines = traceback.format_list(own)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-_TEXT_CAP:]


def _exception_report(exc: BaseException, submission: str) -> dict:
    mro = [
        c.__name__ if c.__module__ == "builtins" else f"{c.__module__}.{c.__qualname__}"
        for c in type(exc).__mro__
    ]
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001
        message = "<unprintable>"
    return {
        "type": mro[0],
        "mro": mro,
        "message": message[:_TEXT_CAP],
        "traceback": _student_traceback(exc, submission),
    }


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
            return importlib.util.spec_from_file_location(fullname, file)
        return None


def _load_module(submission: str, module: str):
    """Import ``<submission>/<module>.py`` as ``assignment.<module>``."""
    from grader.contract import TASKS

    sys.meta_path.insert(0, _SubmissionFinder(submission, TASKS))
    sys.path.insert(0, submission)
    package = importlib.import_module("assignment")
    package.__path__ = [submission]
    mod = importlib.import_module(f"assignment.{module}")
    sys.modules[module] = mod
    return mod


def _substitute_reference(mod, task: str, target: str) -> list[str]:
    """Point the module's other SPEC functions at the reference's."""
    from grader.contract import POINTS

    if task not in POINTS or task == "quiz":
        return []
    reference = importlib.import_module(f"reference.{task}")
    replaced = []
    for name in POINTS[task]:
        if name != target and hasattr(reference, name):
            setattr(mod, name, getattr(reference, name))
            replaced.append(name)
    return replaced


def _materialize(value):
    """Turn the wire's Rng and Fn tags into the objects they stand for."""
    import numpy as np

    from grader import testfns, wire

    if isinstance(value, wire.Rng):
        return np.random.default_rng(list(value.seed))
    if isinstance(value, wire.Fn):
        return testfns.make(value.name, value.params)
    if isinstance(value, list):
        return [_materialize(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_materialize(v) for v in value)
    if isinstance(value, dict):
        return {k: _materialize(v) for k, v in value.items()}
    return value


def _array_leaves(value, path="args"):
    import numpy as np

    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _array_leaves(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _array_leaves(v, f"{path}[{k!r}]")


def _frameworks_loaded() -> list[str]:
    from grader.contract import FRAMEWORK_MODULES

    return sorted(m for m in FRAMEWORK_MODULES if m in sys.modules)


_GUARDED_MODULES = ("builtins", "math", "numpy", "numpy.random", "numpy.linalg",
                    "grader.wire", "grader.worker", "grader.extract", "grader.testfns")


def _guarded_state() -> dict[tuple[str, str], int]:
    """Identity of every attribute of the modules student code must not patch,
    and (as ``(name, "")``) which of the grader's modules are loaded."""
    state = {}
    for name in _GUARDED_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            for attr, value in list(vars(module).items()):
                state[(name, attr)] = id(value)
    for name in list(sys.modules):
        if name == "grader" or name.startswith("grader."):
            state[(name, "")] = 0
    return state


def _tampered(before: dict[tuple[str, str], int]) -> list[str]:
    now = _guarded_state()
    changed = [f"{m}.{a}" for (m, a), ident in before.items() if a and now.get((m, a)) != ident]
    imported = [f"{m} (imported the grader)" for (m, a) in now if not a and (m, a) not in before]
    return sorted(changed) + sorted(imported)


def _tamper_report(names: list[str], when: str) -> dict:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return {"type": "TamperingDetected", "mro": ["TamperingDetected"],
            "message": f"the code replaced or deleted {shown} {when}; code that patches "
                       "NumPy, builtins or the grader earns no points", "traceback": ""}


def _call(target, request: dict, submission: str) -> dict:
    import numpy as np

    from grader import extract

    args = _materialize(request.get("args", []))
    kwargs = _materialize(request.get("kwargs", {}))
    watched = list(_array_leaves([args, kwargs], "input"))
    copies = [(path, arr.copy()) for path, arr in watched]
    loaded_before = _frameworks_loaded()
    guarded = _guarded_state()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = target(*args, **kwargs)
            post = request.get("post")
            if post:
                value = extract.EXTRACTORS[post](value)
        except NotImplementedError as exc:
            return {"status": "not_implemented", "message": str(exc)[:_TEXT_CAP]}
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: it is the student's
            return {"status": "raised", **_exception_report(exc, submission)}
    tampered = _tampered(guarded)
    if tampered:
        return {"status": "raised", "fatal": True, **_tamper_report(tampered, "while running")}
    mutated = [
        path
        for (path, arr), (_, old) in zip(watched, copies)
        if arr.shape != old.shape or not np.array_equal(arr, old, equal_nan=True)
    ]
    return {
        "status": "ok",
        "value": value,
        "mutated": mutated,
        "warnings": [
            {"category": w.category.__name__, "message": str(w.message)[:_TEXT_CAP]}
            for w in caught
        ],
        "frameworks_loaded": sorted(set(_frameworks_loaded()) - set(loaded_before)),
    }


def serve(args: argparse.Namespace) -> int:
    from grader import wire

    proto_in, proto_out = _protocol_streams()
    _limit_resources(args.memory_mb, args.cpu_s, args.file_mb)
    sys.dont_write_bytecode = True

    def send(message: dict) -> None:
        try:
            wire.write_frame(proto_out, message)
        except wire.WireError as exc:
            wire.write_frame(proto_out, {"status": "bad_value", "message": str(exc)})

    import numpy  # noqa: F401 - guarded from here on
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401

    from grader import contract, extract, testfns  # noqa: F401 - guarded from here on

    guarded = _guarded_state()
    try:
        module = _load_module(args.submission, args.module)
        frameworks_at_import = _frameworks_loaded()
    except BaseException as exc:  # noqa: BLE001 - SyntaxError, SystemExit, anything
        send({"status": "import_error", **_exception_report(exc, args.submission)})
        return 0
    tampered = _tampered(guarded)
    if tampered:
        send({"status": "import_error", **_tamper_report(tampered, "when imported")})
        return 0
    if not hasattr(module, args.target):
        send({"status": "missing", "message": f"{args.module}.py defines no {args.target!r}"})
        return 0
    replaced = _substitute_reference(module, args.task, args.target) if args.substitute else []
    send({"status": "ready", "replaced": replaced, "frameworks_at_import": frameworks_at_import})

    target = getattr(module, args.target)
    while True:
        try:
            request = wire.read_frame(proto_in)
        except EOFError:
            return 0
        op = request.get("op")
        if op == "exit":
            return 0
        if op == "value":
            send({"status": "ok", "value": getattr(module, args.target, None), "mutated": [],
                  "warnings": [], "frameworks_loaded": []})
        elif op == "call":
            if not callable(target):
                send({"status": "raised", "type": "TypeError", "mro": ["TypeError"],
                      "message": f"{args.target} is not callable", "traceback": ""})
            else:
                reply = _call(target, request, args.submission)
                send(reply)
                if reply.get("fatal"):
                    return 0  # patched state must not leak into the next call
        else:
            send({"status": "bad_request", "message": f"unknown op {op!r}"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grader-worker")
    parser.add_argument("--submission", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--substitute", action="store_true")
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--cpu-s", type=int, default=0)
    parser.add_argument("--file-mb", type=int, default=16)
    args = parser.parse_args(argv)
    args.submission = os.path.realpath(args.submission)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())

"""How a worker process is started and ended: isolation and limits.

Every worker runs in its own process group and session, with its own scratch
directory as working directory, CPU-time, address-space and file-size limits
(set by the worker itself on Linux and macOS), a wall-clock timeout enforced
here, and, on Linux when bubblewrap works, a read-only view of the whole file
system with only the scratch directory writable, no network and its own PID
namespace (so nothing it starts outlives it). Where bubblewrap is missing the
report says so once and the process limits still apply; a token in the
environment lets :func:`reap_strays` find processes that escaped the group.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Limits", "Isolation", "detect_isolation", "spawn", "terminate", "reap_strays"]

PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_TOKEN_VAR = "GRADER_WORKER_TOKEN"
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from grader.worker import main; sys.exit(main(sys.argv[1:]))"
)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker (0 means no limit)."""

    call_timeout_s: float = 20.0
    start_timeout_s: float = 120.0
    memory_mb: int = 3072
    cpu_s: int = 600
    file_mb: int = 16


@dataclass(frozen=True)
class Isolation:
    name: str  # "bubblewrap" or "process"
    note: str = ""


def detect_isolation() -> Isolation:
    """Bubblewrap if it is installed and can make a sandbox here, else process limits.

    ``GRADER_SANDBOX=off`` in the environment turns bubblewrap off.
    """
    return _detect(os.environ.get("GRADER_SANDBOX", "auto").lower())


@lru_cache(maxsize=4)
def _detect(mode: str) -> Isolation:
    if mode in ("off", "none", "0", "no"):
        return Isolation("process", "the file-system sandbox is off (GRADER_SANDBOX=off): "
                         "workers run with process limits only")
    if not sys.platform.startswith("linux"):
        return Isolation("process", f"no file-system sandbox on {sys.platform}: "
                         "workers run with process limits and timeouts only")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation("process", "bubblewrap is not installed: workers run with process "
                         "limits only (apt-get install bubblewrap adds a file-system sandbox)")
    try:
        probe = subprocess.run([bwrap, *_bwrap_args(tempfile.gettempdir()), "true"],
                               capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation("process", f"bubblewrap could not start ({exc}): process limits only")
    if probe.returncode != 0:
        err = probe.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        return Isolation("process", f"bubblewrap cannot make a sandbox here ({err[0]}): "
                         "process limits only")
    return Isolation("bubblewrap")


def _bwrap_args(scratch: str) -> list[str]:
    return [
        "--die-with-parent", "--new-session",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--ro-bind", "/", "/",
        "--dev", "/dev", "--proc", "/proc",
        "--bind", scratch, scratch,
        "--chdir", scratch,
    ]


def spawn(worker_args: list[str], limits: Limits, isolation: Isolation):
    """Start a worker; returns (process, scratch directory, token)."""
    scratch = tempfile.mkdtemp(prefix="grader-worker-")
    token = uuid.uuid4().hex
    env = {
        k: v for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")
        or k.startswith(("OPENBLAS_", "MKL_", "TF_CPP"))
    }
    env.update({
        _TOKEN_VAR: token,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "KERAS_BACKEND": "tensorflow",
        "TMPDIR": scratch,
        "KERAS_HOME": os.path.join(scratch, ".keras"),
        "MPLCONFIGDIR": scratch,
        "CUDA_VISIBLE_DEVICES": "",
    })
    cmd = [sys.executable, "-I", "-B", "-c", _BOOTSTRAP, PROJECT_ROOT, *worker_args,
           "--memory-mb", str(limits.memory_mb), "--cpu-s", str(limits.cpu_s),
           "--file-mb", str(limits.file_mb)]
    if isolation.name == "bubblewrap":
        cmd = [shutil.which("bwrap") or "bwrap", *_bwrap_args(scratch), *cmd]
    kwargs = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    else:
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=scratch, env=env, **kwargs)
    return proc, scratch, token


def terminate(proc: subprocess.Popen, token: str) -> None:
    """Kill the worker, its process group and any stray that kept its token."""
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    reap_strays(token)


def reap_strays(token: str) -> int:
    """Kill processes that carry ``token`` in their environment (Linux only)."""
    if not os.path.isdir("/proc") or not sys.platform.startswith("linux"):
        return 0
    needle = f"{_TOKEN_VAR}={token}".encode()
    killed = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                environ = fh.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed

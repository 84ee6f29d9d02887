"""What killed gradings leave in the temporary folder is removed, and nothing else."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, make_submission, run_cli
from grader import leftovers


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.mark.skipif(os.name != "posix", reason="Windows: no process is taken for gone")
def test_sweep_removes_only_old_folders_of_gone_processes(tmp_path):
    dead = _dead_pid()
    gone = tmp_path / f"grader-worker-{dead}-abc"
    (gone / "sub").mkdir(parents=True)
    (gone / "sub" / "left.txt").write_text("x")
    young = tmp_path / f"grader-batch-{dead}-young"
    young.mkdir()
    alive = tmp_path / f"grader-worker-{os.getppid()}-abc"
    mine = tmp_path / f"grader-worker-{os.getpid()}-abc"
    other = tmp_path / f"somebody-{dead}-abc"
    unnamed = tmp_path / "grader-worker-abc"
    for folder in (alive, mine, other, unnamed):
        folder.mkdir()
    target = tmp_path / "keep"
    target.mkdir()
    link = tmp_path / f"grader-worker-{dead}-link"
    link.symlink_to(target)
    file = tmp_path / f"grader-worker-{dead}-file"
    file.write_text("x")
    for path in (gone, alive, mine, other, unnamed, file):
        _age(path, 7200)
    os.utime(link, (time.time() - 7200,) * 2, follow_symlinks=False)

    assert leftovers.sweep(str(tmp_path)) == 1
    assert not gone.exists()
    for kept in (young, alive, mine, other, unnamed, target, file):
        assert kept.exists(), kept
    assert link.is_symlink()
    assert leftovers.sweep(str(tmp_path), min_age_s=0) == 1  # the young one, now
    assert not young.exists()


def test_sweep_of_named_processes_takes_their_folders_alive_or_not(tmp_path):
    here = tmp_path / f"grader-worker-{os.getpid()}-abc"
    there = tmp_path / f"grader-worker-{os.getppid()}-abc"
    here.mkdir()
    there.mkdir()
    assert leftovers.sweep(str(tmp_path), pids=(os.getpid(),), min_age_s=0) == 1
    assert not here.exists() and there.exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="zombies are read in /proc")
def test_a_killed_process_not_yet_reaped_is_gone(tmp_path):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        while open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0] != "Z":
            time.sleep(0.01)
        folder = tmp_path / f"grader-worker-{pid}-abc"
        folder.mkdir()
        _age(folder, 7200)
        assert leftovers.sweep(str(tmp_path)) == 1
    finally:
        os.waitpid(pid, 0)


def test_folder_is_named_after_this_process(tmp_path):
    path = leftovers.folder("worker", str(tmp_path))
    assert os.path.basename(path).startswith(f"grader-worker-{os.getpid()}-")
    assert oct(os.stat(path).st_mode & 0o777) == "0o700"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the batch forks (Linux)")
def test_a_grader_stopped_past_the_student_timeout_leaves_no_folder(tmp_path):
    cls = tmp_path / "class"
    make_submission(cls / "hangs", overrides={"diagnostics": "while True:\n    pass\n"})
    temp = tmp_path / "temp"
    temp.mkdir()
    proc = run_cli("batch", str(cls), "--output-dir", str(tmp_path / "out"), "--task",
                   "diagnostics", "--timeout", "60", "--student-timeout", "4", "--jobs", "1",
                   env={"TMPDIR": str(temp)})
    assert proc.returncode == 1, proc.stderr
    assert "hangs: timeout" in proc.stderr
    assert list(temp.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="a Ctrl-C is a SIGINT to the process group")
def test_a_check_stopped_with_ctrl_c_leaves_no_folder(tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "check", str(ROOT / "reference"),
                             "--no-cache"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(temp.glob("grader-worker-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(temp.glob("grader-worker-*")), "no worker started"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert list(temp.iterdir()) == []

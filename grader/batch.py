"""``grader batch`` and ``grader merge``: a whole class, in parallel, resumable.

Every subfolder, ``.zip`` or ``.ipynb`` of the class folder is one student,
named by it; the files of Canvas' "Download Submissions" are one student per
Canvas user (``grader.canvasfiles``); any other file (a ``.tar.gz``, notes) is
no student, and is named on the standard error as left out. The batch starts
the worker servers (``grader.workers``; one imports TensorFlow meanwhile),
imports numpy, torch and SciPy once, and forks ``--jobs`` graders from the same
process; each grader takes one student at a time and remembers, from one
student to the next, what the seed alone decides (``grader.memory``). The last
grader starts once the first has graded its first student, with that memory,
while TensorFlow's import takes the core it would have used. Every student's
code still runs in fresh worker processes of its own, in the sandbox: no two
students share a process, a scratch directory or a writable file.

Nothing is lost: each student's reports are written atomically as soon as
that student is done, ``outcome.json`` last (it is what a rerun trusts), and
the gradebook is rewritten atomically after each student. A rerun skips the
students whose submission, grader, seed, tasks and checks are unchanged
(``--force`` regrades them). A grader that crashes, a submission that hangs
the grader past ``--student-timeout``, an internal error: each becomes that
student's row, and the batch goes on. Ctrl-C stops at once and leaves a
consistent gradebook of the students done.

``OUT/`` holds ``gradebook.csv``, ``canvas.csv``, ``items.csv``, ``class.html``,
``batch.json`` (the settings, the shard and the whole class's names, which
``grader merge`` checks) and
``students/<name>/`` (``report.json``, ``report.txt``, any ``--format``,
``outcome.json``). ``--shard K/N`` grades the K-th of N deterministic shares of
the class; ``grader merge OUT...`` combines shards into one ``OUT`` equal to a
single run's.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader.atomic import write_text

__all__ = ["add_parser", "students", "submission_key", "write_class_files"]

EXIT_OK, EXIT_SOME_NOT_GRADED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def add_parser(sub) -> None:
    from grader.cli import add_grading_options
    from grader.reporters import FORMATS

    batch = sub.add_parser(
        "batch", help="grade every submission of a class, in parallel",
        description="Grade every subfolder, .zip or .ipynb of CLASS_DIR (one per student; "
                    "the files of Canvas' \"Download Submissions\" are grouped by student) "
                    "into OUT: per-student reports, gradebook.csv, canvas.csv, items.csv and "
                    "class.html. Exit 0 when every student was graded, 1 when some could not "
                    "be (internal error, timeout), 2 on bad options, 3 on an internal error of "
                    "the batch itself, 130 when interrupted.")
    batch.add_argument("class_dir", metavar="CLASS_DIR")
    batch.add_argument("--output-dir", required=True, metavar="OUT")
    add_grading_options(batch, batch=True)
    batch.add_argument("--format", action="append", choices=sorted(set(FORMATS) - {"text"}),
                       metavar="FORMAT", help="extra report formats per student (json and "
                                              "text are always written)")
    batch.add_argument("--force", action="store_true",
                       help="regrade every student, even those unchanged since the last run")
    batch.add_argument("--shard", metavar="K/N", help="grade only the K-th of N shares")
    batch.add_argument("--student-timeout", type=float, default=900.0, metavar="SECONDS",
                       help="wall-clock limit of one student's whole grading (default 900)")
    batch.add_argument("--roster", metavar="CSV",
                       help="CSV mapping a submission name (column 'submission') to Canvas' "
                            "Student, ID, SIS User ID and Section columns (any of them; "
                            "case, spaces and underscores aside)")
    batch.add_argument("--assignment-name", default="Weight initialisation",
                       help="the Canvas column of this assignment")
    batch.set_defaults(run=_run_batch)

    merge = sub.add_parser("merge", help="combine the outputs of batch shards",
                           description="Combine the OUT folders of `grader batch --shard` runs "
                                       "into one, as a single run would have written it.")
    merge.add_argument("shards", nargs="+", metavar="OUT")
    merge.add_argument("--output-dir", required=True, metavar="OUT")
    merge.set_defaults(run=_run_merge)


# -- the class ------------------------------------------------------------------------------
def _is_batch_output(folder: Path) -> bool:
    """Whether ``folder`` is what a batch wrote (its batch.json holds a batch's settings)."""
    try:
        data = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"grader", "seed", "tasks"} <= set(data)


def students(class_dir: Path, skip: tuple[Path, ...] = ()) -> list[tuple[str, Path]]:
    """(name, path) of every student: subfolders, .zip and .ipynb files, sorted by name;
    none of the folders of ``skip`` (batches' output folders in the class folder).

    A student is named by the folder, or by the file without its extension; a file whose
    short name is already taken (``alice/`` and ``alice.zip``) keeps its whole name, which
    no other entry of the folder has: a name never depends on which other entries exist
    later in the listing, so a rerun finds every student's grade under the same name."""
    entries = []
    skipped = {p.resolve() for p in skip}
    for p in sorted(class_dir.iterdir()):
        if p.name.startswith((".", "_")) or p.resolve() in skipped:
            continue
        if p.is_dir() or (p.is_file() and p.suffix.lower() in (".zip", ".ipynb")):
            entries.append(p)
    taken = {p.name for p in entries if p.is_dir()}
    out = []
    for p in entries:
        name = p.name if p.is_dir() or p.stem in taken else p.stem
        taken.add(name)
        out.append((name, p))
    return out


def _canvas(class_dir: Path, whole: list[tuple[str, Path]], out: Path):
    """The class with Canvas' download grouped by student (``grader.canvasfiles``):
    (every student's (name, path), name -> the loose ``.py`` files to copy to the path
    ``OUT/.canvas/<name>``, name -> Canvas user id). A Canvas-named ``.zip`` or
    ``.ipynb`` is named like the loose files; a name a folder has gets ``_files``."""
    from grader import canvasfiles

    loose = [p for p in class_dir.iterdir()  # a link is no file of Canvas' download
             if p.is_file() and not p.is_symlink() and not p.name.startswith((".", "_"))]
    found, left = canvasfiles.groups(loose)
    if not found:
        return whole, {}, {}
    canvas_paths = {f.path for files in found.values() for f in files} | {f.path for f in left}
    kept = [(name, path) for name, path in whole if path not in canvas_paths]
    taken = {name for name, _ in kept}
    copies, ids = {}, {}
    for student, files in found.items():
        name = f"{student}_files" if student in taken else student
        ids[name] = files[0].user_id
        if files[0].path.suffix.lower() == ".py":
            copies[name] = files
            kept.append((name, out / ".canvas" / name))
        else:
            kept.append((name, files[0].path))
    used = sum(len(files) for files in found.values())
    older = (f"; left out, as older uploads or beside loose modules: "
             f"{_few([f.path.name for f in left], 3)}" if left else "")
    print(f"grader: {used + len(left)} file(s) named as Canvas' \"Download Submissions\" "
          f"names them: {len(found)} student(s), each named <student>_<user id>, with the "
          f"user id as canvas.csv's ID{older}", file=sys.stderr)
    return sorted(kept), copies, ids


def _left_out(class_dir: Path, whole: list[tuple[str, Path]]) -> list[str]:
    """The names of the class folder's files that no student is graded from: neither a
    student's ``.zip`` or ``.ipynb`` (``whole``) nor a file of Canvas' download, which
    :func:`_canvas` groups or names as left out (a ``.tar.gz``, a ``.rar``, a stray
    ``notes.txt``), sorted."""
    from grader import canvasfiles

    taken = {path for _, path in whole}
    return sorted(p.name for p in class_dir.iterdir()
                  if p.is_file() and not p.name.startswith((".", "_")) and p not in taken
                  and (p.is_symlink() or p.suffix.lower() not in (".py", ".zip", ".ipynb")
                       or canvasfiles.parse(p) is None))


def _content_hash(path: Path) -> str:
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and ".grader-cache" not in p.parts)
    for f in files:
        h.update(str(f.relative_to(path) if f != path else f.name).encode())
        try:
            h.update(hashlib.sha256(f.read_bytes()).digest())
        except OSError:
            h.update(b"<unreadable>")
    return h.hexdigest()


def submission_key(path: Path, settings: dict) -> str:
    """What a student's grade depends on: the files, the grader, the settings."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    h.update(_content_hash(path).encode())
    return h.hexdigest()


def _shard(items: list, spec: str | None) -> list:
    if not spec:
        return items
    try:
        k, n = (int(v) for v in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard {spec}: write K/N, e.g. 2/4") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard {spec}: K must be between 1 and N")
    return [s for i, s in enumerate(items) if i % n == k - 1]


def _roster(path: str | None) -> dict[str, dict]:
    """Submission name -> its Canvas columns, from the ``--roster`` CSV: a ``submission``
    column and any of Canvas' (their case, spaces and underscores aside), separated by
    commas, semicolons (a spreadsheet's CSV where the comma is the decimal mark) or tabs,
    in UTF-8 or UTF-16 (a spreadsheet's "Unicode text"). A roster that cannot be read,
    lacks those columns or names a submission twice is refused: a canvas.csv without IDs
    would import nothing."""
    if not path:
        return {}
    import csv
    import io

    from grader.classbook import CANVAS_COLUMNS
    from grader.cli import UsageError

    def plain(name: str) -> str:
        return "".join(ch for ch in name.lower() if ch not in " _-")

    wanted = {plain(c): c for c in ("submission", *CANVAS_COLUMNS)}
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig")
        header = text.splitlines()[0] if text else ""
        delimiter = max(",;\t", key=header.count) if header else ","
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        columns = {f: wanted[plain(f)] for f in reader.fieldnames or () if plain(f) in wanted}
        rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read --roster {path}: {exc}") from None
    if "submission" not in columns.values() or len(columns) < 2:
        raise UsageError(f"--roster {path} needs a 'submission' column (the name of a "
                         f"student's folder, .zip or .ipynb) and any of "
                         f"{', '.join(CANVAS_COLUMNS)}; its columns are "
                         f"{', '.join(reader.fieldnames or ()) or 'none'}")
    out: dict[str, dict] = {}
    for row in rows:
        entry = {columns[f]: (v or "").strip() for f, v in row.items() if f in columns}
        name = entry.pop("submission", "")
        if not name:
            continue
        if name in out:
            raise UsageError(f"--roster {path} names the submission {name!r} twice")
        out[name] = entry
    return out


def _with_canvas_ids(ids: dict[str, str], roster: dict[str, dict]) -> dict[str, dict]:
    """``roster`` with the Canvas user id of each student Canvas' download named (``ids``)
    as their ID, unless the roster gives one: it is what Canvas' import matches rows on."""
    out = dict(roster)
    for name, user_id in ids.items():
        entry = roster.get(name, {})
        out[name] = {**entry, "ID": entry.get("ID") or str(user_id)}
    return out


def _few(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more"
                                       if len(names) > shown else "")


def _load_outcomes(out: Path, roster: dict):
    from grader.classbook import Outcome

    found = {}
    for meta in sorted(out.glob("students/*/outcome.json")):
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            report_file = meta.parent / "report.json"
            report = (json.loads(report_file.read_text(encoding="utf-8"))
                      if report_file.exists() else None)
            name = data["student"]
            found[name] = Outcome(name, data["status"], report, data.get("message", ""),
                                  float(data.get("duration_s", 0.0)), data.get("key", ""),
                                  roster.get(name, {}))
        except (OSError, ValueError, KeyError):
            continue
    return found


def write_class_files(out: Path, outcomes: list, settings: dict) -> None:
    """gradebook.csv, canvas.csv, items.csv and class.html, from the outcomes alone."""
    from grader import classbook, classpage

    tasks = tuple(settings["tasks"])
    write_text(out / "gradebook.csv", classbook.gradebook_csv(outcomes, tasks))
    write_text(out / "canvas.csv", classbook.canvas_csv(outcomes, settings["assignment"], tasks))
    found = classbook.items(outcomes)
    write_text(out / "items.csv", classbook.items_csv(found))
    write_text(out / "class.html", classpage.render(classbook.class_summary(outcomes, found),
                                                settings))


def _write_reports(folder: Path, report: dict, formats) -> None:
    """``report`` (a JSON report) in each of ``formats`` in ``folder``, written atomically."""
    from grader.reporters import FILES, render
    from grader.results import report_from_dict

    frozen = report_from_dict(report)
    for fmt in formats:
        write_text(folder / FILES[fmt], json.dumps(report, indent=2) + "\n" if fmt == "json"
                   else render(frozen, fmt))


def _store(out: Path, outcome, formats: tuple[str, ...]) -> None:
    """One student's files, written atomically, outcome.json last: the ``--format``s asked
    for, and those an earlier run wrote (rewritten, so that none tells an older grade)."""
    from grader.reporters import FILES

    folder = out / "students" / outcome.student
    others = [f for f in FILES if f not in ("json", "text")
              and (f in formats or (folder / FILES[f]).exists())]
    if outcome.report is not None:
        _write_reports(folder, outcome.report, ("json", "text", *others))
    else:
        for fmt in ("json", *others):
            (folder / FILES[fmt]).unlink(missing_ok=True)
        write_text(folder / "report.txt", f"{outcome.student}: {outcome.status}\n{outcome.message}\n")
    write_text(folder / "outcome.json", json.dumps(outcome.to_dict(), indent=2) + "\n")


def _add_formats(out: Path, outcome, formats: tuple[str, ...]) -> None:
    """The ``--format``s asked for that an unchanged student's folder lacks (an earlier run
    was asked for others), rendered from the report it keeps."""
    from grader.reporters import FILES

    folder = out / "students" / outcome.student
    missing = [f for f in formats if not (folder / FILES[f]).exists()]
    if outcome.report is not None and missing:
        _write_reports(folder, outcome.report, missing)


# -- the graders ------------------------------------------------------------------------------
def _grade_one(name: str, path: Path, options, extra, pool, memory,
               unpack: str | None = None) -> dict:
    """One student's result; a zip or a notebook is unpacked in ``unpack`` (a folder hidden
    from every worker, so that no student's code reads another's)."""
    from grader.classbook import status_of
    from grader.grading import grade
    from grader.inputs import open_submission
    from grader.submission import SubmissionError

    t0 = time.perf_counter()
    try:
        with open_submission(str(path), unpack_in=unpack) as submission:
            report = grade(submission, options, extra=extra, pool=pool,
                           memory=memory).to_dict()
        report["submission"] = name
        return {"status": status_of(report), "report": report,
                "message": "; ".join(submission.notes),
                "duration_s": time.perf_counter() - t0}
    except SubmissionError as exc:
        return {"status": "not_a_submission", "report": None, "message": str(exc),
                "duration_s": time.perf_counter() - t0}
    except Exception as exc:  # noqa: BLE001 - the grader's fault, this student's row
        import traceback

        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return {"status": "internal_error", "report": None,
                "message": f"internal error of the grader, not the submission's: {detail}",
                "duration_s": time.perf_counter() - t0}


def _send_memory(fd: int, memory, pool) -> None:
    """Hand what this grader remembers (``grader.memory``) to a grader that waits for it."""
    import pickle

    data = pickle.dumps((memory, getattr(pool.framework, "answers", None)),
                        protocol=pickle.HIGHEST_PROTOCOL)
    try:
        with os.fdopen(fd, "wb") as out:  # closed after: the reader reads to the end
            out.write(data)
    except OSError:  # it stopped waiting (BrokenPipeError): nothing lost but time
        pass


def _receive_memory(fd: int, pool, wait_s: float):
    """What the first grader remembers after its first student, or a fresh memory when it
    has not sent it within ``wait_s`` seconds (or could not). The data comes from a grader
    process (which never runs student code) over a pipe no other process holds."""
    import pickle

    from grader.memory import Memory

    deadline = time.monotonic() + wait_s
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return Memory()
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # the end: all of it, or a sender that died (unpickling fails)
                break
            chunks.append(chunk)
        memory, answers = pickle.loads(b"".join(chunks))
    except Exception:  # noqa: BLE001 - a broken hand-over (unpickling raises many kinds)
        return Memory()
    finally:
        os.close(fd)
    if answers is not None and hasattr(pool.framework, "answers"):
        pool.framework.answers = answers
    return memory


#: how long the grader that starts warm waits for the first grader's memory (sent after
#: the first student it grades: an empty folder or the stubs teach it nothing)
WARM_WAIT_S = 30.0


def _grader_loop(read_fd: int, write_fd: int, pool, options, extra,
                 relay: tuple[str, int] | None = None) -> None:
    """A grader process: one student per line in, one result per line out; the examples
    it draws and the expected values it computes for the first student are reused for
    the next (``grader.memory``). ``relay`` is ``("send", fd)``: hand that memory over
    after the first student graded; or ``("receive", fd)``: start with the memory handed
    over (or a fresh one after ``WARM_WAIT_S``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from grader import sandbox
    from grader.memory import Memory

    sandbox.die_with_parent()
    memory = Memory()
    if relay is not None and relay[0] == "receive":
        memory = _receive_memory(relay[1], pool, WARM_WAIT_S)
        relay = None
    with os.fdopen(read_fd, "r", encoding="utf-8") as inp, \
            os.fdopen(write_fd, "w", encoding="utf-8", buffering=1) as outp:
        for line in inp:
            job = json.loads(line)
            result = _grade_one(job["student"], Path(job["path"]), options, extra, pool,
                                memory, job.get("unpack"))
            if relay is not None and result["status"] == "graded":  # a memory worth having
                _send_memory(relay[1], memory, pool)
                relay = None
            outp.write(json.dumps({"student": job["student"], **result}) + "\n")


class _Grader:
    """A forked grader process and its pipes; ``others`` are the graders already running,
    whose pipes the new process must not keep open. ``relay`` (see :func:`_grader_loop`)
    is this grader's end of the pipe that hands the first grader's memory to the last;
    ``foreign`` the end the new process must close (it belongs to another grader)."""

    def __init__(self, pool, options, extra, others=(), relay=None, foreign=()) -> None:
        from grader.workers import WarmPool

        socks = pool.new_sockets() if isinstance(pool, WarmPool) else None
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            code = 0
            try:
                os.close(to_child_w)
                os.close(from_child_r)
                for other in others:
                    for stream in (other.send, other.recv):
                        try:
                            os.close(stream.fileno())
                        except (OSError, ValueError):
                            pass
                for fd in foreign:  # the relay's end that is another grader's
                    os.close(fd)
                child_pool = (WarmPool.attach(socks, pool.hide, pool.user, pool.later)
                              if socks is not None else pool)
                try:
                    _grader_loop(to_child_r, from_child_w, child_pool, options, extra, relay)
                finally:  # its workers' scratch folders go with it (the one that answers
                    if child_pool is not pool:  # for TensorFlow is still open here)
                        child_pool.close()
            except BaseException:  # noqa: BLE001
                code = 70
            finally:
                os._exit(code)
        for sock, _ in (socks or {}).values():
            sock.close()
        if relay is not None:
            os.close(relay[1])  # the child's end
        os.close(to_child_r)
        os.close(from_child_w)
        self.send = os.fdopen(to_child_w, "w", encoding="utf-8", buffering=1)
        self.recv = os.fdopen(from_child_r, "r", encoding="utf-8")
        self.job: tuple[str, Path] | None = None
        self.started = 0.0

    def give(self, name: str, path: Path, unpack: str | None = None) -> None:
        self.job = (name, path)
        self.started = time.monotonic()
        self.send.write(json.dumps({"student": name, "path": str(path), "unpack": unpack})
                        + "\n")

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        for stream in (self.send, self.recv):
            try:
                stream.close()
            except OSError:
                pass

    def stop(self) -> None:
        try:
            self.send.close()
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


class _Display:
    """A rich progress bar on a terminal; one line per student otherwise."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.bar = None
        if sys.stderr.isatty() and total:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("grading the class"), BarColumn(),
                                MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]} students/min"),
                                TextColumn("ETA"), TimeRemainingColumn(),
                                TextColumn("{task.description}", markup=False),
                                console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task("", total=total, rate="–")
            self.bar.start()
        self.t0 = time.monotonic()

    def student(self, outcome) -> None:
        self.done += 1
        score = (f"{outcome.report['score']:g}/{outcome.report['max_score']:g}"
                 if outcome.report else "–")
        # a name as it is ("hw3 [final]" is no markup), on one line (a newline shown as \n)
        name = outcome.student if outcome.student.isprintable() else \
            repr(outcome.student)[1:-1]
        line = (f"[{self.done}/{self.total}] {name}: {outcome.status} {score} "
                f"({outcome.duration_s:.1f} s)")
        if self.bar is not None:
            minutes = max(1e-9, (time.monotonic() - self.t0) / 60)
            self.bar.update(self.task, advance=1, description=name,
                            rate=f"{self.done / minutes:.1f}")
            self.bar.console.print(line, highlight=False, markup=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextlib.contextmanager
def _ctrl_c_kept():
    """Ctrl-C raises KeyboardInterrupt as ever, and is remembered: yields a function that
    tells whether it was pressed. Python prints and ignores an exception raised in the
    hooks it runs around a fork (``logging``'s lock), so a Ctrl-C pressed while the batch
    forks a grader would otherwise be lost, and the batch would go on to the end. Nothing
    changes where SIGINT is not Python's default (ignored in the background) or off the
    main thread."""
    pressed: list[int] = []

    def handler(signum, frame):
        pressed.append(signum)
        raise KeyboardInterrupt

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def _grade_all(todo, pool, options, extra, jobs: int, student_timeout: float, finish,
               unpack: str | None = None, pressed=lambda: False) -> None:
    """Grade ``todo`` with ``jobs`` forked graders (one after another where forking is
    not ours to do); ``finish(name, result)`` is called as each student is done; zips and
    notebooks are unpacked in ``unpack``; ``pressed()`` tells whether Ctrl-C was pressed
    (:func:`_ctrl_c_kept`), which stops the grading as its KeyboardInterrupt does."""
    from grader import leftovers, sandbox, stats
    from grader.memory import Memory

    if not sandbox.CAN_FORK:
        memory = Memory()
        for name, path, _ in todo:
            finish(name, _grade_one(name, path, options, extra, pool, memory, unpack))
        return
    stats.load()  # once here, for every grader forked below, rather than in each
    queue = list(todo)
    graders: list[_Grader] = []
    count = max(1, min(jobs, len(todo)))
    # While the frameworks server imports TensorFlow (a core's worth of work for seconds),
    # the last grader waits for what the first one remembers after its first student
    # (``grader.memory``), and starts warm, instead of drawing and computing it all again.
    warm = count >= 2 and "frameworks" in getattr(pool, "connections", {})
    relay = os.pipe() if warm else None
    for i in range(count):
        role, foreign = None, ()
        if relay and i < count - 1:
            role = ("send", relay[1]) if i == 0 else None
            foreign = (relay[0],)
        elif relay:
            role = ("receive", relay[0])
        graders.append(_Grader(pool, options, extra, others=tuple(graders), relay=role,
                               foreign=foreign))
    try:
        for g in graders:
            if queue:
                name, path, _ = queue.pop(0)
                g.give(name, path, unpack)
        while any(g.job for g in graders):
            if pressed():  # a KeyboardInterrupt the hooks of a fork swallowed
                raise KeyboardInterrupt
            busy = [g for g in graders if g.job]
            ready, _, _ = select.select([g.recv for g in busy], [], [], 1.0)
            for g in busy:
                replace = False
                if g.recv in ready:
                    line = g.recv.readline()
                    if line:
                        finish(g.job[0], json.loads(line))
                    else:  # the grader process died: this student's row, and a new grader
                        finish(g.job[0], {"status": "internal_error", "message":
                                          "the grader process died while grading this "
                                          "submission (the grader's fault, not the student's)",
                                          "duration_s": time.monotonic() - g.started})
                        replace = True
                elif time.monotonic() - g.started > student_timeout:
                    finish(g.job[0], {"status": "timeout", "message":
                                      f"grading took longer than {student_timeout:g} s and was "
                                      "stopped", "duration_s": time.monotonic() - g.started})
                    replace = True
                else:
                    continue
                g.job = None
                if replace:
                    g.kill()
                    leftovers.sweep(pids=(g.pid,), min_age_s=0)  # its workers' folders
                    index = graders.index(g)
                    rest = tuple(x for x in graders if x is not g)
                    graders[index] = g = _Grader(pool, options, extra, others=rest)
                if queue:
                    name, path, _ = queue.pop(0)
                    g.give(name, path, unpack)
    except BaseException:
        for g in graders:
            g.kill()
        leftovers.sweep(pids=tuple(g.pid for g in graders), min_age_s=0)
        raise
    for g in graders:
        g.stop()


def _home() -> tuple[str, ...]:
    """The home folder to hide from the workers, unless it is the root or holds the
    temporary folder (where every worker's scratch folder is)."""
    try:
        home = Path.home().resolve()
    except (RuntimeError, OSError):  # no home to find
        return ()
    temporary = Path(tempfile.gettempdir()).resolve()
    if home == Path(home.anchor) or temporary == home or home in temporary.parents:
        return ()
    return (str(home),)


def _elsewhere(whole: list[tuple[str, Path]], class_dir: Path) -> tuple[str, ...]:
    """The folders of the students whose folder in the class folder is a link to a folder
    outside it: hidden from the workers like the class folder (each sees its own)."""
    inside, temporary = class_dir.resolve(), Path(tempfile.gettempdir()).resolve()
    found = {path.resolve() for _, path in whole if path.is_dir()}
    return tuple(sorted(str(p) for p in found if not p.is_relative_to(inside)
                        and p != Path(p.anchor) and not temporary.is_relative_to(p)))


def _settings(options, extra, assignment: str, roster_file: str | None) -> dict:
    from grader.cache import fingerprint
    from grader.runner import versions

    # the limits decide grades too: a rerun with a longer --timeout regrades everyone
    return {"grader": fingerprint(extra.files), "seed": options.seed,
            "tasks": list(options.tasks), "versions": versions(), "assignment": assignment,
            "roster": roster_file or "", "timeout": options.limits.call_timeout_s,
            "memory_mb": options.limits.memory_mb}


def _cannot_write(exc: OSError, out: Path) -> tuple[str, str] | None:
    """What failed and how to fix it, when ``exc`` is a failure to write in ``out`` (a full
    disk, a quota, a folder made read-only); None when ``exc`` is about something else (a
    bug, which the caller reports as the grader's)."""
    import errno

    inside = [f for f in (exc.filename2, exc.filename)  # a copy's target is the second
              if isinstance(f, str) and Path(f).resolve().is_relative_to(out.resolve())]
    if not inside:
        return None
    where = inside[0]
    fix = {errno.ENOSPC: "free some space", errno.EDQUOT: "free some space",
           errno.EROFS: "make it writable", errno.EACCES: "make it writable",
           errno.EPERM: "make it writable"}.get(exc.errno, "fix that")
    return f"cannot write {where}: {exc.strerror}", f"{fix} (or choose another --output-dir)"


def _kept(gradebook: Path) -> int:
    """How many students ``gradebook`` holds (0 when there is none to read)."""
    try:
        with open(gradebook, encoding="utf-8", newline="") as fh:
            return sum(1 for _ in csv.DictReader(fh))
    except (OSError, csv.Error, UnicodeDecodeError):
        return 0


def _run_batch(args: argparse.Namespace) -> int:
    from grader.cli import UsageError

    try:
        return _batch(args)
    except OSError as exc:
        out = Path(args.output_dir)
        said = _cannot_write(exc, out)
        if said is None:
            raise
        gradebook = out / "gradebook.csv"
        raise UsageError(f"{said[0]}. {gradebook} holds the {_kept(gradebook)} student(s) "
                         f"graded so far; {said[1]}, then run the same command again: it "
                         f"resumes") from None


def _batch(args: argparse.Namespace) -> int:
    from grader import canvasfiles, integrity, leftovers, outlock
    from grader.classbook import Outcome
    from grader.cli import UsageError, extra_checks, run_options
    from grader.grading import load_batteries, open_workers

    class_dir, out = Path(args.class_dir), Path(args.output_dir)
    if not class_dir.is_dir():
        raise UsageError(f"{args.class_dir} is not a folder of submissions")
    if out.exists() and not out.is_dir():
        raise UsageError(f"cannot write {args.output_dir}: it is a file")
    options = run_options(args)
    extra = extra_checks(args)
    formats = tuple(dict.fromkeys(args.format or ()))
    if not args.student_timeout > 0:  # nan too
        raise UsageError(f"--student-timeout must be positive, got {args.student_timeout:g}")
    if out.resolve() == class_dir.resolve():
        raise UsageError(f"--output-dir {args.output_dir} is the class folder: choose another "
                         f"folder (a subfolder of it will do)")
    others = sorted(p for p in class_dir.iterdir() if p.is_dir()
                    and not p.name.startswith((".", "_"))
                    and p.resolve() != out.resolve() and _is_batch_output(p))
    if others:
        print(f"grader: {_few([p.name for p in others])}: the output of another batch, not "
              f"a submission", file=sys.stderr)
    whole = students(class_dir, skip=(out, *others))
    whole, copies, canvas_ids = _canvas(class_dir, whole, out)
    strays = _left_out(class_dir, whole)
    if not whole:
        loose = [p.name for p in class_dir.iterdir() if p.is_file() and p.suffix == ".py"]
        hint = ""
        if loose:
            hint = (f" (it holds {len(loose)} .py file(s) directly, such as {sorted(loose)[0]}: "
                    f"put each student's files in a folder of their own, or keep the names "
                    f"Canvas' \"Download Submissions\" gives them, <student>_<user id>_"
                    f"<submission id>_<file>)")
        elif strays:
            hint = (f" (it holds {_few(strays, 3)}: unpack each submission packed otherwise "
                    f"into a folder of its own)")
        raise UsageError(f"{args.class_dir} holds no submission: each student is a subfolder, "
                         f"a .zip or a .ipynb of it{hint}")
    if strays:  # else a submission packed otherwise (.tar.gz, .rar) would go unseen
        print(f"grader: {len(strays)} file(s) of the class folder are no submission and are "
              f"left out: {_few(strays)} (each student is a subfolder, a .zip or a .ipynb; "
              f"a submission packed otherwise is graded once unpacked into a folder of its "
              f"own)", file=sys.stderr)
    doubled = [name for name, path in whole if path.is_file() and name == path.name]
    if doubled:
        print(f"grader: {_few(doubled)}: another submission has the same name, so the "
              f"file's whole name names its student", file=sys.stderr)
    try:
        everyone = _shard(whole, args.shard)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    inside = [name for name, path in everyone
              if path.is_dir() and out.resolve().is_relative_to(path.resolve())]
    if inside:
        raise UsageError(f"--output-dir {args.output_dir} is inside the submission of "
                         f"{inside[0]}: choose a folder outside the class folder, or directly "
                         f"in it")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write {args.output_dir}: {exc.strerror or exc}") from None
    try:  # held until this process ends
        outlock.hold(out)
    except outlock.Busy as busy:
        who = f" (process {busy.holder})" if busy.holder else ""
        raise UsageError(f"another grader batch{who} is writing to {args.output_dir}: wait "
                         f"for it to finish, or stop it, then run this again (it resumes)"
                         ) from None
    except OSError as exc:
        raise UsageError(f"cannot write {args.output_dir}: {exc.strerror or exc}") from None
    for name, path in everyone:
        if name in copies:
            canvasfiles.copy_out(copies[name], path)
    roster = _with_canvas_ids(canvas_ids, _roster(args.roster))
    if args.roster:  # what the instructor should know before importing canvas.csv
        names = {n for n, _ in whole}
        absent = sorted(set(roster) - names)
        unlisted = sorted(names - set(roster))
        if absent:
            print(f"grader: the roster names {len(absent)} submission(s) not in the class "
                  f"folder ({_few(absent)}): canvas.csv has no row for them", file=sys.stderr)
        if unlisted:
            print(f"grader: {len(unlisted)} submission(s) are not on the roster "
                  f"({_few(unlisted)}): their canvas.csv rows have no ID", file=sys.stderr)
    settings = _settings(options, extra, args.assignment_name, args.roster)
    # what grader merge checks besides the settings: which share this is, of which class
    run = {"shard": args.shard or None, "class": [n for n, _ in whole],
           **({"canvas": canvas_ids} if canvas_ids else {})}
    write_text(out / "batch.json", json.dumps({k: v for k, v in settings.items()
                                           if k != "grader"} | {"grader": settings["grader"]}
                                          | run, indent=2) + "\n")
    previous = _load_outcomes(out, roster)
    outcomes: dict[str, Outcome] = {}
    todo = []
    for name, path in everyone:
        key = submission_key(path, settings)
        old = previous.get(name)
        if old is not None and old.key == key and not args.force and old.status not in (
                "internal_error", "timeout"):
            outcomes[name] = old
            _add_formats(out, old, formats)
        else:
            todo.append((name, path, key))
    print(f"grader: {len(everyone)} students, {len(everyone) - len(todo)} unchanged since the "
          f"last run, {len(todo)} to grade", file=sys.stderr)
    names = {n for n, _ in everyone}

    def flush() -> None:
        current = [o for n, o in sorted(outcomes.items()) if n in names]
        from grader import classbook

        write_text(out / "gradebook.csv", classbook.gradebook_csv(current, options.tasks))

    integrity.compile_own()
    sys.dont_write_bytecode = True  # so that any new bytecode below is someone else's
    guard = integrity.snapshot()
    interrupted = False
    if todo:
        keys = {name: key for name, _, key in todo}
        batteries = load_batteries(options.tasks, extra)
        # no worker sees the class, the output, the unpacked zips and notebooks (each sees
        # its own submission, kept visible inside them) or the home folder of whoever runs
        # the batch (Python and its libraries stay visible), nor a student's folder linked
        # from elsewhere: no student's code can read another's submission or report, or
        # copy a secret of this machine into its report
        swept = leftovers.sweep()
        if swept:
            print(f"grader: removed {swept} temporary folder(s) that killed gradings left "
                  f"behind", file=sys.stderr)
        unpack = leftovers.folder("batch")
        pool = open_workers(batteries, extra, hide=(str(class_dir.resolve()),
                                                    str(out.resolve()), unpack, *_home(),
                                                    *_elsewhere([s for s in whole if s[0]
                                                                 not in copies], class_dir)))
        display = _Display(len(todo))
        # once the queue is empty, a grader sits idle while the others finish: its core
        # imports what class.html needs, instead of the batch's end doing it alone
        idle_from = len(todo) - max(1, min(args.jobs, len(todo))) + 1

        def finish(name: str, result: dict) -> None:
            outcome = Outcome(name, result["status"], result.get("report"),
                              result.get("message", ""), float(result.get("duration_s", 0.0)),
                              keys[name], roster.get(name, {}))
            _store(out, outcome, formats)
            outcomes[name] = outcome
            flush()
            display.student(outcome)
            try:  # a live batch's folder stays young: no sweep takes it for a leftover
                os.utime(unpack)
            except OSError:
                pass
            if display.done == idle_from and display.done < len(todo):
                from grader import classpage

                try:
                    classpage.warm()
                except Exception:  # noqa: BLE001 - the page's own rendering will say what
                    pass

        try:  # a Ctrl-C pressed while a grader is forked is not lost (``_ctrl_c_kept``)
            with _ctrl_c_kept() as pressed:
                _grade_all(todo, pool, options, extra, args.jobs, args.student_timeout,
                           finish, unpack, pressed)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            display.stop()
            pool.close()
            shutil.rmtree(unpack, ignore_errors=True)
    current = [o for n, o in sorted(outcomes.items()) if n in names]
    flush()
    if interrupted:
        print(f"grader: interrupted; {len(current)} of {len(everyone)} students are in "
              f"{out / 'gradebook.csv'}; run the same command again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    write_class_files(out, current, settings)
    changed = integrity.changes(guard, integrity.snapshot())
    if changed:
        print("grader: INTEGRITY VIOLATION during the batch:\n  " + "\n  ".join(changed[:20]),
              file=sys.stderr)
        return EXIT_INTERNAL
    not_graded = [o.student for o in current if o.status in ("internal_error", "timeout")]
    print(f"grader: {len(current)} students in {out}/gradebook.csv"
          + (f"; not graded: {', '.join(not_graded)}" if not_graded else ""), file=sys.stderr)
    return EXIT_SOME_NOT_GRADED if not_graded else EXIT_OK


def _whole_class(metas: list[tuple[str, dict]]) -> list[str] | None:
    """The class the shards (``(folder, batch.json)``) share, once each share is there
    exactly once; None for outputs of a version that did not record it. Raises
    UsageError for a missing or repeated share, or shards of different classes."""
    from grader.cli import UsageError

    if any("class" not in data for _, data in metas):
        return None
    shards = [(folder, data.get("shard")) for folder, data in metas]
    if any(spec for _, spec in shards):
        parts = {}
        for folder, spec in shards:
            if not spec:
                raise UsageError(f"{folder} graded the whole class: merge shards only "
                                 "(--shard K/N), or use that output as it is")
            try:
                k, n = (int(v) for v in str(spec).split("/"))
            except ValueError:
                raise UsageError(f"{folder}/batch.json names no shard K/N ({spec!r})") from None
            if (k, n) in parts:
                raise UsageError(f"shard {spec} is given twice ({parts[(k, n)]}, {folder})")
            parts[(k, n)] = folder
        counts = {n for _, n in parts}
        if len(counts) > 1:
            raise UsageError(f"these shards split the class in different numbers of shares "
                             f"({', '.join(sorted(str(n) for n in counts))})")
        n = counts.pop()
        absent = [f"{k}/{n}" for k in range(1, n + 1) if (k, n) not in parts]
        if absent:
            raise UsageError(f"shard {', '.join(absent)} is missing: a merge without it would "
                             "lose its students")
    first_folder, first = metas[0]
    for folder, data in metas[1:]:
        if data["class"] != first["class"]:
            odd = sorted(set(data["class"]) ^ set(first["class"]))
            raise UsageError(f"{folder} and {first_folder} were graded from different class "
                             f"folders ({_few(odd)} in one only): grade every shard from the "
                             "same class")
    return list(first["class"])


def _run_merge(args: argparse.Namespace) -> int:
    from grader.cli import UsageError

    out = Path(args.output_dir)
    if any(Path(shard).resolve() == out.resolve() for shard in args.shards):
        raise UsageError(f"--output-dir {args.output_dir} is one of the shards: merge into a "
                         f"new folder (the shard's own record would be lost, and no later "
                         f"merge could use it)")
    settings, metas = None, []
    own = ("versions", "shard", "class")  # what may differ from one shard to the next
    for shard in args.shards:
        meta = Path(shard) / "batch.json"
        if not meta.is_file():
            raise UsageError(f"{shard} is not the output of grader batch (no batch.json)")
        data = json.loads(meta.read_text(encoding="utf-8"))
        if settings is not None and {k: v for k, v in data.items() if k not in own} != \
                {k: v for k, v in settings.items() if k not in own}:
            raise UsageError(f"{shard} was graded with other settings (seed, tasks, grader, "
                             "roster, --timeout or --memory-mb) than the first shard")
        settings = data
        metas.append((shard, data))
    klass = _whole_class(metas)
    roster = _with_canvas_ids(settings.get("canvas") or {},
                              _roster(settings.get("roster") or None))
    merged: dict = {}
    loaded = [(shard, _load_outcomes(Path(shard), roster)) for shard in args.shards]
    for shard, outcomes in loaded:
        for name, outcome in outcomes.items():
            if name in merged and merged[name].key != outcome.key:
                raise UsageError(f"student {name} was graded differently in two shards")
            merged[name] = outcome
    missing = sorted(set(klass or ()) - set(merged))
    if missing:
        raise UsageError(f"these shards hold no grade for {len(missing)} student(s) of the "
                         f"class ({_few(missing)}): run their shard again (it resumes) and "
                         f"merge then")
    settings = {**settings, "shard": None, **({"class": klass} if klass is not None else {})}
    # a student whose folder left the class since an earlier run is no longer in it
    outcomes = [merged[n] for n in sorted(merged) if klass is None or n in klass]
    try:
        _write_merge(out, loaded, outcomes, settings)
    except OSError as exc:
        said = _cannot_write(exc, out)
        if said is None:
            raise
        raise UsageError(f"{said[0]}; {said[1]}, then merge again (the shards are "
                         f"unchanged)") from None
    print(f"grader: merged {len(outcomes)} students into {out}", file=sys.stderr)
    return EXIT_OK


def _write_merge(out: Path, loaded: list, outcomes: list, settings: dict) -> None:
    """Merged ``out``: each student's files copied from their shard, then the class's."""
    out.mkdir(parents=True, exist_ok=True)
    graded = {o.student for o in outcomes}
    for shard, shard_outcomes in loaded:
        for name in shard_outcomes:
            if name not in graded:
                continue
            src = Path(shard) / "students" / name
            dst = out / "students" / name
            if src.resolve() != dst.resolve():
                dst.mkdir(parents=True, exist_ok=True)
                for f in sorted(src.iterdir()):  # not a killed write's temporary file
                    if f.is_file() and not f.name.startswith("."):
                        shutil.copy2(f, dst / f.name)
    write_text(out / "batch.json", json.dumps(settings, indent=2) + "\n")
    write_class_files(out, outcomes, settings)

"""``grader batch`` on a whole class, and ``grader merge``: statuses, files, resuming, shards."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from html.parser import HTMLParser

import pytest

from conftest import ROOT, STUBS, make_submission, run_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the parallel batch forks (Linux)")

BOOM = """
from grader.battery import Battery
from grader.check import Check
from grader.student import StudentNotImplemented


def _explode(student, rng):
    answer = student.value().get("q1")
    if answer is None:
        raise StudentNotImplemented("q1 is not answered yet")
    if answer == "boom":
        raise RuntimeError("a bug of the grader, triggered by this answer")
    return ""


BATTERY = Battery("quiz", (Check("quiz.q1.no_boom", "unit", _explode, weight=0.0),))
"""


def _rows(path) -> dict[str, dict]:
    return {r["student"]: r for r in csv.DictReader(open(path, encoding="utf-8"))}


def _without_durations(text: str) -> list[list[str]]:
    rows = list(csv.reader(text.splitlines()))
    i = rows[0].index("duration_s")
    return [r[:i] + r[i + 1:] for r in rows]


def _class(tmp_path):
    cls = tmp_path / "class"
    make_submission(cls / "alice")  # correct
    make_submission(cls / "bob", overrides={"diagnostics": (
        "def diagnose(grad_norms, ratio=100.0):\n    return 'healthy'\n"),
        "quiz": "ANSWERS = dict(ANSWERS)\nANSWERS['q1'] = 'a'\n"})  # broken
    shutil.copytree(STUBS, cls / "carol", ignore=shutil.ignore_patterns("__pycache__"))
    make_submission(cls / "dave" / "work" / "hw3")  # nested two folders deep
    zipped = make_submission(tmp_path / "erin")
    with zipfile.ZipFile(cls / "erin.zip", "w") as zf:  # zipped
        for p in zipped.glob("*.py"):
            zf.write(p, f"erin/{p.name}")
    (cls / "frank").mkdir()  # empty
    (cls / "grace").mkdir()
    (cls / "grace" / "essay.txt").write_text("no code here")  # not Python
    make_submission(cls / "heidi", overrides={"diagnostics": "while True:\n    pass\n"})
    make_submission(cls / "ivan", overrides={"diagnostics": (
        "def relative_error(a, b):\n    x = []\n    while True:\n"
        "        x.append(bytearray(10**8))\n")})  # a memory bomb
    make_submission(cls / "judy", overrides={"quiz": (
        "ANSWERS = dict(ANSWERS)\nANSWERS['q1'] = 'boom'\n")})  # trips an internal error
    (cls / "notes.txt").write_text("the instructor's notes")  # no submission
    (cls / "kim.tar.gz").write_bytes(b"\x1f\x8b")  # a submission packed otherwise
    return cls


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    cls = _class(tmp)
    extra = tmp / "boom.py"
    extra.write_text(BOOM)
    out = tmp / "out"
    temp = tmp / "temp"  # the batch's temporary folder
    temp.mkdir()
    proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "diagnostics",
                   "--task", "quiz", "--timeout", "3", "--jobs", "2", "--extra-checks",
                   str(extra), "--format", "junit", timeout=1200, env={"TMPDIR": str(temp)})
    return proc, out


def test_the_gradebook_is_right_for_each_student(graded):
    proc, out = graded
    assert proc.returncode == 1, proc.stderr  # judy could not be graded
    rows = _rows(out / "gradebook.csv")
    status = {name: r["status"] for name, r in rows.items()}
    assert status == {"alice": "graded", "bob": "graded", "carol": "nothing_attempted",
                      "dave": "graded", "erin": "graded", "frank": "not_a_submission",
                      "grace": "not_a_submission", "heidi": "import_errors",
                      "ivan": "graded", "judy": "internal_error"}
    assert float(rows["alice"]["score"]) == 35 == float(rows["dave"]["score"])
    assert float(rows["erin"]["score"]) == 35
    assert float(rows["bob"]["quiz"]) == 13 and float(rows["bob"]["score"]) < 35
    assert float(rows["carol"]["score"]) == 0
    assert float(rows["heidi"]["diagnostics"]) == 0 and float(rows["heidi"]["quiz"]) == 15
    assert float(rows["ivan"]["quiz"]) == 15 and float(rows["ivan"]["diagnostics"]) == 18
    assert "internal error of the grader" in rows["judy"]["message"]


def test_files_that_are_no_submission_are_named_as_left_out(graded):
    """A file that is neither a student's folder, .zip nor .ipynb gets no row (it is no
    student), and the instructor is told, so that a submission packed otherwise (a
    .tar.gz) is not lost unseen."""
    proc, _ = graded
    assert ("grader: 2 file(s) of the class folder are no submission and are left out: "
            "kim.tar.gz, notes.txt (each student is a subfolder, a .zip or a .ipynb; a "
            "submission packed otherwise is graded once unpacked into a folder of its own)"
            ) in proc.stderr, proc.stderr[-2000:]


def test_a_batch_leaves_nothing_in_the_temporary_folder(graded):
    """Every worker's scratch folder is removed, the trusted one that answers for
    TensorFlow (asked by a grader for clip_by_global_norm) and those of the killed
    workers (an endless loop, a memory bomb) included."""
    proc, out = graded
    assert [p.name for p in (out.parent / "temp").iterdir()] == []


def test_every_student_has_a_report_a_ta_can_read(graded):
    _, out = graded
    for name in ("alice", "bob", "dave", "erin", "heidi", "ivan"):
        folder = out / "students" / name
        assert json.loads((folder / "report.json").read_text())["schema"] == "grader-report/1"
        assert "Score:" in (folder / "report.txt").read_text()
        assert (folder / "junit.xml").exists()
        assert json.loads((folder / "outcome.json").read_text())["student"] == name


def test_item_analysis_counts_named_mistakes(graded):
    _, out = graded
    items = {r["id"]: r for r in csv.DictReader(open(out / "items.csv", encoding="utf-8"))}
    boundaries = items["diagnostics.diagnose.boundaries"]
    assert 0 < float(boundaries["pass_rate"]) < 1
    assert float(items["quiz.q1.answer"]["not_attempted_share"]) > 0


def test_canvas_file_has_canvas_columns(graded):
    _, out = graded
    rows = list(csv.reader(open(out / "canvas.csv", encoding="utf-8")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "Section", "Weight initialisation"]
    assert rows[1][0] == "Points Possible" and rows[1][4] == "35"
    assert {r[0] for r in rows[2:]} >= {"alice", "bob"}


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.external = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key, "").startswith(("http://", "https://", "//")):
                self.external.append(a[key])
        if tag == "img":
            self.images.append(a.get("src", ""))


def test_the_class_page_is_self_contained(graded):
    _, out = graded
    page = _Images()
    page.feed((out / "class.html").read_text(encoding="utf-8"))
    assert page.images and all(src.startswith("data:image/png;base64,") for src in page.images)
    assert page.external == []


def _quiz_class(tmp_path):
    cls = tmp_path / "quizclass"
    for i, answer in enumerate(("b", "a", "c", "d", "b", "e")):
        make_submission(cls / f"s{i}", overrides={"quiz": (
            f"ANSWERS = dict(ANSWERS)\nANSWERS['q1'] = {answer!r}\n")})
    return cls


def _settled(folder, quiet_s: float = 0.5, limit_s: float = 30.0) -> list:
    """What ``folder`` holds once nothing in it has changed for ``quiet_s`` (the workers
    of a killed batch take a moment to die, and may touch their folders meanwhile)."""
    def state():
        return sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())
    deadline, last, since = time.monotonic() + limit_s, state(), time.monotonic()
    while time.monotonic() - since < quiet_s and time.monotonic() < deadline:
        time.sleep(0.05)
        now = state()
        if now != last:
            last, since = now, time.monotonic()
    return list(folder.iterdir())


def test_an_interrupted_batch_resumes_to_the_same_gradebook(tmp_path):
    cls = _quiz_class(tmp_path)
    whole = tmp_path / "whole"
    assert run_cli("batch", str(cls), "--output-dir", str(whole), "--task", "quiz",
                   "--jobs", "1").returncode == 0
    out = tmp_path / "out"
    temp = tmp_path / "temp"  # the temporary folder of the batches below
    temp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(cls), "--output-dir",
                             str(out), "--task", "quiz", "--jobs", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("students/*/outcome.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(out.glob("students/*/outcome.json")))
    assert 1 <= done
    left = _settled(temp)  # a killed batch cannot clean up
    assert list(temp.glob(f"grader-batch-{proc.pid}-*"))
    for path in left:  # the next batch removes what is an hour old and of a process gone
        os.utime(path, (time.time() - 7200,) * 2)
    resumed = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz",
                      env={"TMPDIR": str(temp)})
    assert resumed.returncode == 0, resumed.stderr
    assert "temporary folder(s) that killed gradings left behind" in resumed.stderr
    assert not [p.name for p in left if p.exists()]
    assert list(temp.iterdir()) == []
    assert f"{done} unchanged since the last run" in resumed.stderr or done == 6
    assert _without_durations((out / "gradebook.csv").read_text()) == \
        _without_durations((whole / "gradebook.csv").read_text())
    again = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert "6 unchanged since the last run" in again.stderr
    forced = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz", "--force")
    assert "0 unchanged since the last run" in forced.stderr
    # limits decide grades (a call that timed out may pass with more time): all regraded
    longer = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz",
                     "--timeout", "40")
    assert "0 unchanged since the last run" in longer.stderr


def test_ctrl_c_stops_the_batch_with_a_consistent_gradebook(tmp_path):
    """Ctrl-C midway (a SIGINT to the process group, as a terminal sends it): exit 130, the
    gradebook holds exactly the students whose reports were written, nothing is left in
    the temporary folder, and the same command resumes from there."""
    cls = _quiz_class(tmp_path)
    make_submission(cls / "s6", overrides={"quiz": "while True:\n    pass\n"})  # graded last
    out, temp = tmp_path / "out", tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(cls), "--output-dir",
                             str(out), "--task", "quiz", "--jobs", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while len(list(out.glob("students/*/outcome.json"))) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # s6's worker is importing its endless module
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert f"interrupted; 6 of 7 students are in {out / 'gradebook.csv'}; run the same " \
           "command again to finish" in err
    assert set(_rows(out / "gradebook.csv")) == {f"s{i}" for i in range(6)}
    assert {p.parent.name for p in out.glob("students/*/outcome.json")} == \
        {f"s{i}" for i in range(6)}
    assert [p.name for p in out.rglob(".*")] == [".batch.lock"]
    assert list(temp.iterdir()) == []
    shutil.rmtree(cls / "s6")
    make_submission(cls / "s6")
    resumed = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "7 students, 6 unchanged since the last run, 1 to grade" in resumed.stderr
    assert _rows(out / "gradebook.csv")["s6"]["status"] == "graded"


def test_the_progress_on_a_terminal_shows_each_name_as_it_is(tmp_path):
    """On a terminal (the progress bar), a name with brackets is not taken for markup
    ('hw3 [final]' showed as 'hw3 ') and a newline in a name does not break the line."""
    import pty

    cls = tmp_path / "class"
    names = ("hw3 [final]", "[bold]Bob", "new\nline")
    for name in names:
        make_submission(cls / name)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    main, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(cls), "--output-dir",
                             str(out), "--task", "quiz"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other end is closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert proc.wait(timeout=300) == 0, shown.decode(errors="replace")[-2000:]
    text = shown.decode(errors="replace")
    for name in ("hw3 [final]", "[bold]Bob", "new\\nline"):
        assert f"] {name}: graded" in text, text[-2000:]
    assert set(_rows(out / "gradebook.csv")) == set(names)


def test_a_rerun_writes_the_formats_it_is_asked_for_and_no_stale_one(tmp_path):
    """A rerun with a new --format writes it for the unchanged students too (it wrote
    nothing for them); a student regraded keeps no report of an older grade in a format
    this run was not asked for."""
    cls = _quiz_class(tmp_path)
    out = tmp_path / "out"
    assert run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz").returncode == 0
    assert not list(out.glob("students/*/report.md"))
    again = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz", "--format",
                    "markdown")
    assert again.returncode == 0 and "6 unchanged since the last run" in again.stderr
    assert {p.parent.name for p in out.glob("students/*/report.md")} == {f"s{i}" for i in range(6)}
    before = (out / "students" / "s0" / "report.md").read_text()
    assert "15 / 15" in before
    make_submission(cls / "s0", overrides={"quiz": "ANSWERS = dict(ANSWERS)\nANSWERS['q1'] = 'a'\n"})
    third = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert third.returncode == 0 and "5 unchanged since the last run" in third.stderr
    assert _rows(out / "gradebook.csv")["s0"]["score"] == "13"
    after = (out / "students" / "s0" / "report.md").read_text()
    assert "13 / 15" in after and "15 / 15" not in after


def test_a_second_batch_into_the_same_output_folder_is_refused(tmp_path):
    cls = _quiz_class(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(cls), "--output-dir",
                              str(out), "--task", "quiz", "--jobs", "1"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lock, deadline = out / ".batch.lock", time.monotonic() + 120
    try:
        while time.monotonic() < deadline and not (
                lock.exists() and lock.read_text().strip() == str(first.pid)):
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGSTOP)  # still grading, whatever this machine's speed
        second = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 2
    assert f"another grader batch (process {first.pid}) is writing to {out}" in second.stderr
    assert first.wait(timeout=300) == 0, first.stderr.read()[-3000:]
    third = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert third.returncode == 0 and "6 unchanged since the last run" in third.stderr


def test_the_output_folder_may_be_in_the_class_folder(tmp_path):
    """It is no student, and every worker still starts although it is hidden inside the
    hidden class folder; inside a student's own folder it is refused."""
    cls = _quiz_class(tmp_path)
    out = cls / "graded"
    first = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert first.returncode == 0, first.stderr[-2000:]
    rows = _rows(out / "gradebook.csv")
    assert set(rows) == {f"s{i}" for i in range(6)}
    assert {r["status"] for r in rows.values()} == {"graded"}
    again = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert "6 students, 6 unchanged since the last run" in again.stderr
    other = run_cli("batch", str(cls), "--output-dir", str(cls / "graded2"), "--task", "quiz")
    assert "graded: the output of another batch, not a submission" in other.stderr
    assert set(_rows(cls / "graded2" / "gradebook.csv")) == set(rows)
    inside = run_cli("batch", str(cls), "--output-dir", str(cls / "s1" / "out"))
    assert inside.returncode == 2
    assert "is inside the submission of s1" in inside.stderr


def test_an_output_folder_that_cannot_be_written_stops_with_what_is_kept(tmp_path):
    """A full disk or a folder in the way midway: exit 2 and what the gradebook keeps, not
    an internal error; no temporary file is left; the same command then resumes. A merge
    into such a folder says so and leaves the shards as they were."""
    cls = _quiz_class(tmp_path)
    out = tmp_path / "out"
    (out / "students").mkdir(parents=True)
    (out / "students" / "s3").write_text("in the way")
    proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz", "--jobs", "1")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert (f"grader: cannot write {out / 'students' / 's3'}: File exists. "
            f"{out / 'gradebook.csv'} holds the 3 student(s) graded so far; fix that (or "
            f"choose another --output-dir), then run the same command again: it resumes\n"
            ) in proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert set(_rows(out / "gradebook.csv")) == {"s0", "s1", "s2"}
    assert [p.name for p in out.rglob(".*")] == [".batch.lock"]
    (out / "students" / "s3").unlink()
    again = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert again.returncode == 0 and "3 unchanged since the last run" in again.stderr
    assert set(_rows(out / "gradebook.csv")) == {f"s{i}" for i in range(6)}
    before = sorted((p, p.read_bytes()) for p in out.rglob("*") if p.is_file())
    merged = tmp_path / "merged"
    merged.mkdir()
    (merged / "students").write_text("in the way")
    proc = run_cli("merge", str(out), "--output-dir", str(merged))
    assert proc.returncode == 2
    assert f"grader: cannot write {merged / 'students'}" in proc.stderr
    assert "then merge again (the shards are unchanged)" in proc.stderr
    assert sorted((p, p.read_bytes()) for p in out.rglob("*") if p.is_file()) == before


def test_a_roster_gives_canvas_its_ids_and_says_who_is_missing(tmp_path):
    cls = _quiz_class(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text('\ufeffsubmission,student,ID,sis_user_id,Section\n'  # Excel's BOM
                      's0,"Smith, Ann",101,u101,A\ns1,=cmd(),102,u102,B\n'
                      'ghost,Gus Host,109,u109,B\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz",
                   "--roster", str(roster))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "the roster names 1 submission(s) not in the class folder (ghost)" in proc.stderr
    assert "4 submission(s) are not on the roster (s2, s3, s4, s5)" in proc.stderr
    rows = list(csv.reader((out / "canvas.csv").read_text().splitlines()))
    assert rows[0][:4] == ["Student", "ID", "SIS User ID", "Section"]
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["101"][:4] == ["Smith, Ann", "101", "u101", "A"]
    assert by_id["102"][0] == "'=cmd()"  # no formula for a spreadsheet
    assert [r[:4] for r in rows[2:] if r[0] == "s2"] == [["s2", "", "", ""]]
    # the same roster from a spreadsheet that separates with semicolons, saved as UTF-16
    roster.write_text('submission;student;ID;sis_user_id;Section\n'
                      's0;"Smith, Ann";101;u101;A\ns1;=cmd();102;u102;B\n'
                      'ghost;Gus Host;109;u109;B\n', encoding="utf-16")
    again = tmp_path / "again"
    proc = run_cli("batch", str(cls), "--output-dir", str(again), "--task", "quiz",
                   "--roster", str(roster))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (again / "canvas.csv").read_text() == (out / "canvas.csv").read_text()
    for bad, says in (("name,id\nx,1\n", "needs a 'submission' column"),
                      ("submission\ns0\n", "needs a 'submission' column"),
                      ("submission,ID\ns0,1\ns0,2\n", "names the submission 's0' twice")):
        roster.write_text(bad)
        proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz",
                       "--roster", str(roster))
        assert proc.returncode == 2 and says in proc.stderr, proc.stderr[-1000:]


def test_canvas_names_its_download_files_and_they_are_grouped_by_student():
    from pathlib import Path

    from grader.canvasfiles import groups, parse

    found = parse(Path("smithbob_late_101_9001_quiz-2.py"))
    assert (found.student, found.user_id, found.original, found.upload) == \
        ("smithbob_101", "101", "quiz.py", 2)
    assert parse(Path("smith_1234_quiz.py")) is None  # one number: not Canvas' name
    assert parse(Path("notes.txt")) is None
    files = [Path(n) for n in ("jonesann_202_9002_quiz.py", "jonesann_202_9002_quiz-1.py",
                               "jonesann_202_9002_initializers.py", "leeamy_303_9003_quiz.py",
                               "leeamy_404_9004_quiz.py", "leeamy_303_9003_report.pdf",
                               "leeamy_303_9003_hw.zip", "kimjo_505_9005_hw.zip",
                               "kimjo_505_9005_hw-1.zip", "parkli_606_9006_hw.ipynb")]
    grouped, left = groups(files)
    assert {name: [(f.path.name, f.original) for f in fs] for name, fs in grouped.items()} == {
        "jonesann_202": [("jonesann_202_9002_initializers.py", "initializers.py"),
                         ("jonesann_202_9002_quiz-1.py", "quiz.py")],  # the latest upload
        "leeamy_303": [("leeamy_303_9003_quiz.py", "quiz.py")],  # its modules, not the zip
        "leeamy_404": [("leeamy_404_9004_quiz.py", "quiz.py")],  # one name, two students
        "kimjo_505": [("kimjo_505_9005_hw-1.zip", "hw.zip")],  # the latest zip
        "parkli_606": [("parkli_606_9006_hw.ipynb", "hw.ipynb")]}
    assert [f.path.name for f in left] == ["jonesann_202_9002_quiz.py", "kimjo_505_9005_hw.zip",
                                           "leeamy_303_9003_hw.zip"]


def test_a_canvas_download_is_graded_student_by_student_with_canvas_ids(tmp_path):
    """The loose files of Canvas' "Download Submissions": each student's latest upload of
    each file, graded as one submission, named <student>_<user id>, with the user id as
    canvas.csv's ID; a folder beside them is a student as ever; shards merge alike."""
    cls = tmp_path / "download"
    cls.mkdir()
    right = (ROOT / "reference" / "quiz.py").read_text()
    (cls / "smithbob_101_9001_quiz.py").write_text(right)
    (cls / "jonesann_late_202_9002_quiz.py").write_text((STUBS / "quiz.py").read_text())
    (cls / "jonesann_late_202_9002_quiz-1.py").write_text(right)  # uploaded again, later
    (cls / "leeamy_303_9003_quiz.py").write_text(right + "\nANSWERS = dict(ANSWERS)\n"
                                                 "ANSWERS['q1'] = 'z'\n")
    (cls / "leeamy_303_9003_notes.txt").write_text("not a module")
    make_submission(cls / "carl")
    with zipfile.ZipFile(cls / "kimjo_505_9005_hw3.zip", "w") as zf:  # a zip, as uploaded
        zf.writestr("hw3/quiz.py", right)
    out = tmp_path / "out"
    proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ("5 file(s) named as Canvas' \"Download Submissions\" names them: 4 student(s)"
            in proc.stderr and "left out, as older uploads or beside loose modules: "
            "jonesann_late_202_9002_quiz.py" in proc.stderr), proc.stderr[-2000:]
    assert "no submission and are left out: leeamy_303_9003_notes.txt (" in proc.stderr
    rows = _rows(out / "gradebook.csv")
    full = float(rows["carl"]["max_score"])
    assert {n: float(r["score"]) for n, r in rows.items()} == {
        "carl": full, "jonesann_202": full, "smithbob_101": full, "kimjo_505": full,
        "leeamy_303": float(rows["leeamy_303"]["score"])}
    assert 0 < float(rows["leeamy_303"]["score"]) < full
    canvas = {r[0]: r[1] for r in csv.reader((out / "canvas.csv").read_text().splitlines())}
    assert [canvas[n] for n in ("jonesann_202", "leeamy_303", "kimjo_505", "carl")] == \
        ["202", "303", "505", ""]
    again = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz")
    assert "5 unchanged since the last run, 0 to grade" in again.stderr, again.stderr[-2000:]
    for shard in ("1/2", "2/2"):
        proc = run_cli("batch", str(cls), "--output-dir", str(tmp_path / shard[0]), "--task",
                       "quiz", "--shard", shard)
        assert proc.returncode == 0, proc.stderr[-2000:]
    merged = tmp_path / "merged"
    proc = run_cli("merge", str(tmp_path / "1"), str(tmp_path / "2"), "--output-dir", str(merged))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (merged / "canvas.csv").read_text() == (out / "canvas.csv").read_text()


def test_shards_merge_into_one_run(tmp_path):
    cls = _quiz_class(tmp_path)
    whole, a, b, merged = (tmp_path / n for n in ("whole", "a", "b", "merged"))
    assert run_cli("batch", str(cls), "--output-dir", str(whole), "--task", "quiz").returncode == 0
    for shard, out in (("1/2", a), ("2/2", b)):
        proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz",
                       "--shard", shard)
        assert proc.returncode == 0, proc.stderr
    assert len(_rows(a / "gradebook.csv")) == 3 == len(_rows(b / "gradebook.csv"))
    proc = run_cli("merge", str(a), str(b), "--output-dir", str(merged))
    assert proc.returncode == 0, proc.stderr
    assert _without_durations((merged / "gradebook.csv").read_text()) == \
        _without_durations((whole / "gradebook.csv").read_text())
    for name in ("items.csv", "canvas.csv", "class.html"):
        assert (merged / name).read_bytes() == (whole / name).read_bytes(), name
    bad = run_cli("batch", str(cls), "--output-dir", str(tmp_path / "c"), "--task", "quiz",
                  "--shard", "3/2")
    assert bad.returncode == 2 and "K must be between 1 and N" in bad.stderr


def test_a_merge_that_would_lose_students_is_refused(tmp_path):
    cls = _quiz_class(tmp_path)
    whole, a, b = (tmp_path / n for n in ("whole", "a", "b"))
    for args, out in (((), whole), (("--shard", "1/2"), a), (("--shard", "2/2"), b)):
        proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz", *args)
        assert proc.returncode == 0, proc.stderr
    merged = tmp_path / "merged"
    for shards, says in (((a,), "shard 2/2 is missing"), ((a, a, b), "shard 1/2 is given twice"),
                         ((whole, a, b), "graded the whole class")):
        proc = run_cli("merge", *map(str, shards), "--output-dir", str(merged))
        assert proc.returncode == 2 and says in proc.stderr, proc.stderr[-1000:]
    assert not merged.exists()
    shutil.rmtree(b / "students" / "s1")  # a shard stopped before this student
    proc = run_cli("merge", str(a), str(b), "--output-dir", str(merged))
    assert proc.returncode == 2 and "hold no grade for 1 student(s) of the class (s1)" in \
        proc.stderr
    make_submission(cls / "s9")  # a late submission, seen by one shard only
    proc = run_cli("batch", str(cls), "--output-dir", str(b), "--task", "quiz",
                   "--shard", "2/2")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("merge", str(a), str(b), "--output-dir", str(merged))
    assert proc.returncode == 2 and "from different class folders (s9 in one only)" in \
        proc.stderr
    assert run_cli("batch", str(cls), "--output-dir", str(a), "--task", "quiz",
                   "--shard", "1/2").returncode == 0  # s9 is graded in its own shard
    shutil.rmtree(cls / "s9")  # and withdrawn: both shards again, without it
    for shard, out in (("1/2", a), ("2/2", b)):
        assert run_cli("batch", str(cls), "--output-dir", str(out), "--task", "quiz",
                       "--shard", shard).returncode == 0
    assert (a / "students" / "s9").exists()
    proc = run_cli("merge", str(a), str(b), "--output-dir", str(merged))
    assert proc.returncode == 0, proc.stderr
    assert set(_rows(merged / "gradebook.csv")) == {f"s{i}" for i in range(6)}
    assert not (merged / "students" / "s9").exists()


def test_two_submissions_with_one_name_keep_names_of_their_own(tmp_path):
    from grader.batch import students

    for name in ("alice", "alice_", "b.zip"):
        (tmp_path / name).mkdir()
    for name in ("alice.zip", "alice.ipynb", "b.zip.zip", "carol.zip", "carol.ipynb", ".x.zip",
                 "notes.txt"):
        (tmp_path / name).write_text("")
    named = {name: path.name for name, path in students(tmp_path)}
    # a file whose short name is taken keeps its whole name; nobody's name depends on
    # which entries come after it (a new submission renames no one on a rerun)
    assert named == {"alice": "alice", "alice.ipynb": "alice.ipynb", "alice.zip": "alice.zip",
                     "alice_": "alice_", "b.zip": "b.zip", "b.zip.zip": "b.zip.zip",
                     "carol": "carol.ipynb", "carol.zip": "carol.zip"}
    (tmp_path / "alice").rmdir()
    (tmp_path / "carol.ipynb").unlink()
    named = {name: path.name for name, path in students(tmp_path)}
    assert named["alice"] == "alice.ipynb" and named["carol"] == "carol.zip"


def test_batch_bad_input_exits_2(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    out = run_cli("batch", str(tmp_path / "missing"), "--output-dir", str(tmp_path / "o"))
    assert out.returncode == 2 and "is not a folder" in out.stderr
    flat = tmp_path / "flat"  # files of a learning platform's download, not yet in folders
    flat.mkdir()
    (flat / "smith_1234_quiz.py").write_text("ANSWERS = {}\n")
    out = run_cli("batch", str(flat), "--output-dir", str(tmp_path / "o"))
    assert out.returncode == 2 and "holds no submission" in out.stderr
    assert "1 .py file(s) directly, such as smith_1234_quiz.py" in out.stderr
    assert not (tmp_path / "o").exists()
    packed = tmp_path / "packed"  # submissions packed as no student's is
    packed.mkdir()
    (packed / "kim.tar.gz").write_bytes(b"\x1f\x8b")
    (packed / "bob.rar").write_bytes(b"Rar!")
    out = run_cli("batch", str(packed), "--output-dir", str(tmp_path / "o"))
    assert out.returncode == 2 and ("holds no submission: each student is a subfolder, a .zip "
                                    "or a .ipynb of it (it holds bob.rar, kim.tar.gz: unpack "
                                    "each submission packed otherwise into a folder of its "
                                    "own)") in out.stderr, out.stderr
    (tmp_path / "alice").mkdir()
    out = run_cli("batch", str(tmp_path), "--output-dir", str(tmp_path))
    assert out.returncode == 2 and "is the class folder" in out.stderr
    out = run_cli("batch", str(tmp_path), "--output-dir", str(tmp_path / "o"),
                  "--student-timeout", "0")
    assert out.returncode == 2 and "--student-timeout must be positive, got 0" in out.stderr
    out = run_cli("batch", str(tmp_path), "--output-dir", str(f))
    assert out.returncode == 2 and "cannot write" in out.stderr
    out = run_cli("batch", str(tmp_path), "--output-dir", str(f / "sub"))
    assert out.returncode == 2 and "cannot write" in out.stderr
    out = run_cli("merge", str(tmp_path), "--output-dir", str(tmp_path / "m"))
    assert out.returncode == 2 and "not the output of grader batch" in out.stderr
    out = run_cli("merge", str(tmp_path / "m"), str(tmp_path), "--output-dir", str(tmp_path))
    assert out.returncode == 2 and "is one of the shards: merge into a new folder" in out.stderr


def test_a_student_graded_after_another_gets_the_report_of_a_check(tmp_path):
    """One grader grades both students: the second replays the examples the first drew
    (``grader.memory``), and its report is the one ``grader check`` gives."""
    cls = tmp_path / "class"
    make_submission(cls / "a_first")
    make_submission(cls / "b_second", overrides={"diagnostics": (
        "def clip_by_global_norm(grads, max_norm):\n"
        "    norm = float(sum((g ** 2).sum() for g in grads)) ** 0.5\n"
        "    return [g.copy() for g in grads], norm\n")})  # never clips
    out = tmp_path / "out"
    proc = run_cli("batch", str(cls), "--output-dir", str(out), "--task", "diagnostics",
                   "--jobs", "1", timeout=600)
    assert proc.returncode == 0, proc.stderr

    def seen(report: dict) -> list[tuple]:
        return [(c["id"], c["status"], c["score"], c["message"], c["hint"], c["evidence"])
                for task in report["tasks"] for c in task["checks"]]
    for name in ("a_first", "b_second"):
        check = run_cli("check", str(cls / name), "--task", "diagnostics", "--no-cache",
                        "--format", "json", "--quiet", timeout=600)
        assert check.returncode == 0, check.stderr
        batch = json.loads((out / "students" / name / "report.json").read_text())
        assert seen(batch) == seen(json.loads(check.stdout)), name
    assert _rows(out / "gradebook.csv")["b_second"]["diagnostics"] != \
        _rows(out / "gradebook.csv")["a_first"]["diagnostics"]


def test_the_home_folder_hidden_from_workers_is_never_the_root_or_the_temporary_one(
        monkeypatch, tmp_path):
    import tempfile
    from pathlib import Path

    from grader.batch import _home

    monkeypatch.setenv("HOME", str(tmp_path / "someone"))
    (tmp_path / "someone").mkdir()
    assert _home() == (str((tmp_path / "someone").resolve()),)
    monkeypatch.setenv("HOME", "/")
    assert _home() == ()
    monkeypatch.setenv("HOME", str(Path(tempfile.gettempdir()).parent))
    assert _home() == ()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_pressed_during_a_fork_still_stops_the_batch():
    """Python prints and ignores a KeyboardInterrupt raised in its hooks around a fork
    (seen: a batch that ran to the end after Ctrl-C); the batch remembers the Ctrl-C and
    its loop stops on it, and the previous handler is back afterwards."""
    import threading

    from grader.batch import _ctrl_c_kept, _grade_all

    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("needs Python's own SIGINT handler on the main thread")
    during = []  # the hook presses Ctrl-C only for the fork below
    os.register_at_fork(after_in_parent=lambda: during and signal.raise_signal(signal.SIGINT))
    with _ctrl_c_kept() as pressed:
        assert not pressed()
        during.append(True)
        try:
            pid = os.fork()  # the KeyboardInterrupt of the hook is printed and ignored here
            if pid == 0:
                os._exit(0)
        finally:
            during.clear()
        os.waitpid(pid, 0)
        assert pressed()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    class Pool:  # what _grade_all needs of a pool to fork one grader
        connections = {}

    with pytest.raises(KeyboardInterrupt):  # stopped at once, not after the student
        _grade_all([("ann", "/nonexistent", "k")], Pool(), None, None, 1, 900.0,
                   lambda name, result: None, None, lambda: True)

"""What ``run_autograder`` runs on Gradescope: grade the submission, always write results.

``python -m grader.autograder --root /autograder`` reads the bundle's
``source/autograder.json`` (the secret seed, the extra checks), finds the
submission in ``submission/`` (the five modules directly, under
``assignment/``, one or two folders deep, in a ``.zip`` there, or written by
a notebook there), grades it without any cache, and writes
``results/results.json``, whatever happens: a submission without the modules
gets 0 and an output saying what was found and what was expected; a grader
error gets 0, says so, and is logged to ``results/stdout``. ``AUTOGRADER_TASKS``
(comma-separated) grades fewer tasks, to test a bundle quickly.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from grader.atomic import write_text

__all__ = ["main", "find_submission"]


def _listing(folder: Path, limit: int = 30) -> str:
    if not folder.exists():
        return "(no submission folder)"
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    if not names:
        return "(nothing)"
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit
                                      else "")


def find_submission(folder: Path, scratch: Path):
    """The submission in ``folder``: modules, a zip of them, or a notebook writing them."""
    from grader.inputs import unpack_zip
    from grader.submission import SubmissionError, found

    submission = found(folder, "submission") if folder.is_dir() else None
    if submission is not None:
        return submission
    candidates = sorted(folder.rglob("*")) if folder.is_dir() else []
    for path in candidates:
        if path.is_file() and path.suffix.lower() == ".zip":
            unpacked = scratch / "zip"
            unpacked.mkdir(exist_ok=True)
            unpack_zip(path, unpacked)
            submission = found(unpacked, f"submission/{path.name}")
            if submission is not None:
                return submission
    for path in candidates:
        if path.is_file() and path.suffix.lower() == ".ipynb":
            from grader import notebooks

            into = scratch / "notebook"
            into.mkdir(exist_ok=True)
            return notebooks.submission(path, into, given=f"submission/{path.name}")
    raise SubmissionError("no submission to grade")


def _failure(output: str, started: float) -> dict:
    return {"score": 0.0, "execution_time": round(time.monotonic() - started, 1),
            "output": output, "output_format": "md", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def _grade(root: Path, config: dict, started: float) -> dict:
    from grader.battery import load_extra
    from grader.contract import TASKS
    from grader.grading import Extra, grade
    from grader.reporters import render
    from grader.runner import RunOptions
    from grader.sandbox import Limits
    from grader.submission import MODULE_FILES, SubmissionError

    source = root / "source"
    batteries, files, paths = [], [], []
    for rel in config.get("extra_checks", []):
        found, read = load_extra(str(source / rel))
        batteries += found
        files += read
        paths.append(str((source / rel).resolve()))
    tasks = tuple(t for t in os.environ.get("AUTOGRADER_TASKS", "").split(",") if t) or TASKS
    options = RunOptions(seed=int(config["seed"]), tasks=tasks, jobs=2, limits=Limits())
    with tempfile.TemporaryDirectory(prefix="grader-submission-") as tmp:
        try:
            submission = find_submission(root / "submission", Path(tmp))
        except SubmissionError as exc:
            return _failure(
                f"**Score: 0.** The submission holds none of the files the assignment asks for "
                f"({exc}).\n\nExpected: {', '.join(MODULE_FILES)}, at the top of the "
                f"submission, in a folder one or two levels deep, in a .zip, or written by a "
                f"notebook's `%%writefile` cells.\n\nFound: {_listing(root / 'submission')}.",
                started)
        report = grade(submission, options,
                       extra=Extra(tuple(batteries), tuple(files), tuple(paths)))
    return json.loads(render(report, "gradescope"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.autograder")
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    root = Path(args.root)
    started = time.monotonic()
    results = root / "results" / "results.json"
    try:
        config = json.loads((root / "source" / "autograder.json").read_text(encoding="utf-8"))
        data = _grade(root, config, started)
    except Exception as exc:  # noqa: BLE001 - the grade must still be written
        import traceback

        traceback.print_exc()
        data = _failure("**The autograder could not grade this submission** (an error of the "
                        f"grader, not of your code: {type(exc).__name__}). Your instructor has "
                        "been given the details; please tell them too.", started)
    write_text(results, json.dumps(data, indent=2, allow_nan=False) + "\n")
    print(f"results written to {results}: score {data.get('score')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``grader export gradescope --out autograder.zip``: the bundle that grades on submission.

The bundle holds ``setup.sh`` (the CPU builds of torch 2.13.0 and TensorFlow
2.21.0, then the grader, and an unprivileged user for student code),
``run_autograder`` (grades ``$AUTOGRADER_ROOT/submission``, default
``/autograder``, and always writes ``results/results.json``), the grader
with the quiz's answer key, the instructor's ``--extra-checks`` (never part of
the student release), and ``autograder.json``: the seed of the final grade,
drawn here unless ``--seed`` is given. Students do not know it; a correct
solution passes every check at every seed, so it costs correct work nothing
and defeats submissions tuned to seed 0. The seed is recorded, hidden, in
every grade, so that a grade can be reproduced.
"""
from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import zipfile
from pathlib import Path

__all__ = ["add_parser", "build_gradescope", "BUNDLE_EXCLUDES"]

PROJECT = Path(__file__).resolve().parent.parent
#: the instructor's commands the bundle does not need
BUNDLE_EXCLUDES = ("release.py", "export.py", "docs.py", "batch.py", "classbook.py",
                   "classpage.py")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
cd /autograder/source
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
python3 -m venv /autograder/venv
# the CPU builds only: torch first, so that nothing pulls a CUDA build
/autograder/venv/bin/pip install --quiet torch==2.13.0 \\
    --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install --quiet tensorflow-cpu==2.21.0
/autograder/venv/bin/pip install --quiet /autograder/source
# student code never runs as root: the workers drop to this user
id grader-student >/dev/null 2>&1 || \\
    useradd --system --no-create-home --shell /usr/sbin/nologin grader-student
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this, as root, for every submission. It always writes
# $ROOT/results/results.json and exits 0; the grade is in the file.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
SOURCE="$ROOT/source"
mkdir -p "$ROOT/results"
if [ "$(id -u)" = 0 ]; then
    # the results and the grader (quiz key, hidden checks) are root's alone
    chmod 700 "$ROOT/results"
    chmod -R go-rwx "$SOURCE"
    chmod -R a+rX "$ROOT/submission" 2>/dev/null
    if [ -z "${GRADER_WORKER_USER:-}" ] && id grader-student >/dev/null 2>&1; then
        export GRADER_WORKER_USER=grader-student
    fi
fi
cd "$SOURCE" || exit 0
export PYTHONPATH="$SOURCE${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -m grader.autograder --root "$ROOT" || true
exit 0
"""

_PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "weight-init-autograder"
version = "{version}"
requires-python = ">=3.10"
dependencies = [
{dependencies}
]

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["templates/*.j2"]
'''


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "export", help="build the Gradescope autograder bundle",
        description="Build the zip Gradescope's 'Configure Autograder' page takes: setup.sh, "
                    "run_autograder, the grader with the quiz key and any --extra-checks, and "
                    "a secret seed for the final grade.")
    parser.add_argument("platform", choices=["gradescope"])
    parser.add_argument("--out", required=True, metavar="ZIP")
    parser.add_argument("--extra-checks", action="append", metavar="PATH",
                        help="instructor-only check modules to include; repeatable")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="the seed of the final grade (default: drawn at random)")
    parser.set_defaults(run=_run)


def build_gradescope(out: Path, extra: tuple[Path, ...] = (), seed: int | None = None) -> dict:
    """Write the bundle to ``out``; returns its ``autograder.json``."""
    from grader import __version__
    from grader.release import _dependencies

    seed = secrets.randbelow(2**31) if seed is None else seed
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as tmp:
        root = Path(tmp)
        source = PROJECT / "grader"
        shutil.copytree(source, root / "grader", ignore=lambda d, names: [
            n for n in names if n in ("__pycache__", ".grader-cache")
            or (Path(d) == source and n in BUNDLE_EXCLUDES)])
        hidden = []
        for i, path in enumerate(extra):
            target = root / "hidden_checks" / f"{i:02d}_{path.name}"
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(exist_ok=True)
                shutil.copy(path, target)
            hidden.append(str(target.relative_to(root)))
        config = {"seed": seed, "extra_checks": hidden, "grader": __version__}
        (root / "autograder.json").write_text(json.dumps(config, indent=2) + "\n")
        deps = ",\n".join(f'    "{d}"' for d in _dependencies())
        (root / "pyproject.toml").write_text(_PYPROJECT.format(version=__version__,
                                                               dependencies=deps))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
                info = zipfile.ZipInfo(name)
                info.external_attr = 0o755 << 16
                zf.writestr(info, text)
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(root).as_posix())
    return config


def _run(args) -> int:
    import sys

    from grader.cli import UsageError, extra_checks

    extra = tuple(Path(p) for p in (args.extra_checks or ()))
    extra_checks(args)  # loaded and their points shared here, not first on Gradescope
    if args.seed is not None and not 0 <= args.seed < 2**31:
        raise UsageError(f"--seed {args.seed} must be between 0 and 2**31 - 1")
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"cannot write {out}: it is a folder")
    try:
        config = build_gradescope(out, extra, args.seed)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"grader: the Gradescope bundle is {out} (the final grade's seed, kept secret from "
          f"students: {config['seed']})", file=sys.stderr)
    return 0

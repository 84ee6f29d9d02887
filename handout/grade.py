"""Set up and grade the assignment, on Linux, macOS or Windows: ``python grade.py``.

On first use this creates a virtual environment in ``.venv``, installs the
CPU build of PyTorch 2.13.0, then TensorFlow and the grader (about two
minutes); then, and on every later run, it grades ``assignment/``. Anything
after ``grade.py`` is passed to ``grader check``, for example
``python grade.py --task initializers`` or ``python grade.py --function he_normal``.
Set ``TORCH_INDEX_URL`` to install PyTorch from another index.
"""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
MARKER = VENV / ".installed"
TORCH = "torch==2.13.0"
#: PyPI's Linux wheels of torch carry CUDA; the CPU build comes from PyTorch's own index
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _pip(*args: str) -> None:
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", *args], check=True)


def setup() -> None:
    if MARKER.exists():
        return
    print("grade.py: setting up .venv (the first time takes a couple of minutes)",
          file=sys.stderr)
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
    index = os.environ.get("TORCH_INDEX_URL",
                           CPU_INDEX if sys.platform.startswith("linux") else "")
    _pip(TORCH, *(["--index-url", index] if index else []))
    _pip("-e", str(HERE))
    MARKER.write_text("ok\n")


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 10):
        print("grade.py: Python 3.10 or newer is needed", file=sys.stderr)
        return 2
    try:
        setup()
    except subprocess.CalledProcessError as exc:
        print(f"grade.py: the installation failed ({exc}); see the messages above",
              file=sys.stderr)
        return 2
    return subprocess.call([str(PYTHON), "-m", "grader", "check", *argv], cwd=HERE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

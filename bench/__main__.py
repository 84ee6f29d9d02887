"""``python -m bench [study ...]`` or ``python -m bench STUDY --option ...``: run studies.

Studies: ``speed`` (the student's loop, ratios against baselines measured in
the same run), ``initializers`` (false-failure rates and power of the
initializer checks), ``batch`` (a class through ``grader batch`` against one
check per student), ``workers`` (where a batch grader's time per student
goes). Default: all.
"""
from __future__ import annotations

import importlib
import sys

STUDIES = {"initializers": "bench.initializer_design", "speed": "bench.speed",
           "batch": "bench.batch", "workers": "bench.workers"}


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[0] in STUDIES and argv[1].startswith("-"):
        return importlib.import_module(STUDIES[argv[0]]).main(argv[1:])
    names = argv or list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        print(f"unknown study {unknown}; choose from {sorted(STUDIES)}", file=sys.stderr)
        return 2
    for name in names:
        importlib.import_module(STUDIES[name]).main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``python -m bench [study ...]``: run the named studies (default: all)."""
from __future__ import annotations

import sys

from bench import grading_time, initializer_design

STUDIES = {"initializers": initializer_design.main, "grading_time": grading_time.main}


def main(argv: list[str]) -> int:
    names = argv or list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        print(f"unknown study {unknown}; choose from {sorted(STUDIES)}", file=sys.stderr)
        return 2
    for name in names:
        STUDIES[name]([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A battery: everything the grader knows about one task, in one declaration.

Each task module of ``grader.checks`` exports one :class:`Battery`; the
runner, the gates and the command line work from batteries and never name a
task. Instructor-only check modules (``--extra-checks``) export batteries of
their own, holding checks only, which :func:`merge` adds to the task's.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

from grader.check import Check
from grader.contract import POINTS

__all__ = ["Profile", "Battery", "merge", "load_extra", "ExtraChecksError"]


@dataclass(frozen=True)
class Profile:
    """How the workers of a task are started.

    ``preload`` is what every worker of the task imports before any student code
    runs (numpy always; torch and TensorFlow where the models need them);
    ``memory_factor`` multiplies ``--memory-mb`` (TensorFlow reserves
    address space it never touches); ``start_timeout_s`` bounds the import of
    the student's module in a warm worker (scaled by ``--timeout``): the
    reference's modules import in under 0.06 s there (forking and entering the
    sandbox included), so 10 s is a margin of over a hundredfold, and a module
    that hangs at import is waited for once, 10 s. Tasks with a higher
    ``priority`` start first; the frameworks task starts last, when the
    server that imports TensorFlow for it is ready.
    """

    preload: tuple[str, ...] = ("numpy",)
    memory_factor: float = 1.0
    start_timeout_s: float = 10.0
    priority: int = 0


@dataclass(frozen=True)
class Battery:
    """The checks of one task, and what running them needs.

    ``gates`` maps a function to its gate (``grader.gates``); ``smoke`` maps a
    function to its basic valid calls ``(args, kwargs)``, the first of which
    the NumPy-only check makes; ``helpers`` is the module of oracles that
    answers for the task's other SPEC functions while one is graded (in the
    grader: ``grader.helpers``);
    ``attribute`` is the module attribute every check reads instead of a
    function (the quiz's ``ANSWERS``).
    """

    task: str
    checks: tuple[Check, ...]
    gates: Mapping[str, Callable] = field(default_factory=dict)
    smoke: Mapping[str, tuple] = field(default_factory=dict)
    profile: Profile = Profile()
    helpers: str | None = None
    attribute: str | None = None

    def __post_init__(self) -> None:
        if self.task not in POINTS:
            raise ValueError(f"unknown task {self.task!r}; one of {tuple(POINTS)}")
        wrong = [c.id for c in self.checks if c.task != self.task]
        if wrong:
            raise ValueError(f"battery {self.task} holds checks of another task: {wrong}")
        ids = [c.id for c in self.checks]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"battery {self.task}: duplicate check ids {dup}")
        unknown = sorted(set(self.gates) - set(POINTS[self.task]))
        if unknown:
            raise ValueError(f"battery {self.task}: gates of unknown functions {unknown}")

    @property
    def functions(self) -> tuple[str, ...]:
        """The task's functions that have checks, in the order of the points table."""
        have = {c.function for c in self.checks}
        return tuple(f for f in POINTS[self.task] if f in have)

    def target(self, function: str) -> str:
        """What the worker loads from the module to grade ``function``."""
        return self.attribute or function


class ExtraChecksError(Exception):
    """An ``--extra-checks`` path that does not load (a usage error, exit 2)."""


def merge(batteries: tuple[Battery, ...], extra: tuple[Battery, ...]) -> tuple[Battery, ...]:
    """``batteries`` with the checks of ``extra`` appended to their tasks'."""
    out = []
    for battery in batteries:
        added = tuple(c for e in extra if e.task == battery.task for c in e.checks)
        out.append(replace(battery, checks=battery.checks + added) if added else battery)
    orphans = sorted({e.task for e in extra} - {b.task for b in batteries})
    if orphans:
        raise ExtraChecksError(f"extra checks for tasks the grader does not run: {orphans}")
    return tuple(out)


def load_extra(path: str) -> tuple[tuple[Battery, ...], tuple[Path, ...]]:
    """The batteries of a check module or a folder of them, and the files read.

    A module defines ``BATTERY`` (one :class:`Battery`) or ``BATTERIES`` (a
    sequence of them). Files whose name starts with ``_`` are skipped.
    """
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.glob("*.py") if not p.name.startswith("_"))
    elif root.is_file() and root.suffix == ".py":
        files = [root]
    else:
        raise ExtraChecksError(f"--extra-checks {path}: no such Python file or folder")
    if not files:
        raise ExtraChecksError(f"--extra-checks {path}: the folder holds no .py file")
    found: list[Battery] = []
    for file in files:
        name = f"grader_extra_checks_{abs(hash(str(file.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        try:
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - an instructor's file: say what broke
            raise ExtraChecksError(f"--extra-checks {file}: {type(exc).__name__}: {exc}") from exc
        batteries = getattr(module, "BATTERIES", None)
        if batteries is None and hasattr(module, "BATTERY"):
            batteries = (module.BATTERY,)
        if not batteries or not all(isinstance(b, Battery) for b in batteries):
            raise ExtraChecksError(f"--extra-checks {file}: defines no BATTERY (a "
                                   "grader.battery.Battery) or BATTERIES")
        found += list(batteries)
    return tuple(found), tuple(files)

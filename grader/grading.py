"""One grading, start to finish: batteries, cache, warm workers, the run, the report.

``grader check``, ``grader watch``, the notebook helper and each submission of
``grader batch`` go through :func:`grade`. It imports only what the selected
checks need: a re-check whose functions are all cached imports no battery and
no framework; ``--task quiz`` imports numpy alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

from grader.contract import POINTS
from grader.runner import RunOptions

__all__ = ["Extra", "load_batteries", "framework_modules", "open_workers", "grade",
           "cached_report"]


@dataclass(frozen=True)
class Extra:
    """Instructor-only check modules (``--extra-checks``) and the files they came from."""

    batteries: tuple = ()
    files: tuple = ()
    paths: tuple[str, ...] = ()


def load_batteries(tasks: tuple[str, ...], extra: Extra = Extra()) -> tuple:
    """The batteries of ``tasks`` (only their modules are imported), extra checks merged."""
    from grader.battery import merge
    from grader.checks import batteries

    out = batteries(tasks)
    mine = tuple(e for e in extra.batteries if e.task in tasks)
    return merge(tuple(out), mine) if mine else tuple(out)


def framework_modules(batteries) -> tuple[str, ...]:
    """The frameworks the selected checks need in this process, those installed."""
    import importlib.util

    # torch's autograd imports its symbolic shapes (and sympy) on its first backward pass
    wanted = {"torch": ("torch", "torch.fx.experimental.symbolic_shapes"),
              "tensorflow": ("tensorflow", "keras")}
    names = []
    for b in batteries:
        for c in b.checks:
            for framework in c.requires:
                names += list(wanted.get(framework, (framework,)))
    return tuple(n for n in dict.fromkeys(names) if importlib.util.find_spec(n) is not None)


def open_workers(batteries, extra: Extra = Extra(), clients: int = 1):
    """A worker pool for these batteries; call before anything is computed here."""
    from grader.workers import open_pool, preloads

    modules = tuple(dict.fromkeys(preloads(batteries) + framework_modules(batteries)))
    return open_pool(modules, hide=extra.paths, clients=clients)


def cached_report(submission, options: RunOptions, cache) -> "object | None":
    """The whole report from the cache, when every selected function is in it."""
    from grader.results import Report, TaskResult
    from grader.runner import versions

    t0 = time.perf_counter()
    tasks = []
    for task in options.tasks:
        results = []
        for function in POINTS[task]:
            if options.functions is not None and function not in options.functions:
                continue
            found = cache.lookup(task, function)
            if found is None:
                return None
            results += found
        if results:
            tasks.append(TaskResult(task, tuple(results)))
    return Report(submission=submission.given, seed=options.seed, tasks=tuple(tasks),
                  duration_s=time.perf_counter() - t0, versions=versions(),
                  notes=("every result came from the cache (.grader-cache/; --no-cache "
                         "grades afresh)",), sources=dict(submission.sources))


def grade(submission, options: RunOptions, *, extra: Extra = Extra(), use_cache: bool = False,
          progress: Callable = lambda r: None, on_total: Callable = lambda n: None, pool=None):
    """Grade ``submission``; ``pool`` (kept by the caller) or a fresh one closed here.

    ``on_total`` is told how many checks will run, ``progress`` is given each result.
    """
    from grader import runner

    cache = None
    if use_cache:
        from grader.cache import Cache, fingerprint

        cache = Cache(submission, fingerprint(extra.files), options.seed,
                      {**runner.versions(), "figures": options.figures})
        report = cached_report(submission, options, cache)
        if report is not None:
            on_total(len(report.checks))
            for r in report.checks:
                progress(r)
            return report
    batteries = load_batteries(options.tasks, extra)
    own = pool is None
    if own:
        pool = open_workers(batteries, extra)  # forks: before any thread or computation
    on_total(sum(len(b.checks) for b in batteries))
    try:
        report = runner.run(submission, batteries, options, pool, progress, cache)
    finally:
        if own:
            pool.close()
    if cache is not None and cache.used:
        note = (f"from the cache (unchanged since the last check): "
                f"{', '.join(cache.used)}")
        report = replace(report, notes=report.notes + (note,))
    return report


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


#: what the frameworks' workers import after their server is forked (never the grader)
LATER = ("tensorflow", "keras")


def framework_modules(batteries) -> tuple[str, ...]:
    """What the selected checks need in this process and the workers, those installed.

    TensorFlow is not among them: the grader never imports it (its checks ask
    ``grader.oracles.keras_calls`` in a trusted worker), and the workers that
    preload it come from a server of their own (``grader.workers.WarmPool``).
    """
    # torch's autograd imports its symbolic shapes (and sympy) on its first backward pass
    wanted = {"torch": ("torch", "torch.fx.experimental.symbolic_shapes"), "tensorflow": ()}
    names = []
    for b in batteries:
        for c in b.checks:
            for framework in c.requires:
                names += list(wanted.get(framework, (framework,)))
    return tuple(n for n in dict.fromkeys(names) if _installed(n))


def _installed(name: str) -> bool:
    """Whether module ``name`` is installed, importing nothing: ``find_spec`` of a
    submodule imports its package (torch: seconds, before the servers start, which then
    wait for it). A submodule is looked for as a Python file in its package's folders."""
    import importlib.util
    import os

    top, _, rest = name.partition(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not rest:
        return spec is not None
    for folder in spec.submodule_search_locations or ():
        path = os.path.join(folder, *rest.split("."))
        if os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py")):
            return True
    return False


def open_workers(batteries, extra: Extra = Extra(), hide: tuple[str, ...] = ()):
    """A worker pool for these batteries; call before anything is computed here. No
    worker sees the folders of ``hide`` (nor the grader's files and the extra checks).

    The servers are fresh interpreters (``grader.workers.WarmPool``): the NumPy
    server imports the workers' own modules only; the frameworks server, when
    a battery's workers preload TensorFlow or a check compares with it, the
    frameworks those workers preload and what the grader imports for itself
    (torch's symbolic shapes, which a torch model's construction loads).
    TensorFlow is never imported here.
    """
    import importlib
    import importlib.util

    from grader.workers import SERVED_FRAMEWORKS, open_pool, preloads, server_for, worker_needs

    wanted, own = preloads(batteries), framework_modules(batteries)
    base = tuple(n for n in wanted if n not in SERVED_FRAMEWORKS)
    needs = any(n in LATER for n in wanted) or any(
        "tensorflow" in c.requires for b in batteries for c in b.checks)
    later = LATER if needs and all(importlib.util.find_spec(n) for n in LATER) else ()
    if later:  # the frameworks server holds every framework its workers preload
        later = tuple(dict.fromkeys((*(n for n in wanted if n in SERVED_FRAMEWORKS
                                       and importlib.util.find_spec(n)), *later)))
    servers = ("numpy", "torch", "frameworks") if later else ("numpy", "torch")
    torch = ("torch",) if importlib.util.find_spec("torch") is not None and any(
        server_for(worker_needs(b), servers) == "torch" for b in batteries) else ()
    return open_pool(base, torch, hide=(*extra.paths, *hide), later=later, grader=own)


def _cached_task(task: str, options: RunOptions, cache):
    """The results of ``task``'s selected functions from the cache, or None if one is not."""
    results = []
    for function in POINTS[task]:
        if options.functions is not None and function not in options.functions:
            continue
        found = cache.lookup(task, function)
        if found is None:
            return None
        results += found
    return tuple(results)


def cached_report(submission, options: RunOptions, cache) -> "object | None":
    """The whole report from the cache, when every selected function is in it."""
    from grader.results import Report, TaskResult
    from grader.runner import versions

    t0 = time.perf_counter()
    tasks = []
    for task in options.tasks:
        results = _cached_task(task, options, cache)
        if results is None:
            return None
        if results:
            tasks.append(TaskResult(task, results))
    return Report(submission=submission.given, seed=options.seed, tasks=tuple(tasks),
                  duration_s=time.perf_counter() - t0, versions=versions(),
                  notes=("every result came from the cache (.grader-cache/; --no-cache "
                         "grades afresh)",), sources=dict(submission.sources))


def grade(submission, options: RunOptions, *, extra: Extra = Extra(), use_cache: bool = False,
          progress: Callable = lambda r: None, on_total: Callable = lambda n: None, pool=None,
          memory=None):
    """Grade ``submission``; ``pool`` (kept by the caller) or a fresh one closed here.

    ``memory`` (``grader.memory.Memory``), kept by a caller that grades
    again, replays the property-based examples drawn and reuses the expected
    values computed by the earlier gradings.

    ``on_total`` is told how many checks will run, ``progress`` is given each result.
    A task whose functions are all in the cache loads no battery and starts no
    worker: a re-check after editing one module costs about that module's task.
    """
    from grader import runner
    from grader.results import TaskResult

    cache, reused = None, {}
    if use_cache:
        from grader.cache import Cache, fingerprint

        cache = Cache(submission, fingerprint(extra.files), options.seed,
                      {**runner.versions(), "figures": options.figures})
        report = cached_report(submission, options, cache)
        if report is not None:
            on_total(len(report.checks))
            for r in report.checks:
                progress(r)
            return replace(report, notes=submission.notes + report.notes)
        reused = {t: r for t in options.tasks
                  if (r := _cached_task(t, options, cache)) is not None}
    todo = replace(options, tasks=tuple(t for t in options.tasks if t not in reused))
    batteries = load_batteries(todo.tasks, extra)
    own = pool is None
    if own:
        # forks: before any thread or computation; a missing module needs no workers, and
        # only the checks of the selected functions say what the servers import
        running = tuple(replace(b, checks=tuple(c for c in b.checks if todo.functions is None
                                                or c.function in todo.functions))
                        for b in batteries if submission.has_module(b.task))
        pool = open_workers(tuple(b for b in running if b.checks), extra)
    on_total(sum(len(b.checks) for b in batteries) + sum(len(r) for r in reused.values()))
    for results in reused.values():
        for r in results:
            progress(r)
    try:
        report = runner.run(submission, batteries, todo, pool, progress, cache, memory)
    finally:
        if own:
            pool.close()
    if reused:
        graded = {t.name: t for t in report.tasks}
        tasks = tuple(graded[t] if t in graded else TaskResult(t, reused[t])
                      for t in options.tasks if t in graded or reused.get(t))
        report = replace(report, tasks=tasks)
    if cache is not None and cache.used:
        note = f"from the cache (unchanged since the last check): {_cached_names(cache.used)}"
        report = replace(report, notes=report.notes + (note,))
    return report


def _cached_names(used: list[str]) -> str:
    """``task.function`` names, a task named alone when all its functions are there."""
    by_task: dict[str, list[str]] = {}
    for name in dict.fromkeys(used):
        task, function = name.split(".", 1)
        by_task.setdefault(task, []).append(function)
    return ", ".join(task if len(fs) == len(POINTS[task]) else
                     ", ".join(f"{task}.{f}" for f in fs) for task, fs in by_task.items())

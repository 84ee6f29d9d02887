"""Monte-Carlo evidence for the statistical checks of the initializers task.

Part 1 (false failures): 10,000 independent *correct* samples per test and
family, drawn directly with NumPy at the sizes the checks use, run through the
tests of :mod:`grader.stats` (vectorised here, with the same thresholds; the
first rows are cross-checked against the grader's own functions). The design
says none fails: every stated bound is below 2e-9.

Part 2 (misses): 1,000 samples of each known mistake (variance x1.25, x1.5,
x2, x3, x1/3, x0.774, fans swapped, truncated vs untruncated, clipping vs
redrawing, uniform vs truncated normal, normal vs uniform, a mean shift,
correlated neighbours, repeated values), and how many of them *pass* each test
and the whole battery. The design says the battery passes none.

Run with ``python -m bench`` (or ``python -m bench initializers``).
"""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader import stats
from grader.checks import initializers as checks

__all__ = ["main"]

C = stats.TRUNCATED_STD
N_CASE = min(c.size for cs in checks.CASES.values() for c in cs)  # 32,768: the smallest case
N_KS_VS = checks.KS_SAMPLES["variance_scaling"]  # 65,536
N_POOLED = sum(c.size for c in checks.CASES["xavier_uniform"])  # 139,264: the mean check
LAG_SHAPE = checks.T_DENSE  # (512, 64)
N_AXES = sum(len(checks._axes(c.shape)) for c in checks.CASES["xavier_uniform"])
ALPHA_LAG = (checks.CHECK_ALPHA - sum(stats.unique_false_failure(c.size)
                                      for c in checks.CASES["xavier_uniform"])) / N_AXES
ALPHA_KS = {N_CASE: checks.KS_ALPHA / len(checks.CASES["xavier_uniform"]),
            N_KS_VS: checks.KS_ALPHA / len(checks.CASES["variance_scaling"])}
ALPHA_2S = checks.KS_ALPHA / 3
ALPHA_MEAN = checks.CHECK_ALPHA
RTOL = 1e-12

CORRECT_DRAWS = 10_000
MISTAKE_DRAWS = 1_000
BLOCK = 50
THREADS = max(1, min(4, os.cpu_count() or 1))


# --------------------------------------------------------------------------
# samplers: standardised so that the target has mean 0 and variance 1
# --------------------------------------------------------------------------
def _truncated(rng, shape, edge=2.0):
    z = rng.standard_normal(shape)
    bad = np.abs(z) > edge
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > edge
    return z


def draw(family: str, rng, shape) -> np.ndarray:
    if family == "normal":
        return rng.standard_normal(shape)
    if family == "uniform":
        return rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), shape)
    return _truncated(rng, shape) / C


# --------------------------------------------------------------------------
# the tests of grader.stats, vectorised over rows (one row = one sample)
# --------------------------------------------------------------------------
def t_variance(x, family):
    r = np.mean(x * x, axis=1)
    return np.abs(np.log(r)) <= stats.VARIANCE_BAND


def t_support(x, family):
    top = np.max(np.abs(x), axis=1)
    if family == "uniform":
        a = math.sqrt(3.0)
        return (top >= a * (1 - stats.UNIFORM_EDGE)) & (top <= a * (1 + RTOL))
    if family == "truncated_normal":
        e = 2.0 / C
        return (top >= e * (1 - stats.TRUNCATED_EDGE)) & (top <= e * (1 + RTOL))
    return (top > stats.NORMAL_LOW) & (top < stats.NORMAL_HIGH)


def t_ks(sorted_x, family):
    n = sorted_x.shape[1]
    d = stats.ks_distance(sorted_x, stats.cdf(family, sorted_x))
    return d <= stats.ks_threshold(n, ALPHA_KS[n])


def t_mean(x, family=None):
    z = np.sum(x, axis=1) / np.sqrt(np.sum(x * x, axis=1))
    return np.abs(z) <= stats.sign_threshold(ALPHA_MEAN)


def t_lag1(x, family=None):
    w = x[:, : math.prod(LAG_SHAPE)].reshape(-1, *LAG_SHAPE)
    ok = np.ones(len(x), dtype=bool)
    thr = stats.sign_threshold(ALPHA_LAG)
    for axis in (1, 2):
        m = np.moveaxis(w, axis, -1)
        uv = m[..., :-1] * m[..., 1:]
        s = uv.sum(axis=(1, 2))
        q = (uv * uv).sum(axis=(1, 2))
        ok &= np.abs(s / np.sqrt(q)) <= thr
    return ok


def t_distinct(sorted_x, family=None):
    n = sorted_x.shape[1]
    distinct = 1 + np.count_nonzero(np.diff(sorted_x, axis=1), axis=1)
    return distinct / n >= 0.99


def t_two_sample(a, b):
    """Two-sample KS of equal-size rows (labels carried in the lowest mantissa bit)."""
    n = a.shape[1]
    la = a.copy().view(np.int64)
    lb = b.copy().view(np.int64)
    la &= ~np.int64(1)
    lb |= np.int64(1)
    both = np.sort(np.concatenate([la.view(np.float64), lb.view(np.float64)], axis=1), axis=1)
    step = np.where(both.view(np.int64) & 1, -1.0, 1.0) / n
    d = np.max(np.abs(np.cumsum(step, axis=1)), axis=1)
    return d <= math.sqrt(math.log(2.0 / ALPHA_2S) / n)


# --------------------------------------------------------------------------
# part 1: false failures of correct samples
# --------------------------------------------------------------------------
TESTS_CORRECT = ["variance", "support", "KS n=32768", "KS n=65536", "mean (pooled)",
                 "lag-1", "distinct", "two-sample KS"]


def _correct_block(family: str, seed, rows: int) -> tuple[dict, float, float]:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    x = draw(family, rng, (rows, N_POOLED))
    t_gen = time.perf_counter() - t0
    head = x[:, :N_CASE]
    s32 = np.sort(head, axis=1)
    s64 = np.sort(x[:, :N_KS_VS], axis=1)
    out = {
        "variance": ~t_variance(head, family),
        "support": ~t_support(head, family),
        "KS n=32768": ~t_ks(s32, family),
        "KS n=65536": ~t_ks(s64, family),
        "mean (pooled)": ~t_mean(x),
        "lag-1": ~t_lag1(head),
        "distinct": ~t_distinct(s32),
        "two-sample KS": ~t_two_sample(x[:, N_KS_VS:N_KS_VS + N_CASE],
                                       x[:, N_KS_VS + N_CASE:N_KS_VS + 2 * N_CASE]),
    }
    return {k: int(v.sum()) for k, v in out.items()}, t_gen, time.perf_counter() - t0


def _cross_check(family: str) -> None:
    """The vectorised tests agree with grader.stats on a few rows."""
    rng = np.random.default_rng(12345)
    x = draw(family, rng, (4, N_POOLED))
    head = x[:, :N_CASE]
    for i in range(len(x)):
        assert stats.variance_ratio(head[i], 1.0, family).passed == t_variance(head, family)[i]
        assert stats.support(head[i], 1.0, family).passed == t_support(head, family)[i]
        assert stats.ks_one_sample(head[i], family, ALPHA_KS[N_CASE]).passed == \
            t_ks(np.sort(head, axis=1), family)[i]
        assert stats.symmetric_mean(x[i], ALPHA_MEAN).passed == t_mean(x)[i]
        w = head[i].reshape(LAG_SHAPE)
        lag = all(stats.lag1_correlation(w, k, ALPHA_LAG).passed for k in (0, 1))
        assert lag == t_lag1(head)[i]
        a, b = x[i, :N_CASE], x[i, N_CASE:2 * N_CASE]
        assert stats.ks_two_sample(a, b, ALPHA_2S).passed == t_two_sample(a[None], b[None])[0]


def _bounds(family: str) -> dict[str, float]:
    return {
        "variance": stats.variance_false_failure(N_CASE, family),
        "support": stats.support_false_failure(N_CASE, family),
        "KS n=32768": ALPHA_KS[N_CASE],
        "KS n=65536": ALPHA_KS[N_KS_VS],
        "mean (pooled)": ALPHA_MEAN,
        "lag-1": 2 * ALPHA_LAG,
        "distinct": stats.unique_false_failure(N_CASE),
        "two-sample KS": ALPHA_2S,
    }


# --------------------------------------------------------------------------
# part 2: known mistakes
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Mistake:
    name: str
    family: str  # the target the checks test against
    sampler: Callable  # (rng, shape) -> standardised (by the target) samples
    n: int = N_CASE  # sample size of the KS test
    rho: float | None = None  # variance ratio, when the mistake is the target law rescaled
    tests: tuple[str, ...] = ("variance", "support", "KS", "mean", "lag-1", "distinct")


def _scaled(family, rho):
    return lambda rng, shape: math.sqrt(rho) * draw(family, rng, shape)


def _mistakes() -> list[Mistake]:
    out = []
    for family in stats.FAMILIES:
        n = N_KS_VS if family == "truncated_normal" else N_CASE
        for rho, what in ((1.25, "x1.25"), (1.5, "x1.5"), (2.0, "x2 (He vs Xavier)"),
                          (3.0, "x3"), (1 / 3, "x1/3 (no √3)")):
            out.append(Mistake(f"variance {what}", family, _scaled(family, rho), n, rho))
    out += [
        Mistake("x0.774 (truncated, not rescaled)", "truncated_normal",
                lambda rng, s: _truncated(rng, s), N_KS_VS, C * C),
        Mistake("fans swapped, dense (x1/8)", "uniform", _scaled("uniform", 1 / 8), N_CASE, 1 / 8),
        Mistake("fans swapped, conv (x4)", "normal", _scaled("normal", 4.0), N_CASE, 4.0),
        Mistake("untruncated for truncated", "truncated_normal",
                lambda rng, s: rng.standard_normal(s), N_KS_VS),
        Mistake("truncated for untruncated", "normal", lambda rng, s: draw(
            "truncated_normal", rng, s)),
        Mistake("clipped instead of redrawn", "truncated_normal",
                lambda rng, s: np.clip(rng.standard_normal(s), -2.0, 2.0) / C, N_KS_VS),
        Mistake("uniform for truncated normal", "truncated_normal",
                lambda rng, s: draw("uniform", rng, s), N_KS_VS),
        Mistake("truncated normal for uniform", "uniform",
                lambda rng, s: draw("truncated_normal", rng, s), N_KS_VS),
        Mistake("normal for uniform", "uniform", lambda rng, s: draw("normal", rng, s)),
        Mistake("mean shifted by 0.05σ", "normal",
                lambda rng, s: rng.standard_normal(s) + 0.05, N_CASE),
        Mistake("lag-1 correlation 0.1", "normal", _correlated),
        Mistake("every value twice", "normal", _doubled),
    ]
    return out


def _correlated(rng, shape):
    z = rng.standard_normal(shape)
    w = z + 0.1 * np.roll(z, 1, axis=1)
    return w / math.sqrt(1.01)


def _doubled(rng, shape):
    z = rng.standard_normal((shape[0], shape[1] // 2))
    return np.repeat(z, 2, axis=1)


KILL_TESTS = ["variance", "support", "KS", "mean", "lag-1", "distinct"]


def _mistake_block(m: Mistake, seed, rows: int) -> tuple[dict, float, float]:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_mean = N_POOLED if m.name.startswith("mean") else m.n
    x = m.sampler(rng, (rows, max(m.n, n_mean)))
    t_gen = time.perf_counter() - t0
    head = x[:, :N_CASE]
    passed = {
        "variance": t_variance(head, m.family),
        "support": t_support(head, m.family),
        "KS": t_ks(np.sort(x[:, :m.n], axis=1), m.family),
        "mean": t_mean(x[:, :n_mean]),
        "lag-1": t_lag1(head),
        "distinct": t_distinct(np.sort(head, axis=1)),
    }
    battery = np.logical_and.reduce(list(passed.values()))
    out = {k: int(v.sum()) for k, v in passed.items()}
    out["battery"] = int(battery.sum())
    return out, t_gen, time.perf_counter() - t0


# --------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------
def _run(jobs) -> tuple[list, float, float]:
    """jobs: (key, fn, args); returns [(key, result)], summed draw and work times."""
    results, t_gen, t_work = [], 0.0, 0.0
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [(key, pool.submit(fn, *args)) for key, fn, args in jobs]
        for key, f in futures:
            res, g, w = f.result()
            results.append((key, res))
            t_gen += g
            t_work += w
    return results, t_gen, t_work


def _sum(results, key):
    total: dict[str, int] = {}
    for k, res in results:
        if k == key:
            for name, v in res.items():
                total[name] = total.get(name, 0) + v
    return total


def main(argv: list[str] | None = None) -> int:
    t_start = time.perf_counter()
    root = np.random.SeedSequence(20240601)
    for family in stats.FAMILIES:
        _cross_check(family)

    jobs = []
    for family in stats.FAMILIES:
        seeds = root.spawn(CORRECT_DRAWS // BLOCK)
        jobs += [(family, _correct_block, (family, s, BLOCK)) for s in seeds]
    correct, gen1, work1 = _run(jobs)

    print(f"Initializer checks: false failures of {CORRECT_DRAWS:,} correct samples per test "
          f"(sizes as in the checks: n = {N_CASE:,} per case, KS n = {N_CASE:,} / {N_KS_VS:,}, "
          f"pooled mean n = {N_POOLED:,}, lag-1 on {LAG_SHAPE}, two-sample n = m = {N_CASE:,})")
    print(f"{'test':16s}" + "".join(f"{f:>28s}" for f in stats.FAMILIES))
    for test in TESTS_CORRECT:
        cells = []
        for family in stats.FAMILIES:
            fails = _sum(correct, family)[test]
            cells.append(f"{fails:>6d} fail  (bound {_fmt(_bounds(family)[test])})")
        print(f"{test:16s}" + "".join(f"{c:>28s}" for c in cells))
    print(f"(lag-1 bound per sample: 2 axes of {LAG_SHAPE} at α = {ALPHA_LAG:.2g} each; the "
          f"check spends {checks.CHECK_ALPHA:.0e} over its {N_AXES} axes)")

    mistakes = _mistakes()
    jobs = []
    for m in mistakes:
        seeds = root.spawn(MISTAKE_DRAWS // BLOCK)
        jobs += [(m.name + m.family, _mistake_block, (m, s, BLOCK)) for s in seeds]
    missed, gen2, work2 = _run(jobs)

    print()
    print(f"Known mistakes: how many of {MISTAKE_DRAWS:,} samples PASS each test "
          f"(0 = always caught); battery = passes every test")
    head = f"{'mistake':36s}{'target':>18s}" + "".join(f"{t:>10s}" for t in KILL_TESTS)
    print(head + f"{'battery':>10s}   variance-miss bound")
    for m in mistakes:
        res = _sum(missed, m.name + m.family)
        bound = _fmt(stats.variance_miss(N_CASE, m.family, m.rho)) if m.rho else ""
        print(f"{m.name:36s}{m.family:>18s}" + "".join(f"{res[t]:>10d}" for t in KILL_TESTS)
              + f"{res['battery']:>10d}   {bound}")

    wall = time.perf_counter() - t_start
    gen = gen1 + gen2
    print()
    print(f"wall time {wall:.1f} s on {THREADS} threads; drawing the samples alone took "
          f"{gen:.1f} s of thread time out of {work1 + work2:.1f} s "
          f"(whole run / drawing alone = {(work1 + work2) / gen:.2f})")
    return 0


def _fmt(p: float) -> str:
    return "0" if p == 0 else f"{p:.1e}"


if __name__ == "__main__":
    raise SystemExit(main())

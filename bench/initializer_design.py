"""Monte-Carlo and exact evidence for the statistical checks of the initializers task.

Part 1 (false failures): independent *correct* samples per test and family,
drawn directly with NumPy at the sizes the checks use, run through the tests
of :mod:`grader.stats` (vectorised here, with the same thresholds; the first
rows are cross-checked against the grader's own functions). The design says
none fails: every stated bound is below 2e-9.

Part 2 (misses): samples of generic mistakes (variance x1.25 ... x1/3,
truncated vs untruncated, clipping vs redrawing, wrong family, a mean shift,
correlated neighbours, repeated values), how many of them *pass* each test and
the whole battery; then, for every case of the variance check and every entry
of the catalogue ``grader.checks.initializers.mistakes``, the exact bound on
the probability that the variance check misses it.

Part 3 (parity): the same for the framework-parity checks (two-sample KS and
scale ratio at n = m = 131,072): the bound on missing every catalogued
mistake on every parity case, and Monte-Carlo samples of the hardest ones
(the closest variance ratio on each side, per family; passing is monotone in
the ratio) and of the shape mistakes, e.g. a normal truncated at 2σ without
rescaling (x0.774) where PyTorch's normal is expected.

Run with ``python -m bench initializers [--quick]``.
"""
from __future__ import annotations

import argparse
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader import stats
from grader.checks.initializers import design
from grader.checks.initializers import mistakes as catalogue

__all__ = ["main"]

C = stats.TRUNCATED_STD
N_CASE = min(c.size for cs in design.CASES.values() for c in cs)  # 32,768: the smallest case
N_KS_VS = design.KS_SAMPLES["variance_scaling"]  # 65,536
N_POOLED = sum(c.size for c in design.CASES["xavier_uniform"])  # 139,264: the mean check
LAG_SHAPE = design.CASES["xavier_uniform"][0].shape  # (512, 64)


def _axes(shape) -> list[int]:
    """The axes the independence check tests (those of length >= 2)."""
    return [k for k, d in enumerate(shape) if d >= 2]


N_AXES = sum(len(_axes(c.shape)) for c in design.CASES["xavier_uniform"])
ALPHA_LAG = (design.CHECK_ALPHA - sum(stats.unique_false_failure(c.size)
                                      for c in design.CASES["xavier_uniform"])) / N_AXES
ALPHA_KS = {N_CASE: design.KS_ALPHA / len(design.CASES["xavier_uniform"]),
            N_KS_VS: design.KS_ALPHA / len(design.CASES["variance_scaling"])}
N_PARITY = design.PARITY_SAMPLES  # 131,072 of the student's against as many of the framework's
PARITY_SPLIT = max(len(cs) for cs in design.PARITY_CASES.values())  # the smallest alpha: 3 cases
ALPHA_2S = design.KS_ALPHA / PARITY_SPLIT
ALPHA_SCALE = design.SCALE_ALPHA / PARITY_SPLIT
ALPHA_MEAN = design.CHECK_ALPHA
RTOL = 1e-12


@dataclass(frozen=True)
class Effort:
    """How many samples each part draws (``--quick`` divides them by 10)."""

    correct: int = 10_000  # correct samples per family, checks' own sizes
    correct_parity: int = 1_000  # correct pairs per family at n = m = 131,072
    mistakes: int = 1_000  # samples per generic mistake
    parity_mistakes: int = 200  # samples per hardest parity mistake


BLOCK = 50
PARITY_BLOCK = 10


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


def t_two_sample(a, b, alpha=ALPHA_2S):
    """Two-sample KS of equal-size rows (labels carried in the lowest mantissa bit)."""
    n = a.shape[1]
    la = a.copy().view(np.int64)
    lb = b.copy().view(np.int64)
    la &= ~np.int64(1)
    lb |= np.int64(1)
    both = np.sort(np.concatenate([la.view(np.float64), lb.view(np.float64)], axis=1), axis=1)
    step = np.where(both.view(np.int64) & 1, -1.0, 1.0) / n
    d = np.max(np.abs(np.cumsum(step, axis=1)), axis=1)
    return d <= math.sqrt(math.log(2.0 / alpha) / n)


def t_scale(a, b, family, alpha=ALPHA_SCALE):
    """The parity checks' ratio of mean squares, row by row."""
    lo, hi = stats.scale_interval(a.shape[1], family, alpha / 2)
    r = np.mean(a * a, axis=1) / np.mean(b * b, axis=1)
    return (r >= lo / hi) & (r <= hi / lo)


# --------------------------------------------------------------------------
# part 1: false failures of correct samples
# --------------------------------------------------------------------------
TESTS_CORRECT = ["variance", "support", "KS n=32768", "KS n=65536", "mean (pooled)",
                 "lag-1", "distinct", "parity KS", "parity scale"]
PARITY_TESTS = ("parity KS", "parity scale")


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
    }
    return {k: int(v.sum()) for k, v in out.items()}, t_gen, time.perf_counter() - t0


def _correct_parity_block(family: str, seed, rows: int) -> tuple[dict, float, float]:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    a, b = draw(family, rng, (rows, N_PARITY)), draw(family, rng, (rows, N_PARITY))
    t_gen = time.perf_counter() - t0
    out = {"parity KS": ~t_two_sample(a, b), "parity scale": ~t_scale(a, b, family)}
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
    a, b = draw(family, rng, (2, N_PARITY)), 1.03 * draw(family, rng, (2, N_PARITY))
    for i in range(2):
        assert stats.ks_two_sample(a[i], b[i], ALPHA_2S).passed == t_two_sample(a, b)[i]
        assert stats.scale_two_sample(a[i], b[i], family, ALPHA_SCALE).passed == \
            t_scale(a, b, family)[i]


def _bounds(family: str) -> dict[str, float]:
    return {
        "variance": stats.variance_false_failure(N_CASE, family),
        "support": stats.support_false_failure(N_CASE, family),
        "KS n=32768": ALPHA_KS[N_CASE],
        "KS n=65536": ALPHA_KS[N_KS_VS],
        "mean (pooled)": ALPHA_MEAN,
        "lag-1": 2 * ALPHA_LAG,
        "distinct": stats.unique_false_failure(N_CASE),
        "parity KS": ALPHA_2S,
        "parity scale": ALPHA_SCALE,
    }


# --------------------------------------------------------------------------
# part 2: generic mistakes against the checks' tests
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Mistake:
    name: str
    family: str  # the target the checks test against
    sampler: Callable  # (rng, shape) -> standardised (by the target) samples
    n: int = N_CASE  # sample size of the KS test
    rho: float | None = None  # variance ratio, when the mistake is the target law rescaled


def _scaled(family, rho):
    return lambda rng, shape: math.sqrt(rho) * draw(family, rng, shape)


def _correlated(rng, shape):
    z = rng.standard_normal(shape)
    w = z + 0.1 * np.roll(z, 1, axis=1)
    return w / math.sqrt(1.01)


def _doubled(rng, shape):
    z = rng.standard_normal((shape[0], shape[1] // 2))
    return np.repeat(z, 2, axis=1)


def _generic_mistakes() -> list[Mistake]:
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
# parts 2b and 3: every catalogued mistake on every case (exact bounds)
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogueRow:
    function: str
    case: str
    family: str
    mistakes: int  # catalogued mistakes that change this case
    closest: float  # the catalogued variance ratio closest to 1
    closest_name: str
    worst_miss: float  # the largest bound on missing one of them


def _catalogue_rows(cases: dict, miss: Callable) -> list[CatalogueRow]:
    rows = []
    for function, cs in cases.items():
        for case in cs:
            found = catalogue.mistakes(case)
            ratio, name = min(found, key=lambda m: abs(math.log(m[0])))
            worst = max(miss(case, len(cs), r) for r, _ in found)
            rows.append(CatalogueRow(function, case.label(), case.target.family, len(found),
                                     ratio, name, worst))
    return rows


def _variance_miss(case, n_cases, rho) -> float:
    return stats.variance_miss(case.size, case.target.family, rho)


def _parity_miss(case, n_cases, rho) -> float:
    return stats.scale_two_sample_miss(N_PARITY, case.target.family, rho,
                                       design.SCALE_ALPHA / n_cases)


def _print_catalogue(title: str, rows: list[CatalogueRow]) -> None:
    print(title)
    print(f"{'case':58s}{'family':>18s}{'mistakes':>9s}{'closest':>9s}{'worst miss':>12s}"
          "   closest mistake")
    for r in rows:
        print(f"{r.case[:57]:58s}{r.family:>18s}{r.mistakes:>9d}{r.closest:>9.3f}"
              f"{_fmt(r.worst_miss):>12s}   {r.closest_name[:60]}")


# --------------------------------------------------------------------------
# part 3: Monte Carlo of the hardest parity mistakes
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ParityMistake:
    name: str
    family: str  # the framework's law
    sampler: Callable  # (rng, shape) -> the student's values, standardised by the target


def _parity_mistakes() -> list[ParityMistake]:
    """The closest catalogued ratio on each side of 1, per family, and the shape mistakes."""
    closest: dict[tuple[str, bool], tuple[float, str]] = {}
    for cs in design.PARITY_CASES.values():
        for case in cs:
            fam = case.target.family
            for r, name in catalogue.mistakes(case):
                key = (fam, r > 1)
                if key not in closest or abs(math.log(r)) < abs(math.log(closest[key][0])):
                    closest[key] = (r, name)
    out = [ParityMistake(f"x{r:.3f}: {name}"[:60], fam, _scaled(fam, r))
           for (fam, _), (r, name) in sorted(closest.items())]
    out += [
        ParityMistake("normal truncated at 2σ, not rescaled (x0.774)", "normal",
                      lambda rng, s: _truncated(rng, s)),
        ParityMistake("normal truncated at 2σ and rescaled (x1)", "normal",
                      lambda rng, s: _truncated(rng, s) / C),
        ParityMistake("uniform for normal (x1)", "normal", lambda rng, s: draw("uniform", rng, s)),
        ParityMistake("normal for uniform (x1)", "uniform", lambda rng, s: draw("normal", rng, s)),
        ParityMistake("uniform for truncated normal (x1)", "truncated_normal",
                      lambda rng, s: draw("uniform", rng, s)),
        ParityMistake("untruncated for truncated normal (x1)", "truncated_normal",
                      lambda rng, s: rng.standard_normal(s)),
        ParityMistake("clipped at 2σ' instead of redrawn", "truncated_normal",
                      lambda rng, s: np.clip(rng.standard_normal(s), -2.0, 2.0) / C),
    ]
    return out


def _parity_block(m: ParityMistake, seed, rows: int) -> tuple[dict, float, float]:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    mine, theirs = m.sampler(rng, (rows, N_PARITY)), draw(m.family, rng, (rows, N_PARITY))
    t_gen = time.perf_counter() - t0
    ks, scale = t_two_sample(mine, theirs), t_scale(mine, theirs, m.family)
    out = {"KS": int(ks.sum()), "scale": int(scale.sum()), "check": int((ks & scale).sum())}
    return out, t_gen, time.perf_counter() - t0


# --------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------
def _run(jobs, threads: int) -> tuple[list, float, float]:
    """jobs: (key, fn, args); returns [(key, result)], summed draw and work times."""
    results, t_gen, t_work = [], 0.0, 0.0
    with ThreadPoolExecutor(threads) as pool:
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


def _blocks(root, key, fn, arg, draws: int, block: int) -> list:
    rows = max(1, min(block, draws))
    return [(key, fn, (arg, s, rows)) for s in root.spawn(max(1, draws // rows))]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench initializers",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the samples (a smoke run; the bounds are the same)")
    parser.add_argument("--threads", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(argv or []))
    full = Effort()
    effort = (Effort(full.correct // 10, full.correct_parity // 10, full.mistakes // 10,
                     full.parity_mistakes // 10) if args.quick else full)
    t_start = time.perf_counter()
    root = np.random.SeedSequence(20240601)
    for family in stats.FAMILIES:
        _cross_check(family)

    jobs = []
    for family in stats.FAMILIES:
        jobs += _blocks(root, family, _correct_block, family, effort.correct, BLOCK)
        jobs += _blocks(root, family, _correct_parity_block, family, effort.correct_parity,
                        PARITY_BLOCK)
    correct, gen1, work1 = _run(jobs, args.threads)

    print(f"Part 1. False failures of correct samples: {effort.correct:,} per test and family "
          f"at the checks' sizes (n = {N_CASE:,} per case, KS n = {N_CASE:,} / {N_KS_VS:,}, "
          f"pooled mean n = {N_POOLED:,}, lag-1 on {LAG_SHAPE}); {effort.correct_parity:,} "
          f"pairs for the parity tests (n = m = {N_PARITY:,})")
    print(f"{'test':16s}" + "".join(f"{f:>28s}" for f in stats.FAMILIES))
    for test in TESTS_CORRECT:
        cells = []
        for family in stats.FAMILIES:
            fails = _sum(correct, family)[test]
            cells.append(f"{fails:>6d} fail  (bound {_fmt(_bounds(family)[test])})")
        print(f"{test:16s}" + "".join(f"{c:>28s}" for c in cells))
    print(f"(lag-1 bound per sample: 2 axes of {LAG_SHAPE} at α = {ALPHA_LAG:.2g} each; the "
          f"check spends {design.CHECK_ALPHA:.0e} over its {N_AXES} axes; parity: α split "
          f"over up to {PARITY_SPLIT} cases)")

    generic = _generic_mistakes()
    jobs = []
    for m in generic:
        jobs += _blocks(root, m.name + m.family, _mistake_block, m, effort.mistakes, BLOCK)
    parity = _parity_mistakes()
    for m in parity:
        jobs += _blocks(root, "parity " + m.name, _parity_block, m, effort.parity_mistakes,
                        PARITY_BLOCK)
    missed, gen2, work2 = _run(jobs, args.threads)

    print()
    print(f"Part 2. Generic mistakes: how many of {effort.mistakes:,} samples PASS each test "
          f"(0 = always caught); battery = passes every test")
    head = f"{'mistake':36s}{'target':>18s}" + "".join(f"{t:>10s}" for t in KILL_TESTS)
    print(head + f"{'battery':>10s}   variance-miss bound")
    for m in generic:
        res = _sum(missed, m.name + m.family)
        bound = _fmt(stats.variance_miss(N_CASE, m.family, m.rho)) if m.rho else ""
        print(f"{m.name:36s}{m.family:>18s}" + "".join(f"{res[t]:>10d}" for t in KILL_TESTS)
              + f"{res['battery']:>10d}   {bound}")
    print()
    _print_catalogue("Part 2b. Every catalogued mistake against the variance check (|ln r| ≤ "
                     f"{stats.VARIANCE_BAND}): bound on a miss, per case",
                     _catalogue_rows(design.CASES, _variance_miss))

    print()
    _print_catalogue(f"Part 3. Every catalogued mistake against the parity scale test (n = m = "
                     f"{N_PARITY:,}, α = {design.SCALE_ALPHA:.0e} split over the cases): bound "
                     "on a miss, per case", _catalogue_rows(design.PARITY_CASES, _parity_miss))
    print()
    print(f"Part 3b. Parity checks: how many of {effort.parity_mistakes:,} samples PASS "
          f"(two-sample KS at α = {ALPHA_2S:.1e}, scale at α = {ALPHA_SCALE:.1e}; check = both)")
    print(f"{'mistake':62s}{'framework':>18s}{'KS':>8s}{'scale':>8s}{'check':>8s}")
    for m in parity:
        res = _sum(missed, "parity " + m.name)
        print(f"{m.name:62s}{m.family:>18s}{res['KS']:>8d}{res['scale']:>8d}{res['check']:>8d}")

    wall = time.perf_counter() - t_start
    gen = gen1 + gen2
    print()
    print(f"wall time {wall:.1f} s on {args.threads} threads; drawing the samples alone took "
          f"{gen:.1f} s of thread time out of {work1 + work2:.1f} s "
          f"(whole run / drawing alone = {(work1 + work2) / gen:.2f})")
    return 0


def _fmt(p: float) -> str:
    return "0" if p == 0 else f"{p:.1e}"


if __name__ == "__main__":
    raise SystemExit(main())

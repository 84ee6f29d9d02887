"""Named statistical tests of the grader, each with a proven false-failure bound.

Every test takes float64 samples, returns a frozen :class:`Verdict` (statistic,
acceptance interval, the bound on the probability that a *correct* sample
fails, and a sentence ready for a check's message) and never raises on bad
data. The checks of ``grader.checks.initializers`` compose them so that each
check fails a correct implementation with probability at most 2e-9; the
bounds below are per test, the checks add them up (union bound).

Three target families, always standardised to mean 0 and variance 1:
``normal`` N(0, 1); ``uniform`` U(-sqrt 3, sqrt 3); ``truncated_normal``
N(0, 1/c^2) restricted to |x| <= 2/c, with c = 0.87962566103423978 (the
standard deviation of a standard normal restricted to [-2, 2], Keras'
constant).

The tests, with what a correct sample risks and what they detect
----------------------------------------------------------------
``variance_ratio``
    r = mean(w^2) / sigma0^2 with sigma0^2 the target variance; pass when
    |ln r| <= 0.10, i.e. r in [0.905, 1.105]. False failure: the exact
    chi-square tail for the normal (n r ~ chi2_n); Bernstein's inequality for
    the bounded families (w^2/sigma0^2 lies in [0, 3] for the uniform, in
    [0, 4/c^2] for the truncated normal). At n = 16,384: 3.0e-19 (normal),
    1.8e-39 (uniform), 8.7e-24 (truncated normal); at the checks' n
    (>= 32,768) below 1e-36. Smallest error detected with certainty in
    practice: a variance off by a factor outside [0.85, 1.18]; the known
    mistakes x1.25, x1.5, x2, x3, x1/3 and x0.774 pass with probability
    < 1e-27 at n >= 32,768 (:func:`variance_miss`).
``support``
    max|w| against the distribution's edge. Uniform U(-a, a): a(1 - 0.002)
    <= max|w| <= a; a correct sample fails only if no draw lands in the top
    0.2 % of [0, a], probability (0.998)^n = e^-32.8 = 5.7e-15 at n = 16,384.
    Truncated normal with nominal std sigma' = sigma0/c: 0.99 * 2 sigma' <=
    max|w| <= 2 sigma'; false failure (P(|z| < 1.98 | |z| <= 2))^n = 3.6e-17
    at n = 16,384. Plain normal: 3 sigma0 < max|w| < 9 sigma0; false failure
    (1 - P(|z| > 3))^n + n P(|z| > 9) = 3.7e-15 at n = 16,384. Detects any
    uniform bound off by more than 0.2 %, truncation at the wrong point
    (e.g. 3 sigma'), a missing truncation, and truncation where none belongs
    (which the KS test cannot see: N(0, 1) and the standardised truncated
    normal differ by D = 0.017 only). The upper edges allow a relative
    round-off of 1e-12 (8 ulp of the returned dtype for float32).
``ks_one_sample``
    Kolmogorov-Smirnov distance D between w/sigma0 and the exact target CDF
    (scipy.stats norm, uniform, truncnorm); reject if D > sqrt(ln(2/alpha) /
    (2n)), which a correct sample exceeds with probability <= alpha by the
    Dvoretzky-Kiefer-Wolfowitz-Massart inequality (0.0256 at n = 16,384 and
    alpha = 1e-9, 0.0128 at n = 65,536). Detects a wrong family (uniform vs
    normal: D = 0.057; uniform vs truncated normal: D = 0.043, hence n =
    65,536 where the two must be told apart) and scale errors above ~x1.25.
``ks_two_sample``
    Two-sample KS distance between the student's and a framework's samples
    of equal size n >= 458; reject if D > sqrt(ln(2/alpha) / n), which two
    samples of one distribution exceed with probability <= alpha by the
    two-sample DKW inequality of Wei & Dudley (2012), valid for m = n >= 458.
``scale_two_sample``
    R = mean(x^2) / mean(y^2) between the student's samples x and a
    framework's y, both of n draws with the same target. Each mean square,
    divided by sigma0^2, lies in [lo, hi] except with probability alpha/2
    (alpha/4 per tail: the exact chi-square for the normal, Bernstein for
    the bounded families), so R in [lo/hi, hi/lo] except with probability
    alpha. Aimed at the scale, which the two-sample KS distance barely sees:
    a normal truncated at 2 sigma without rescaling (variance x0.774) is at D
    = 0.023 from the untruncated one, under the KS threshold, but at n =
    32,768 its R is 17 standard deviations outside the band
    (:func:`scale_two_sample_miss` bounds the probability of missing a
    variance error rho).
``symmetric_mean``
    z = sum(x) / sqrt(sum(x^2)). All targets are symmetric about 0, so given
    the |x_i| the signs are independent fair coins and Hoeffding's
    inequality gives P(|z| >= t) <= 2 exp(-t^2/2) exactly, for every family
    and any scale (a self-normalised sign test). Reject if |z| > sqrt(2
    ln(2/alpha)) (6.44 for alpha = 2e-9). Detects a mean shift of about
    6.4 sigma/sqrt(n) (0.02 sigma at the pooled n of a check).
``lag1_correlation``
    Along one axis, S = sum of x_u x_v over neighbouring pairs and z = S /
    sqrt(sum x_u^2 x_v^2). Given the |x_i|, the products of neighbouring
    signs along each line are again independent fair coins (a path's edge
    signs are a bijective image of its node signs), so Hoeffding's bound
    holds exactly as for the mean: P(|z| >= t) <= 2 exp(-t^2/2). Reject if
    |z| > sqrt(2 ln(2/alpha)). Reported as the correlation r = S /
    sqrt(sum x_u^2 sum x_v^2), whose threshold is about sqrt(2 ln(2/alpha)
    / m) for m pairs (6.8/sqrt(m) when a check splits 2e-9 over 12 axes).
    Detects repeated, smoothed, sorted or cumulated values.
``unique_fraction``
    At least 99 % distinct values. A float64 draw from a continuous law hits
    any one value with probability p <= 2^-50; failing needs k = 0.005 n
    vertex-disjoint coinciding pairs, whose probability is at most
    lambda^k / k! with lambda = n^2 p / 2 (< 1e-300 at n = 16,384). Detects
    tiling, clipping onto the bounds (4.6 % of the values at +-2 sigma'),
    and values drawn from a small set.

All bounds are computed for the n actually used, in :class:`Verdict.bound`.
Symmetry-based bounds hold up to float64 rounding of the samplers (a total
variation of order n * 2^-52).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# SciPy is imported by the functions that use it: its laws take 0.6 s to load, which a
# grading spends after its worker servers have started, not before

__all__ = [
    "load",
    "FAMILIES",
    "TRUNCATED_STD",
    "VARIANCE_BAND",
    "UNIFORM_EDGE",
    "TRUNCATED_EDGE",
    "Verdict",
    "standard",
    "cdf",
    "fmt_p",
    "sign_threshold",
    "variance_ratio",
    "variance_false_failure",
    "variance_miss",
    "support",
    "support_false_failure",
    "ks_threshold",
    "ks_distance",
    "ks_one_sample",
    "Reference",
    "reference",
    "ks_two_sample",
    "scale_interval",
    "scale_two_sample",
    "scale_two_sample_miss",
    "symmetric_mean",
    "lag1_correlation",
    "unique_fraction",
    "unique_false_failure",
]

FAMILIES = ("normal", "uniform", "truncated_normal")
#: standard deviation of a standard normal restricted to [-2, 2]
TRUNCATED_STD = 0.87962566103423978
#: variance test: pass when |ln(mean(w^2)/sigma0^2)| <= VARIANCE_BAND
VARIANCE_BAND = 0.10
#: uniform support: the largest |w| must reach (1 - UNIFORM_EDGE) * a
UNIFORM_EDGE = 0.002
#: truncated-normal support: the largest |w| must reach (1 - TRUNCATED_EDGE) * 2 sigma'
TRUNCATED_EDGE = 0.01
#: plain normal support: the largest |w| must lie in (NORMAL_LOW, NORMAL_HIGH) * sigma0
NORMAL_LOW, NORMAL_HIGH = 3.0, 9.0
#: a float64 draw from a continuous law takes any one value with at most this probability
POINT_PROBABILITY = 2.0**-50

_SQRT3 = math.sqrt(3.0)


def load() -> None:
    """Import SciPy's laws now: a process about to fork graders loads them once for all."""
    from scipy import special, stats  # noqa: F401


@dataclass(frozen=True)
class Verdict:
    """The outcome of one test on one sample.

    ``statistic`` passes when ``low <= statistic <= high``; ``bound`` is an
    upper bound on the probability that a correct sample of this size fails;
    ``sentence`` states all of it for a message.
    """

    test: str
    statistic: float
    low: float
    high: float
    passed: bool
    bound: float
    n: int
    sentence: str


# --------------------------------------------------------------------------
# families and formatting
# --------------------------------------------------------------------------
def standard(family: str):
    """The target law standardised to mean 0 and variance 1 (a scipy frozen law)."""
    from scipy import stats
    if family == "normal":
        return stats.norm()
    if family == "uniform":
        return stats.uniform(-_SQRT3, 2 * _SQRT3)
    if family == "truncated_normal":
        return stats.truncnorm(-2.0, 2.0, scale=1.0 / TRUNCATED_STD)
    raise ValueError(f"unknown family {family!r}")


def cdf(family: str, x: np.ndarray) -> np.ndarray:
    """The standardised CDF, vectorised (fast enough for 10^8 values)."""
    from scipy import special
    if family == "normal":
        return special.ndtr(x)
    if family == "uniform":
        return np.clip((x + _SQRT3) / (2 * _SQRT3), 0.0, 1.0)
    lo = special.ndtr(-2.0)
    z = np.clip(x * TRUNCATED_STD, -2.0, 2.0)
    return (special.ndtr(z) - lo) / (1.0 - 2.0 * lo)


def fmt_p(p: float) -> str:
    """'p ≤ 2.0e-09' for moderate bounds, 'p < 1e-18' for tiny ones."""
    if not p > 1e-300:
        return "p < 1e-300"
    if p >= 1e-12:
        return f"p ≤ {p:.1e}"
    return f"p < 1e{math.ceil(math.log10(p))}"


def _fails(p: float) -> str:
    return f"a correct solution fails this with {fmt_p(p)}"


def sign_threshold(alpha: float) -> float:
    """The |z| threshold of the sign tests: 2 exp(-t^2/2) = alpha."""
    return math.sqrt(2.0 * math.log(2.0 / alpha))


# --------------------------------------------------------------------------
# variance
# --------------------------------------------------------------------------
def _square_moments(family: str) -> tuple[float, float]:
    """(max, variance) of X = x^2 for x of the standardised family (E X = 1)."""
    from scipy import stats
    if family == "uniform":
        return 3.0, 9.0 / 5.0 - 1.0
    if family == "truncated_normal":
        m4 = float(stats.truncnorm(-2.0, 2.0).moment(4))
        return 4.0 / TRUNCATED_STD**2, m4 / TRUNCATED_STD**4 - 1.0
    raise ValueError(f"{family!r} is not bounded")


def _bernstein(n: int, t: float, var: float, b: float) -> float:
    """One-sided Bernstein: P(mean - mu >= t) for n i.i.d. terms with X - mu <= b."""
    if t <= 0:
        return 1.0
    return math.exp(-n * t * t / (2.0 * (var + b * t / 3.0)))


def variance_false_failure(n: int, family: str, band: float = VARIANCE_BAND) -> float:
    """Upper bound on P(|ln r| > band) for n correct draws."""
    from scipy import stats
    hi, lo = math.exp(band), math.exp(-band)
    if family == "normal":
        return float(stats.chi2.sf(n * hi, n) + stats.chi2.cdf(n * lo, n))
    top, var = _square_moments(family)
    return _bernstein(n, hi - 1.0, var, top - 1.0) + _bernstein(n, 1.0 - lo, var, 1.0)


def variance_miss(n: int, family: str, rho: float, band: float = VARIANCE_BAND) -> float:
    """Upper bound on P(|ln r| <= band) when the true variance is rho times the target.

    Exact (chi-square) for the normal; Bernstein for the bounded families.
    Assumes the samples are the target family scaled by sqrt(rho).
    """
    from scipy import stats
    hi, lo = math.exp(band), math.exp(-band)
    if lo <= rho <= hi:
        return 1.0
    if family == "normal":
        return float(max(0.0, stats.chi2.cdf(n * hi / rho, n) - stats.chi2.cdf(n * lo / rho, n)))
    top, var = _square_moments(family)
    if rho > hi:  # mean(X) would have to fall to hi/rho
        return _bernstein(n, 1.0 - hi / rho, var, 1.0)
    return _bernstein(n, lo / rho - 1.0, var, top - 1.0)


def variance_ratio(w: np.ndarray, sigma2: float, family: str,
                   band: float = VARIANCE_BAND) -> Verdict:
    """r = mean(w^2) / sigma2 (mean zero assumed known); pass if |ln r| <= band."""
    w = np.asarray(w, dtype=np.float64).ravel()
    n = w.size
    r = float(np.mean(w * w) / sigma2) if n else float("nan")
    stat = math.log(r) if r > 0 else -math.inf
    ok = bool(abs(stat) <= band)
    bound = variance_false_failure(n, family, band)
    sentence = (f"variance ratio {r:.3g} (expected 1.00 ± 10 %: |ln r| ≤ {band:.2f}, i.e. "
                f"{math.exp(-band):.3f}–{math.exp(band):.3f}; {_fails(bound)})")
    return Verdict("variance ratio", stat, -band, band, ok, bound, n, sentence)


# --------------------------------------------------------------------------
# support
# --------------------------------------------------------------------------
def support_false_failure(n: int, family: str) -> float:
    """Upper bound on a correct sample of n draws failing :func:`support`."""
    from scipy import stats
    if family == "uniform":
        return math.exp(n * math.log1p(-UNIFORM_EDGE))
    if family == "truncated_normal":
        edge = 2.0 * (1.0 - TRUNCATED_EDGE)
        inner = (1.0 - 2.0 * stats.norm.sf(edge)) / (1.0 - 2.0 * stats.norm.sf(2.0))
        return math.exp(n * math.log(inner))
    if family == "normal":
        tail3 = 2.0 * stats.norm.sf(NORMAL_LOW)
        return math.exp(n * math.log1p(-tail3)) + n * 2.0 * stats.norm.sf(NORMAL_HIGH)
    raise ValueError(f"unknown family {family!r}")


def support(w: np.ndarray, sigma: float, family: str, rtol: float = 1e-12) -> Verdict:
    """Check max|w| against the edge of the family with target std ``sigma``.

    uniform: a = sqrt(3) sigma, pass if a(1 - 0.002) <= max|w| <= a(1 + rtol);
    truncated_normal: edge e = 2 sigma / c, pass if 0.99 e <= max|w| <= e(1 + rtol);
    normal: pass if 3 sigma < max|w| < 9 sigma.
    The statistic is max|w| / edge (edge = sigma for the normal).
    """
    w = np.asarray(w, dtype=np.float64).ravel()
    n = w.size
    top = float(np.max(np.abs(w))) if n else 0.0
    bound = support_false_failure(n, family)
    if family == "uniform":
        edge = _SQRT3 * sigma
        low, high = 1.0 - UNIFORM_EDGE, 1.0 + rtol
        what = (f"max|w| = {top:.5g}, {top / edge:.4f} × the bound a = {edge:.5g} "
                f"(expected between {low:.3f}·a and a")
    elif family == "truncated_normal":
        edge = 2.0 * sigma / TRUNCATED_STD
        low, high = 1.0 - TRUNCATED_EDGE, 1.0 + rtol
        what = (f"max|w| = {top:.5g}, {top / edge:.4f} × the truncation point "
                f"2σ' = {edge:.5g} (expected between {low:.2f}·2σ' and 2σ'")
    elif family == "normal":
        edge = sigma
        low, high = NORMAL_LOW, NORMAL_HIGH
        what = (f"max|w| = {top:.5g} = {top / edge:.2f} σ (an untruncated normal of "
                f"{n} draws reaches beyond {low:g} σ and stays below {high:g} σ")
    else:
        raise ValueError(f"unknown family {family!r}")
    stat = top / edge
    if family == "normal":
        ok = bool(low < stat < high)
    else:
        ok = bool(low <= stat <= high)
    sentence = f"{what}; {_fails(bound)})"
    return Verdict("support", stat, low, high, ok, bound, n, sentence)


# --------------------------------------------------------------------------
# Kolmogorov-Smirnov
# --------------------------------------------------------------------------
def ks_threshold(n: int, alpha: float) -> float:
    """DKW-Massart: P(D_n > t) <= 2 exp(-2 n t^2) = alpha."""
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n))


def ks_distance(sorted_x: np.ndarray, cdf_values: np.ndarray) -> np.ndarray:
    """sup |F_n - F| from sorted samples and F at them (last axis; batched)."""
    n = sorted_x.shape[-1]
    i = np.arange(1, n + 1, dtype=np.float64)
    upper = np.max(i / n - cdf_values, axis=-1)
    lower = np.max(cdf_values - (i - 1) / n, axis=-1)
    return np.maximum(upper, lower)


#: the grid of :func:`_one_sample_distance`: blocks of even width over [-GRID_REACH,
#: GRID_REACH] (the values beyond in the end blocks), about one per GRID_BLOCK values
GRID_REACH, GRID_BLOCK = 5.0, 8


def _one_sample_distance(z: np.ndarray, family: str) -> float:
    """:func:`ks_distance` of ``z`` (unsorted, no NaN) against the family's CDF, the
    same float, without sorting all of ``z``.

    Each value is counted in its block of an even grid (:func:`_blocks`, which
    never decreases as z grows), so the rank of a value is the count of the
    blocks below plus its rank within its own. Within a block the CDF stays between
    its values a hair outside the block's ends, so the block's terms of D are
    bounded. The block with the largest bound is computed exactly first; then every
    block whose bound exceeds what that gives, each value with its own rank and CDF
    as :func:`ks_distance` has them; no other block can hold the largest term.
    """
    n = z.size
    k = max(1, n // GRID_BLOCK)
    scale = k / (2 * GRID_REACH)
    block = _blocks(z, -GRID_REACH, scale, k)
    upto = np.cumsum(np.bincount(block, minlength=k))
    below = np.concatenate(([0], upto[:-1]))
    edges = np.arange(k + 1) / scale - GRID_REACH
    slack = 1e-9 * (1.0 + np.abs(edges))  # far beyond any rounding of the block's ends
    f = cdf(family, np.concatenate((edges - slack, edges + slack)))
    below_edges, above_edges = f[:k + 1], f[k + 1:]
    f_low, f_high = below_edges[:-1], above_edges[1:]  # just outside each block's two ends
    f_low[0], f_high[-1] = 0.0, 1.0  # the end blocks reach -inf and +inf
    bound = np.maximum(upto / n - f_low, f_high - below / n)

    def exact(opened: np.ndarray) -> float:
        """The largest term of the values in the ``opened`` blocks (-inf for none)."""
        chosen = opened[block]
        if not chosen.any():
            return -math.inf
        order = np.argsort(z[chosen], kind="stable")  # by value, hence by block too
        values, blocks = z[chosen][order], block[chosen][order]
        first = np.searchsorted(blocks, blocks, side="left")  # where its block begins
        i = (below[blocks] + np.arange(1, values.size + 1) - first).astype(np.float64)
        c = cdf(family, values)
        return float(max(np.max(i / n - c), np.max(c - (i - 1) / n)))

    largest = np.zeros(k, dtype=bool)
    largest[int(np.argmax(bound))] = True
    d = exact(largest)
    return max(d, exact(bound > d))


def ks_one_sample(z: np.ndarray, family: str, alpha: float) -> Verdict:
    """D between standardised samples z = w / sigma0 and the standard family."""
    z = np.asarray(z, dtype=np.float64).ravel()
    n = z.size
    if n == 0 or np.isnan(z).any():  # nothing, or NaN (D is NaN): the plain way
        z = np.sort(z)
        d = float(ks_distance(z, cdf(family, z)))
    else:
        d = _one_sample_distance(z, family)
    t = ks_threshold(n, alpha)
    sentence = (f"KS distance D = {d:.4f} from the exact {family.replace('_', ' ')} CDF "
                f"(a correct solution has D ≤ {t:.4f} at n = {n} except with probability "
                f"α = {alpha:.1e}, DKW inequality)")
    return Verdict("KS distance", d, 0.0, t, bool(d <= t), alpha, n, sentence)


#: values of a reference per block, on average, in :func:`ks_two_sample`'s first pass
BLOCK = 32


@dataclass(frozen=True)
class Reference:
    """A sample prepared once for the two-sample tests of many others (read-only): its
    values as drawn, sorted, the block of each sorted value and how many values the
    blocks up to each hold (:func:`ks_two_sample`), the grid that places a value in its
    block, and its mean square."""

    values: np.ndarray
    sorted: np.ndarray
    blocks: np.ndarray
    upto: np.ndarray
    low: float
    scale: float
    mean_square: float

    def head(self, n: int) -> "Reference":
        """The reference of the first ``n`` values (itself when that is all of them)."""
        return self if n == self.values.size else reference(self.values[:n])

    def block_of(self, v: np.ndarray) -> np.ndarray:
        """The block of each value of ``v`` (:func:`_blocks`)."""
        return _blocks(v, self.low, self.scale, self.upto.size)


def _blocks(v: np.ndarray, low: float, scale: float, k: int) -> np.ndarray:
    """The block of each value: ``floor((v - low) * scale)`` within the ``k`` blocks (NaN,
    which sorts last, in the last one). It never decreases as ``v`` grows (each step
    rounds monotonically), so a block holds the values of one interval, the same for
    every sample placed with the same grid."""
    with np.errstate(invalid="ignore"):  # an infinite value on a grid of scale 0
        t = (np.asarray(v, dtype=np.float64) - low) * scale
    np.clip(t, 0, k - 1, out=t)
    np.nan_to_num(t, copy=False, nan=k - 1)
    return t.astype(np.intp)


def reference(y: np.ndarray) -> Reference:
    """``y`` prepared for :func:`ks_two_sample` and :func:`scale_two_sample`: an even grid
    of about ``y.size / BLOCK`` blocks between its smallest and largest finite values
    (one block when they are equal or too far apart for a float)."""
    y = np.array(y, dtype=np.float64).ravel()
    ys = np.sort(y)
    finite = ys[np.isfinite(ys)]
    k = max(1, ys.size // BLOCK)
    span = float(finite[-1]) - float(finite[0]) if finite.size else 0.0
    scale = k / span if span > 0.0 else 0.0
    low = float(finite[0]) if finite.size else 0.0
    if not 0.0 < scale < math.inf:
        k, low, scale = 1, 0.0, 0.0
    blocks = _blocks(ys, low, scale, k)
    upto = np.cumsum(np.bincount(blocks, minlength=k))
    for arr in (y, ys, blocks, upto):
        arr.flags.writeable = False
    with np.errstate(over="ignore"):  # values near the largest float: an infinite square
        mean_square = float(np.mean(y * y))
    return Reference(y, ys, blocks, upto, low, scale, mean_square)


def _largest_gap(x: np.ndarray, ref: Reference) -> int:
    """max over every value v of either sample of |#x <= v - #y <= v| (``x`` flat float64).

    Both counts at the upper end of each block are exact (``Reference.block_of``
    places both samples alike), and within a block neither count leaves the range
    it spans: a block whose widest possible gap is no larger than the largest gap
    at the blocks' ends cannot hold a larger one. The values of the other blocks
    alone are sorted and counted one by one. A correct sample leaves a handful of
    blocks of some 30 values open (for 131,072 values, a fifth of the time that
    sorting it whole and searching the reference in it takes), one far from the
    reference fewer; only one that nearly equals the reference value by value
    opens them all, and costs a sort of both samples together (2.5 times that).
    """
    k = ref.upto.size
    bx = ref.block_of(x)
    upto_x, upto_y = np.cumsum(np.bincount(bx, minlength=k)), ref.upto
    largest = int(np.max(np.abs(upto_x - upto_y)))
    from_x = np.concatenate(([0], upto_x[:-1]))  # the counts below each block
    from_y = np.concatenate(([0], upto_y[:-1]))
    wide = np.maximum(upto_x - from_y, upto_y - from_x) > largest
    if not wide.any():
        return largest
    opened_x, opened_y = wide[bx], wide[ref.blocks]
    both = np.concatenate([x[opened_x], ref.sorted[opened_y]])
    block = np.concatenate([bx[opened_x], ref.blocks[opened_y]])
    mine = np.zeros(both.size, dtype=bool)
    mine[:opened_x.sum()] = True
    order = np.argsort(both, kind="stable")  # NaN last, in the last block: blocks ascend
    both, block, mine = both[order], block[order], mine[order]
    seen_x, seen_y = np.cumsum(mine), np.cumsum(~mine)
    first = np.searchsorted(block, block, side="left")  # where each value's block begins
    at_x = from_x[block] + seen_x - (seen_x[first] - mine[first])
    at_y = from_y[block] + seen_y - (seen_y[first] - ~mine[first])
    nan = np.isnan(both)
    last = np.ones(both.size, dtype=bool)  # the last of equal values (NaN equal to NaN)
    last[:-1] = (both[1:] != both[:-1]) & ~(nan[1:] & nan[:-1])
    return max(largest, int(np.max(np.abs(at_x[last] - at_y[last]))))


def ks_two_sample(x: np.ndarray, y: "np.ndarray | Reference", alpha: float) -> Verdict:
    """Two-sample D of equal-size samples; threshold from Wei & Dudley's two-sample DKW.

    D is the largest gap between the two empirical CDFs, which (both being
    steps) is reached at a value of either sample: ``max |#x <= v - #y <= v| /
    n`` over them, ties within or across the samples included, NaN counted as
    above every number. ``y`` may be a :class:`Reference`: the same D, found
    without sorting ``x`` where a coarse pass shows where the gap cannot be
    largest (:func:`_largest_gap`).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    ref = y if isinstance(y, Reference) else reference(y)
    n = x.size
    if ref.sorted.size != n or n < 458:
        raise ValueError("the two-sample DKW bound needs equal sizes n = m >= 458")
    d = _largest_gap(x, ref) / n
    t = math.sqrt(math.log(2.0 / alpha) / n)
    sentence = (f"two-sample KS distance D = {d:.4f} (samples of one law have D ≤ {t:.4f} "
                f"at n = m = {n} except with probability α = {alpha:.1e}, two-sample DKW "
                f"bound of Wei & Dudley 2012)")
    return Verdict("two-sample KS distance", d, 0.0, t, bool(d <= t), alpha, n, sentence)


# --------------------------------------------------------------------------
# the scale of two samples
# --------------------------------------------------------------------------
def _bernstein_deviation(n: int, alpha: float, var: float, b: float) -> float:
    """The t with exp(-n t^2 / (2 (var + b t / 3))) = alpha."""
    log_term = math.log(1.0 / alpha)
    qb = -2.0 * log_term * b / 3.0
    qc = -2.0 * log_term * var
    return (-qb + math.sqrt(qb * qb - 4.0 * n * qc)) / (2.0 * n)


def scale_interval(n: int, family: str, alpha: float) -> tuple[float, float]:
    """[lo, hi] holding mean(w^2)/sigma0^2 of n correct draws except w.p. alpha (split)."""
    from scipy import stats
    if family == "normal":
        return (float(stats.chi2.ppf(alpha / 2, n) / n), float(stats.chi2.isf(alpha / 2, n) / n))
    top, var = _square_moments(family)
    up = _bernstein_deviation(n, alpha / 2, var, (top - 1.0) * 1.001)
    down = _bernstein_deviation(n, alpha / 2, var, 1.0)
    return max(0.0, 1.0 - down), 1.0 + up


def scale_two_sample(x: np.ndarray, y: "np.ndarray | Reference", family: str,
                     alpha: float) -> Verdict:
    """R = mean(x^2)/mean(y^2) for samples of one target law; pass if in [lo/hi, hi/lo]."""
    x = np.asarray(x, dtype=np.float64).ravel()
    if isinstance(y, Reference):
        n, my = min(x.size, y.sorted.size), y.mean_square
    else:
        y = np.asarray(y, dtype=np.float64).ravel()
        n, my = min(x.size, y.size), float(np.mean(y * y))
    lo, hi = scale_interval(n, family, alpha / 2)
    r = float(np.mean(x * x) / my) if my > 0 else float("nan")
    ok = bool(lo / hi <= r <= hi / lo)
    sentence = (f"ratio of mean squares {r:.4f} (two correct samples of n = {n} stay within "
                f"{lo / hi:.4f}–{hi / lo:.4f} except with probability α = {alpha:.1e})")
    return Verdict("scale ratio", r, lo / hi, hi / lo, ok, alpha, n, sentence)


def _mean_square_tail(n: int, family: str, t: np.ndarray, upper: bool) -> np.ndarray:
    """P(mean(w^2)/sigma0^2 >= t) (upper) or <= t (lower) for n correct draws (bounds)."""
    from scipy import stats
    t = np.asarray(t, dtype=np.float64)
    if family == "normal":
        return stats.chi2.sf(n * t, n) if upper else stats.chi2.cdf(n * t, n)
    top, var = _square_moments(family)
    b = (top - 1.0) * 1.001 if upper else 1.0
    d = np.maximum(t - 1.0 if upper else 1.0 - t, 0.0)
    bound = np.exp(-n * d * d / (2.0 * (var + b * d / 3.0)))
    return np.where(d > 0, bound, 1.0)


def scale_two_sample_miss(n: int, family: str, rho: float, alpha: float) -> float:
    """Upper bound on P(:func:`scale_two_sample` passes) when x has rho times the variance.

    x = sqrt(rho) * (a correct sample); pass needs R <= hi/lo (rho > 1) or R >=
    lo/hi (rho < 1). For any split t, P(pass) <= P(m_y beyond t) + P(rho m_x
    beyond t * edge); the smallest over a grid of t is returned.
    """
    lo, hi = scale_interval(n, family, alpha / 2)
    t = np.exp(np.linspace(-0.5, 0.5, 2001))
    if rho > 1:  # m_y >= t, or m_x <= t (hi/lo) / rho
        p = (_mean_square_tail(n, family, t, upper=True)
             + _mean_square_tail(n, family, t * (hi / lo) / rho, upper=False))
    else:  # m_y <= t, or m_x >= t (lo/hi) / rho
        p = (_mean_square_tail(n, family, t, upper=False)
             + _mean_square_tail(n, family, t * (lo / hi) / rho, upper=True))
    return float(min(1.0, np.min(p)))


# --------------------------------------------------------------------------
# sign tests: mean and lag-1 correlation
# --------------------------------------------------------------------------
def symmetric_mean(x: np.ndarray, alpha: float) -> Verdict:
    """Self-normalised sign test of a zero mean: z = sum x / sqrt(sum x^2)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    s2 = float(np.sum(x * x))
    z = float(np.sum(x) / math.sqrt(s2)) if s2 > 0 else 0.0
    t = sign_threshold(alpha)
    sentence = (f"standardised mean |Σx|/√(Σx²) = {abs(z):.2f}, i.e. |mean|·√n/σ "
                f"(expected ≤ {t:.2f} for a distribution symmetric about 0; {_fails(alpha)}, "
                f"Hoeffding sign bound; n = {n})")
    return Verdict("standardised mean", z, -t, t, bool(abs(z) <= t), alpha, n, sentence)


def lag1_correlation(w: np.ndarray, axis: int, alpha: float) -> Verdict:
    """Sign test of the lag-1 correlation of neighbours along ``axis``."""
    x = np.moveaxis(np.asarray(w, dtype=np.float64), axis, -1)
    u, v = x[..., :-1], x[..., 1:]
    m = int(u.size)
    s = float(np.sum(u * v))
    q = float(np.sum((u * v) ** 2))
    z = s / math.sqrt(q) if q > 0 else (0.0 if s == 0 else math.inf)
    den = math.sqrt(float(np.sum(u * u)) * float(np.sum(v * v)))
    r = s / den if den > 0 else 0.0
    t = sign_threshold(alpha)
    r_thr = t * math.sqrt(q) / den if den > 0 else 0.0
    sentence = (f"lag-1 correlation along axis {axis} r = {r:.4f} over {m} neighbour pairs "
                f"(expected |r| ≤ {r_thr:.4f}, i.e. |z| = {abs(z):.2f} ≤ {t:.2f}; "
                f"{_fails(alpha)}, Hoeffding sign bound)")
    return Verdict("lag-1 correlation", z, -t, t, bool(abs(z) <= t), alpha, m, sentence)


# --------------------------------------------------------------------------
# distinct values
# --------------------------------------------------------------------------
def unique_false_failure(n: int, minimum: float = 0.99) -> float:
    """lambda^k / k! with k = ceil((1 - minimum) n / 2) disjoint coinciding pairs."""
    k = math.ceil((1.0 - minimum) * n / 2.0)
    lam = n * n * POINT_PROBABILITY / 2.0
    if k <= 0:
        return 1.0
    log_p = k * math.log(lam) - math.lgamma(k + 1)
    return math.exp(log_p) if log_p > -690 else 0.0


def unique_fraction(w: np.ndarray, minimum: float = 0.99) -> Verdict:
    """The fraction of distinct values; pass if >= ``minimum``."""
    w = np.asarray(w, dtype=np.float64).ravel()
    n = w.size
    frac = float(np.unique(w).size / n) if n else 1.0
    bound = unique_false_failure(n, minimum)
    sentence = (f"{100 * frac:.2f} % of the {n} values are distinct (expected ≥ "
                f"{100 * minimum:.0f} % for a continuous distribution; {_fails(bound)})")
    return Verdict("distinct fraction", frac, minimum, 1.0, bool(frac >= minimum), bound, n,
                   sentence)

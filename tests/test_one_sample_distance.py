"""The one-sample KS distance, found on a grid of blocks, is the plain one to the bit.

``stats.ks_one_sample`` sorts only the values of the blocks that could hold
the largest term (``stats._one_sample_distance``); D must be the float that
sorting every value and taking :func:`stats.ks_distance` gives, for correct
samples, wrong ones, ties, values beyond the grid and infinities, at every
size; a NaN makes D NaN, as before.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from grader import stats


def _plain(z, family):
    z = np.sort(np.asarray(z, dtype=np.float64).ravel())
    return float(stats.ks_distance(z, stats.cdf(family, z)))


def _samples(rng, n):
    normal = rng.standard_normal(n)
    return {
        "normal": normal,
        "uniform": rng.uniform(-math.sqrt(3), math.sqrt(3), n),
        "truncated": np.clip(rng.standard_normal(n), -2, 2),
        "scaled": 1.1 * normal,
        "shifted": normal + 0.05,
        "ties": np.round(normal, 1),
        "constant": np.full(n, 0.3),
        "far beyond the grid": normal * 100,
        "infinities": np.where(rng.uniform(size=n) < 0.01, np.inf, normal),
        "one side": -np.abs(normal),
        "narrow": normal * 1e-6,
    }


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1000, 16_384, 65_536])
@pytest.mark.parametrize("family", stats.FAMILIES)
def test_the_distance_is_the_plain_one(n, family):
    rng = np.random.default_rng(n)
    for kind, z in _samples(rng, n).items():
        got = stats.ks_one_sample(z, family, 1e-9)
        assert got.statistic == _plain(z, family), kind
        assert got.passed == (got.statistic <= got.high)


def test_a_nan_makes_the_distance_nan():
    z = np.random.default_rng(0).standard_normal(1000)
    z[10] = np.nan
    got = stats.ks_one_sample(z, "normal", 1e-9)
    assert math.isnan(got.statistic) and not got.passed

"""The designed numbers of the checks: false-failure budgets, powers, tolerances, cases.

These test the design itself on its numbers (the Monte-Carlo evidence is in
``bench/``): every statistical check stays within 2e-9, the catalogue of
mistakes is caught, the seed's demonstrations stay far from their thresholds,
and the finite-difference tolerance holds.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import reference.diagnostics as ref_diag
from grader import stats, testfn_gradients, testfns
from grader.checks.diagnostics import verdicts
from grader.checks.initializers import design, mistakes
from grader.oracles import diagnostics as oracle_diag
from grader.oracles import initializers as oracle_init


def _axes(shape):
    return [k for k, d in enumerate(shape) if d >= 2]


def test_every_statistical_check_stays_within_its_false_failure_budget():
    for function, cases in design.CASES.items():
        variance = sum(stats.variance_false_failure(c.size, c.target.family) for c in cases)
        support = sum(stats.support_false_failure(c.size, c.target.family) for c in cases)
        unique = sum(stats.unique_false_failure(c.size) for c in cases)
        assert variance <= 1e-18 and support <= 2e-9 and unique <= 1e-100, function
        n_axes = sum(len(_axes(c.shape)) for c in cases)
        assert n_axes * 2 * math.exp(-stats.sign_threshold(
            (design.CHECK_ALPHA - unique) / n_axes) ** 2 / 2) <= 2e-9 * (1 + 1e-12)
        assert all(c.size >= design.MIN_SAMPLES for c in cases)
    assert design.KS_ALPHA + design.SCALE_ALPHA <= design.CHECK_ALPHA


def test_cases_have_unequal_fans_in_both_layouts_and_conv_shapes():
    for function, cases in design.CASES.items():
        layouts, conv = set(), False
        for c in cases:
            layouts.add(c.layout)
            fan_in, fan_out = oracle_init.compute_fans(c.shape, c.layout)
            assert max(fan_in, fan_out) >= 4 * min(fan_in, fan_out)
            conv |= len(c.shape) > 2
        assert layouts == {"torch", "keras"} and conv, function


def test_stated_numbers():
    assert stats.ks_threshold(16384, 1e-9) == pytest.approx(0.02557, abs=1e-5)
    assert stats.support_false_failure(16384, "uniform") == pytest.approx(math.exp(-32.8),
                                                                          rel=0.05)
    for family in stats.FAMILIES:
        assert stats.variance_false_failure(16384, family) < 1e-18
        for rho in (1.25, 1.5, 2.0, 3.0, 1 / 3, 0.774):
            assert stats.variance_miss(32768, family, rho) < 1e-27, (family, rho)
    assert stats.sign_threshold(2e-9) == pytest.approx(6.44, abs=0.01)
    assert stats.standard("truncated_normal").std() == pytest.approx(1.0, abs=1e-12)
    assert stats.TRUNCATED_STD == oracle_init.TRUNCATED_STD


def test_parity_catches_every_mistake_of_the_catalogue_with_the_variance_checks_power():
    """The scale test of every parity check misses no catalogued mistake of its cases
    with probability above 1e-12 (the two-sample KS distance alone missed a truncated
    normal without rescaling: D = 0.023 against thresholds of 0.025)."""
    for function, cases in design.PARITY_CASES.items():
        alpha = design.SCALE_ALPHA / len(cases)
        for case in cases:
            for rho, name in mistakes.mistakes(case):
                miss = stats.scale_two_sample_miss(design.PARITY_SAMPLES, case.target.family,
                                                   rho, alpha)
                assert miss <= 1e-12, (case.label(), name, rho, miss)


def test_scale_test_keeps_its_false_failure_bound():
    g = np.random.default_rng(3)
    for family, draw in (("normal", g.standard_normal),
                         ("uniform", lambda n: g.uniform(-math.sqrt(3), math.sqrt(3), n))):
        lo, hi = stats.scale_interval(131072, family, 5e-10)
        assert lo < 1 < hi
        passes = [stats.scale_two_sample(draw(131072), draw(131072), family, 1e-9).passed
                  for _ in range(20)]
        assert all(passes)


def test_variance_hint_names_known_mistakes():
    he = design.CASES["he_normal"][0]  # (512, 64): fan_in 64, fan_out 512
    assert "swapped" in mistakes.variance_hints([(he, 64 / 512)]).hint
    # on a dense torch shape, reading it in the Keras layout gives the swap's ratio too
    assert mistakes.variance_hints([(he, 64 / 512)]).mistake == ""
    conv = design.CASES["he_normal"][1]
    swapped = {name: r for r, name in mistakes.mistakes(conv)}["fan_in and fan_out swapped"]
    assert mistakes.variance_hints([(he, 64 / 512), (conv, swapped)]).mistake == (
        "fan_in and fan_out swapped")
    assert "gain ignored" in mistakes.variance_hints([(he, 0.5)]).hint
    uniform = design.CASES["xavier_uniform"][1]
    assert "√3" in mistakes.variance_hints([(uniform, 1 / 3)]).hint
    truncated = design.CASES["variance_scaling"][0]
    assert "not rescaled" in mistakes.variance_hints([(truncated, 0.774)]).hint
    assert "clipped" in mistakes.variance_hints([(truncated, 1.19)]).hint
    normal = design.CASES["xavier_normal"][0]
    assert "truncated at 2σ without rescaling" in mistakes.variance_hints([(normal, 0.774)]).hint


def _cut_at_two(rng, n: int) -> np.ndarray:
    """N(0, 1) with every draw beyond ±2 drawn again: variance 0.774, nothing rescaled."""
    z = rng.standard_normal(n)
    while (bad := np.abs(z) > 2).any():
        z[bad] = rng.standard_normal(int(bad.sum()))
    return z


@pytest.mark.parametrize("function", ["xavier_normal", "he_normal"])
def test_a_normal_truncated_and_not_rescaled_is_one_named_mistake_in_every_check(function):
    """Its variance (0.774) and its bounded law fail four checks; all name one mistake,
    so that the class page counts it once. Truncated and rescaled, only the law is wrong."""
    case = design.CASES[function][0]
    t = case.target
    w = _cut_at_two(np.random.default_rng(5), 65536) * t.std
    ratio = float(np.mean(w * w)) / t.var
    support = stats.support(w, t.std, t.family)
    assert not support.passed
    names = {mistakes.variance_hints([(case, ratio)]).mistake,
             mistakes.family_hint(w / t.std, t.family, 1e-9, function).mistake,
             mistakes.support_hint(w, t, support.statistic, function).mistake}
    mixup = {"xavier_normal": "Keras' truncated normal mixed up with PyTorch's normal",
             "he_normal": "Keras' HeNormal mixed up with PyTorch's kaiming_normal_"}[function]
    assert names == {f"the normal truncated at 2σ without rescaling ({mixup})"}
    rescaled = w / stats.TRUNCATED_STD
    assert mistakes.family_hint(rescaled / t.std, t.family, 1e-9, function).mistake == (
        "a truncated normal (redrawn beyond 2σ') law instead of a normal one")


def test_a_ratio_several_mistakes_give_lists_them_and_names_none():
    """One case with gain 5/3: ignoring the gain (ratio 0.36) and the bound set to σ (1/3)
    are one ratio; a second case with another gain tells them apart."""
    t_conv, k_conv = design.CASES["xavier_uniform"][1], design.CASES["xavier_uniform"][3]
    alone = mistakes.variance_hints([(t_conv, 9 / 25)])
    assert "gain ignored" in alone.hint and "√3" in alone.hint
    assert alone.mistake == ""
    both = mistakes.variance_hints([(t_conv, 9 / 25), (k_conv, 1 / 2)])
    assert both.mistake == "gain ignored"


def test_a_mistake_that_would_have_failed_a_passing_case_is_ruled_out():
    """mode='fan_out' ignored and the fans swapped give one ratio on a fan_out case; the
    fan_in case that passed rules the swap out."""
    fan_in, fan_out = design.CASES["he_normal"][0], design.CASES["he_normal"][1]
    ignored = {name: r for r, name in mistakes.mistakes(fan_out)}[
        "mode ignored (fan_in used for mode='fan_out')"]
    assert mistakes.variance_hints([(fan_out, ignored)]).mistake == ""
    assert mistakes.variance_hints([(fan_out, ignored)], (fan_in,)).mistake == (
        "mode ignored (fan_in used for mode='fan_out')")


@pytest.mark.parametrize("name", sorted(verdicts.DEMOS))
def test_demo_networks_are_far_from_the_thresholds(name):
    """Every demonstration keeps first/last at least 10x inside its verdict's region."""
    for seed in range(5):
        weights, x, activation, expected, _ = verdicts.demo_network(
            name, np.random.default_rng(seed))
        norms = oracle_diag.mlp_gradient_norms(weights, x, activation)
        r = norms[0] / norms[-1]
        if expected == "vanishing":
            assert r < 1e-3
        elif expected == "exploding":
            assert r > 1e3
        else:
            assert 0.1 < r < 10


def test_relu_weight_scale_cancels_from_the_ratio():
    """Why the Q4 demonstration uses tanh: for ReLU the first/last ratio ignores the scale."""
    g = np.random.default_rng(0)
    weights = [g.standard_normal((64, 64)) for _ in range(10)]
    x = g.standard_normal((16, 64))
    a = oracle_diag.mlp_gradient_norms(weights, x, "relu")
    b = oracle_diag.mlp_gradient_norms([w * 0.125 for w in weights], x, "relu")
    assert np.isclose(a[0] / a[-1], b[0] / b[-1], rtol=1e-9)


@pytest.mark.parametrize("name", ["quadratic", "cubic", "poly", "tanh_weighted", "exp_sin",
                                  "coupled"])
def test_fd_error_bound_holds(name):
    g = np.random.default_rng(1)
    params = {"cubic": {"c": -20.0}, "poly": {"a1": 3.0, "a2": -5.0, "a3": 10.0},
              "quadratic": {"a": 5.0, "b": -5.0}, "coupled": {"s": 3.0}}.get(name, {})
    for shape in ((7,), (3, 4), (2, 3, 4)):
        x = g.uniform(-2.0, 2.0, shape)
        f = testfns.make(name, params)
        numeric = ref_diag.numerical_gradient(f, x)
        err = np.abs(numeric - testfn_gradients.gradient(name, params, x))
        assert np.all(err <= testfn_gradients.fd_error_bound(name, params, x, 1e-5))


def test_one_sided_difference_is_far_outside_the_centred_tolerance():
    x = np.array([[0.5, -1.5], [-0.5, 1.5]])
    params = {"c": 50.0}
    bound = 2 * testfn_gradients.fd_error_bound("cubic", params, x, 1e-5)
    one_sided_error = 3 * 50.0 * np.abs(x) * 1e-5
    assert np.all(one_sided_error > 100 * bound)


def test_oracles_agree_with_the_reference_documentation():
    """The grader's torch-backed oracles and the reference's NumPy code are two
    independent implementations of one contract; they agree on basic inputs."""
    import reference.batchnorm as ref_bn
    import reference.initializers as ref_init

    from grader.oracles import batchnorm as oracle_bn

    for shape, layout in (((8, 4, 3, 3), "torch"), ((3, 3, 4, 8), "keras"), ((7,), "keras"),
                          ((), "keras"), ((5, 0), "torch")):
        assert oracle_init.compute_fans(shape, layout) == ref_init.compute_fans(shape, layout)
    for name in design.NONLINEARITIES:
        assert oracle_init.calculate_gain(name) == pytest.approx(ref_init.calculate_gain(name))
    g = np.random.default_rng(5)
    x = g.standard_normal((6, 3, 2))
    args = (x, g.uniform(0.5, 2, 3), g.standard_normal(3), g.standard_normal(3),
            g.uniform(0.5, 2, 3))
    for training in (True, False):
        for unbiased in (True, False):
            mine = oracle_bn.batchnorm_forward(*args, training=training,
                                               unbiased_running_var=unbiased, momentum=0.3)
            theirs = ref_bn.batchnorm_forward(*args, training=training,
                                              unbiased_running_var=unbiased, momentum=0.3)
            for a, b in zip(mine, theirs):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    dout = g.standard_normal(x.shape)
    for a, b in zip(oracle_bn.batchnorm_backward(dout, x, args[1]),
                    ref_bn.batchnorm_backward(dout, x, args[1])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    weights = [g.standard_normal((5, 4)), g.standard_normal((3, 5))]
    xs = g.standard_normal((6, 4))
    for act in oracle_diag.ACTIVATIONS:
        np.testing.assert_allclose(oracle_diag.mlp_gradient_norms(weights, xs, act),
                                   ref_diag.mlp_gradient_norms(weights, xs, act), rtol=1e-12)

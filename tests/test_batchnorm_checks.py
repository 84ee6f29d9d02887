"""The checks of batchnorm.py: full marks for correct code, points lost for broken code.

Every broken implementation in :data:`BROKEN` redefines one function of a copy
of the reference; it must lose points in exactly that function
(``assert_only``) and fail at least the checks listed with it. :data:`CORRECT`
holds implementations that compute the same thing differently (``E[x^2] -
E[x]^2``, the long chain-rule backward pass, reductions after a transpose);
they must keep full marks, which is what the float64 tolerances promise.
"""
from __future__ import annotations

import pytest
from conftest import REFERENCE, STUBS, assert_only, grade, make_submission

from grader.checks import batchnorm as checks

TASK = "batchnorm"
OWN_IDS = {c.id for c in checks.CHECKS}

# name -> (function that must lose points, checks (property names) that must fail, source)
BROKEN: dict[str, tuple[str, set[str], str]] = {
    "unbiased_variance_in_normalisation": ("batchnorm_forward", {
        "training_matches_reference", "torch_parity", "keras_parity", "channel_scales"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            x = np.asarray(x, dtype=float)
            if not training:
                return _ref_forward(x, gamma, beta, running_mean, running_var, False,
                                    momentum, eps, unbiased_running_var)
            out, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, True,
                                       momentum, eps, unbiased_running_var)
            m = _values_per_channel(x)
            if m < 2:
                raise ValueError("m < 2")
            axes = _reduce_axes(x)
            mu = x.mean(axis=axes)
            var = x.var(axis=axes, ddof=1)
            out = (_per_channel(gamma, x.ndim) * (x - _per_channel(mu, x.ndim))
                   / np.sqrt(_per_channel(var, x.ndim) + eps) + _per_channel(beta, x.ndim))
            return out, rm, rv
    """),
    "biased_running_var_when_unbiased_asked": ("batchnorm_forward", {
        "training_matches_reference", "torch_parity", "running_statistics",
        "unbiased_factor"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            return _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                momentum, eps, False)
    """),
    "unbiased_running_var_always": ("batchnorm_forward", {
        "training_matches_reference", "keras_parity", "running_statistics",
        "unbiased_factor"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            return _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                momentum, eps, True)
    """),
    "momentum_reversed": ("batchnorm_forward", {
        "training_matches_reference", "torch_parity", "keras_parity", "running_statistics"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            return _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                1.0 - momentum, eps, unbiased_running_var)
    """),
    "eps_outside_sqrt": ("batchnorm_forward", {
        "training_matches_reference", "eval_matches_reference", "torch_parity",
        "keras_parity", "channel_scales"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            x = np.asarray(x, dtype=float)
            _, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                     momentum, eps, unbiased_running_var)
            axes = _reduce_axes(x)
            if training:
                mu, var = x.mean(axis=axes), x.var(axis=axes)
            else:
                mu, var = np.asarray(running_mean), np.asarray(running_var)
            out = (_per_channel(gamma, x.ndim) * (x - _per_channel(mu, x.ndim))
                   / (np.sqrt(_per_channel(var, x.ndim)) + eps) + _per_channel(beta, x.ndim))
            return out, rm, rv
    """),
    "eval_uses_batch_statistics": ("batchnorm_forward", {
        "eval_matches_reference", "torch_parity", "keras_parity", "channel_scales"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            if training:
                return _ref_forward(x, gamma, beta, running_mean, running_var, True,
                                    momentum, eps, unbiased_running_var)
            out, _, _ = _ref_forward(x, gamma, beta, running_mean, running_var, True,
                                     momentum, eps, unbiased_running_var)
            return out, np.array(running_mean, dtype=float), np.array(running_var, dtype=float)
    """),
    "running_mean_updated_in_place": ("batchnorm_forward", {"no_mutation"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            out, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                       momentum, eps, unbiased_running_var)
            running_mean[...] = rm
            return out, running_mean.copy(), rv
    """),
    "spatial_statistics_over_batch_axis_only": ("batchnorm_forward", {
        "training_matches_reference", "torch_parity", "keras_parity"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            x = np.asarray(x, dtype=float)
            _, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                     momentum, eps, unbiased_running_var)
            if not training:
                return _ref_forward(x, gamma, beta, running_mean, running_var, False,
                                    momentum, eps, unbiased_running_var)
            mu, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
            out = (_per_channel(gamma, x.ndim) * (x - mu) / np.sqrt(var + eps)
                   + _per_channel(beta, x.ndim))
            return out, rm, rv
    """),
    "unbiased_factor_uses_batch_size": ("batchnorm_forward", {"unbiased_factor"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            x = np.asarray(x, dtype=float)
            out, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                       momentum, eps, False)
            if training and unbiased_running_var:
                n = x.shape[0]
                var = x.var(axis=_reduce_axes(x))
                factor = n / (n - 1) if n > 1 else 1.0
                rv = (1 - momentum) * np.asarray(running_var) + momentum * var * factor
            return out, rm, rv
    """),
    "single_value_batch_accepted": ("batchnorm_forward", {"single_value_raises"}, """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            try:
                return _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                    momentum, eps, unbiased_running_var)
            except ValueError:
                x = np.asarray(x, dtype=float)
                return (np.zeros_like(x) + _per_channel(np.asarray(beta), x.ndim),
                        np.array(running_mean, dtype=float), np.array(running_var, dtype=float))
    """),
    # ------------------------------------------------------------------ backward
    "backward_without_mean_term": ("batchnorm_backward", {
        "matches_reference", "torch_parity", "finite_differences", "zero_projections"}, """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            x = np.asarray(x, dtype=float)
            dx, dgamma, dbeta = _ref_backward(dout, x, gamma, eps)
            m = _values_per_channel(x)
            axes = _reduce_axes(x)
            inv_std = 1.0 / np.sqrt(x.var(axis=axes) + eps)
            dx = dx + _per_channel(np.asarray(gamma) * inv_std * dbeta / m, x.ndim)
            return dx, dgamma, dbeta
    """),
    "backward_without_variance_term": ("batchnorm_backward", {
        "matches_reference", "torch_parity", "finite_differences", "zero_projections"}, """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            x = np.asarray(x, dtype=float)
            dout = np.asarray(dout, dtype=float)
            _, dgamma, dbeta = _ref_backward(dout, x, gamma, eps)
            axes = _reduce_axes(x)
            m = _values_per_channel(x)
            inv_std = 1.0 / np.sqrt(x.var(axis=axes) + eps)
            dx = _per_channel(np.asarray(gamma) * inv_std, x.ndim) * (
                dout - _per_channel(dbeta / m, x.ndim))
            return dx, dgamma, dbeta
    """),
    "backward_dgamma_over_batch_axis_only": ("batchnorm_backward", {
        "matches_reference", "torch_parity", "finite_differences"}, """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            x = np.asarray(x, dtype=float)
            dout = np.asarray(dout, dtype=float)
            dx, _, dbeta = _ref_backward(dout, x, gamma, eps)
            axes = _reduce_axes(x)
            mu = x.mean(axis=axes)
            x_hat = (x - _per_channel(mu, x.ndim)) / np.sqrt(
                _per_channel(x.var(axis=axes), x.ndim) + eps)
            dgamma = (dout * x_hat).sum(axis=0)
            return dx, dgamma, dbeta
    """),
    "backward_eps_outside_sqrt": ("batchnorm_backward", {
        "matches_reference", "torch_parity"}, """
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            x = np.asarray(x, dtype=float)
            dout = np.asarray(dout, dtype=float)
            gamma = np.asarray(gamma, dtype=float)
            axes = _reduce_axes(x)
            m = _values_per_channel(x)
            if m < 2:
                raise ValueError("m < 2")
            mu = x.mean(axis=axes)
            s = np.sqrt(x.var(axis=axes)) + eps
            x_hat = (x - _per_channel(mu, x.ndim)) / _per_channel(s, x.ndim)
            dbeta = dout.sum(axis=axes)
            dgamma = (dout * x_hat).sum(axis=axes)
            dx = _per_channel(gamma / (m * s), x.ndim) * (
                m * dout - _per_channel(dbeta, x.ndim) - x_hat * _per_channel(dgamma, x.ndim))
            return dx, dgamma, dbeta
    """),
    "backward_unbiased_variance": ("batchnorm_backward", {
        "matches_reference", "torch_parity", "finite_differences"}, """
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            x = np.asarray(x, dtype=float)
            dout = np.asarray(dout, dtype=float)
            gamma = np.asarray(gamma, dtype=float)
            axes = _reduce_axes(x)
            m = _values_per_channel(x)
            if m < 2:
                raise ValueError("m < 2")
            mu = x.mean(axis=axes)
            s = np.sqrt(x.var(axis=axes, ddof=1) + eps)
            x_hat = (x - _per_channel(mu, x.ndim)) / _per_channel(s, x.ndim)
            dbeta = dout.sum(axis=axes)
            dgamma = (dout * x_hat).sum(axis=axes)
            dx = _per_channel(gamma / (m * s), x.ndim) * (
                m * dout - _per_channel(dbeta, x.ndim) - x_hat * _per_channel(dgamma, x.ndim))
            return dx, dgamma, dbeta
    """),
    "backward_scales_dout_in_place": ("batchnorm_backward", {"no_mutation"}, """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            result = _ref_backward(dout, x, gamma, eps)
            dout *= 0.5
            return result
    """),
    "backward_single_value_accepted": ("batchnorm_backward", {"single_value_raises"}, """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            try:
                return _ref_backward(dout, x, gamma, eps)
            except ValueError:
                x = np.asarray(x, dtype=float)
                return np.zeros_like(x), np.zeros(x.shape[1]), np.asarray(dout).sum(
                    axis=_reduce_axes(x))
    """),
}

CORRECT = """
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                      momentum=0.1, eps=1e-5, unbiased_running_var=True):
    # channels last, flattened to (m, C); variance as E[x^2] - E[x]^2
    x = np.asarray(x, dtype=np.float64)
    C = x.shape[1]
    flat = np.moveaxis(x, 1, -1).reshape(-1, C)
    m = flat.shape[0]
    if training:
        if m < 2:
            raise ValueError("need two values per channel")
        mu = flat.sum(axis=0) / m
        var = (flat ** 2).sum(axis=0) / m - mu ** 2
        batch_var = var * m / (m - 1) if unbiased_running_var else var
        new_mean = running_mean + momentum * (mu - running_mean)
        new_var = running_var + momentum * (batch_var - running_var)
    else:
        mu, var = np.asarray(running_mean, float), np.asarray(running_var, float)
        new_mean, new_var = mu.copy(), var.copy()
    out_flat = (flat - mu) * (gamma / np.sqrt(var + eps)) + beta
    out = np.moveaxis(out_flat.reshape(np.moveaxis(x, 1, -1).shape), -1, 1)
    return np.ascontiguousarray(out), new_mean, new_var


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    # the long chain rule through var and mu (no compact formula)
    x = np.asarray(x, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    C = x.shape[1]
    fx = np.moveaxis(x, 1, -1).reshape(-1, C)
    fd = np.moveaxis(dout, 1, -1).reshape(-1, C)
    m = fx.shape[0]
    if m < 2:
        raise ValueError("need two values per channel")
    mu = fx.mean(axis=0)
    xc = fx - mu
    var = (xc ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    xhat = xc / std
    dbeta = fd.sum(axis=0)
    dgamma = (fd * xhat).sum(axis=0)
    dxhat = fd * gamma
    dvar = (dxhat * xc).sum(axis=0) * -0.5 * std ** -3
    dmu = (-dxhat / std).sum(axis=0) + dvar * (-2.0 * xc).mean(axis=0)
    dflat = dxhat / std + dvar * 2.0 * xc / m + dmu / m
    dx = np.moveaxis(dflat.reshape(np.moveaxis(x, 1, -1).shape), -1, 1)
    return np.ascontiguousarray(dx), dgamma, dbeta
"""


def _own(report):
    return [c for c in report.checks if c.id in OWN_IDS or c.id.endswith(".numpy_only")]


@pytest.mark.parametrize("seed", range(5))
def test_reference_gets_full_marks(seed):
    report = grade(REFERENCE, tasks=(TASK,), seed=seed)
    failed = {c.id: c.message for c in report.checks if c.status != "passed"}
    assert not failed, failed


def test_correct_variant_gets_full_marks(tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={TASK: CORRECT})
    for seed in (0, 1):
        report = grade(sub, tasks=(TASK,), seed=seed)
        failed = {c.id: c.message for c in report.checks if c.status != "passed"}
        assert not failed, failed


def test_stubs_are_not_attempted():
    report = grade(STUBS, tasks=(TASK,))
    statuses = {c.id: c.status for c in _own(report)}
    assert statuses and set(statuses.values()) == {"not_attempted"}, statuses


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_loses_points_only_in_its_function(broken, name):
    function, must_fail, source = BROKEN[name]
    report = broken(TASK, source)
    assert_only(report, function)
    failed = {c.id.split(".", 2)[2] for c in report.checks
              if c.function == function and c.status != "passed"}
    missing = {f"{function}.{p}" for p in must_fail} - {f"{function}.{p}" for p in failed}
    assert not missing, f"{name} was not caught by {sorted(missing)} (failed: {sorted(failed)})"
    for c in report.checks:
        if c.status not in ("passed", "failed"):
            assert c.status == "error", (c.id, c.status, c.message)


def test_every_check_is_caught_by_some_broken_implementation():
    caught = {f"{TASK}.{function}.{p}" for function, must, _ in BROKEN.values() for p in must}
    assert OWN_IDS <= caught, sorted(OWN_IDS - caught)


def test_spread_keeps_channel_variance_above_1e_3():
    import numpy as np

    x = np.zeros((3, 4, 2))
    x[:, 1] = 1e-3 * np.arange(6).reshape(3, 2)
    out = checks._spread(x)
    assert np.all(out.var(axis=(0, 2)) > 0.3)

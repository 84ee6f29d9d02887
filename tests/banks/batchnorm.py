"""Deliberately broken batchnorm.py functions: each redefines one function of a copy of the reference.

Every record must lose points in exactly its function, and fail at least the
checks it lists (``tests/test_banks.py``).
"""
from __future__ import annotations

from banks.record import Broken

__all__ = ["BROKEN", "CORRECT"]

BROKEN: tuple[Broken, ...] = (
    Broken('unbiased_variance_in_normalisation', 'batchnorm_forward', ('channel_scales', 'keras_parity', 'torch_parity', 'training_values'), """
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
    Broken('biased_running_var_when_unbiased_asked', 'batchnorm_forward', ('running_statistics', 'torch_parity', 'training_values', 'unbiased_factor'), """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            return _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                momentum, eps, False)
    """),
    Broken('unbiased_running_var_always', 'batchnorm_forward', ('keras_parity', 'running_statistics', 'training_values', 'unbiased_factor'), """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            return _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                momentum, eps, True)
    """),
    Broken('momentum_reversed', 'batchnorm_forward', ('keras_parity', 'running_statistics', 'torch_parity', 'training_values'), """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            return _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                1.0 - momentum, eps, unbiased_running_var)
    """),
    Broken('eps_outside_sqrt', 'batchnorm_forward', ('channel_scales', 'eval_values', 'keras_parity', 'torch_parity', 'training_values'), """
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
    Broken('eval_uses_batch_statistics', 'batchnorm_forward', ('channel_scales', 'eval_values', 'keras_parity', 'torch_parity'), """
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
    Broken('running_mean_updated_in_place', 'batchnorm_forward', ('no_mutation',), """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            out, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                       momentum, eps, unbiased_running_var)
            running_mean[...] = rm
            return out, running_mean.copy(), rv
    """),
    Broken('spatial_statistics_over_batch_axis_only', 'batchnorm_forward', ('keras_parity', 'torch_parity', 'training_values'), """
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
    Broken('unbiased_factor_uses_batch_size', 'batchnorm_forward', ('unbiased_factor',), """
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
    Broken('single_value_batch_accepted', 'batchnorm_forward', ('single_value_raises',), """
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
    Broken('backward_statistics_as_constants', 'batchnorm_backward', ('finite_differences', 'values', 'zero_projections'), """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            x = np.asarray(x, dtype=float)
            _, dgamma, dbeta = _ref_backward(dout, x, gamma, eps)
            inv_std = 1.0 / np.sqrt(x.var(axis=_reduce_axes(x)) + eps)
            dx = np.asarray(dout, dtype=float) * _per_channel(np.asarray(gamma) * inv_std, x.ndim)
            return dx, dgamma, dbeta
    """),
    Broken('backward_without_mean_term', 'batchnorm_backward', ('finite_differences', 'values', 'zero_projections'), """
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
    Broken('backward_without_variance_term', 'batchnorm_backward', ('finite_differences', 'values', 'zero_projections'), """
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
    Broken('backward_dgamma_over_batch_axis_only', 'batchnorm_backward', ('finite_differences', 'values'), """
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
    Broken('backward_eps_outside_sqrt', 'batchnorm_backward', ('values',), """
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
    Broken('backward_unbiased_variance', 'batchnorm_backward', ('finite_differences', 'values'), """
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
    Broken('backward_scales_dout_in_place', 'batchnorm_backward', ('no_mutation',), """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            result = _ref_backward(dout, x, gamma, eps)
            dout *= 0.5
            return result
    """),
    Broken('backward_single_value_accepted', 'batchnorm_backward', ('single_value_raises',), """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            try:
                return _ref_backward(dout, x, gamma, eps)
            except ValueError:
                x = np.asarray(x, dtype=float)
                return np.zeros_like(x), np.zeros(x.shape[1]), np.asarray(dout).sum(
                    axis=_reduce_axes(x))
    """),
)

#: computes the same thing differently: must keep full marks
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

BROKEN += (
    # the keepdims=True habit: exact maths, (1, C) statistics; one place only
    Broken('forward_keepdims_statistics', 'batchnorm_forward', ('shape_dtype',), """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            out, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                       momentum, eps, unbiased_running_var)
            return out, rm.reshape(1, -1), rv.reshape(1, -1)
    """),
    Broken('backward_keepdims_parameters', 'batchnorm_backward', ('shape_dtype',), """
        _ref_backward = batchnorm_backward
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            dx, dgamma, dbeta = _ref_backward(dout, x, gamma, eps)
            return dx, dgamma.reshape(1, -1), dbeta.reshape(1, -1)
    """),
    Broken('eval_returns_running_arrays', 'batchnorm_forward', ('no_mutation',), """
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            out, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                       momentum, eps, unbiased_running_var)
            if not training:
                return out, running_mean, running_var
            return out, rm, rv
    """),
)

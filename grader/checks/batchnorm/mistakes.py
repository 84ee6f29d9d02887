"""The catalogue of known batch-norm mistakes, computed with torch, and the hints naming them.

A value check that failed asks :func:`forward_hint` or :func:`backward_hint`
which known mistake reproduces the values it got (within 1e-6 relative), and
hints at that one (a :class:`~grader.check.Diagnosis` naming it); only when
none does it give the general rule. Each
mistake is computed with torch (``F.batch_norm`` with the wrong statistics,
or autograd through a forward pass with one path cut).
"""
from __future__ import annotations

import math

import numpy as np

from grader.check import Diagnosis
from grader.oracles.batchnorm import reduce_axes, values_per_channel

__all__ = ["FORWARD_RULE", "BACKWARD_RULE", "forward_hint", "backward_hint"]

FORWARD_RULE = ("Training: normalise with the batch mean and the biased variance (divide by "
                "m), eps inside the square root, statistics over every axis except 1; "
                "running = (1 - momentum) * old + momentum * batch statistic. Evaluation: "
                "normalise with the running statistics and return them unchanged.")
BACKWARD_RULE = ("dx = gamma / (m * s) * (m * dout - sum(dout) - x_hat * sum(dout * x_hat)), "
                 "sums per channel over every axis except 1 (m values), s = sqrt(var + eps) "
                 "with the biased variance; dgamma = sum(dout * x_hat), dbeta = sum(dout).")


def _t(a):
    import torch

    return torch.tensor(np.asarray(a, dtype=np.float64))


def _normalise(x, mean, var, gamma, beta, eps) -> np.ndarray:
    import torch.nn.functional as F

    return F.batch_norm(_t(x), _t(mean), _t(var), weight=_t(gamma), bias=_t(beta),
                        training=False, eps=eps).numpy()


def _batch_stats(x, correction: int = 0):
    import torch

    var, mean = torch.var_mean(_t(x), dim=reduce_axes(np.ndim(x)), correction=correction)
    return mean.numpy(), var.numpy()


def _forward_outs(case: dict) -> list[tuple[str, str, np.ndarray]]:
    """(mistake, hint, out) of the known mistakes of ``out`` for this case."""
    x, g, b, eps = case["x"], case["gamma"], case["beta"], case["eps"]
    mean, var = _batch_stats(x)
    rm, rv = case["running_mean"], case["running_var"]
    out = []
    if case["training"]:
        if values_per_channel(x.shape) > 1:
            _, unbiased = _batch_stats(x, correction=1)
            out.append(("unbiased variance in the normalisation",
                        "The output is normalised with the unbiased variance (divided by "
                        "m - 1); normalise with the biased one (divided by m) and keep the "
                        "unbiased one for the running variance only.",
                        _normalise(x, mean, unbiased, g, b, eps)))
        out.append(("running statistics used in training",
                    "In training mode the output is normalised with the running statistics; "
                    "use the batch mean and variance there.", _normalise(x, rm, rv, g, b, eps)))
        outside = (np.sqrt(var) + eps) ** 2 - eps
        out.append(("eps outside the square root",
                    "eps belongs inside the square root: (x - mu) / sqrt(var + eps), not "
                    "(x - mu) / (sqrt(var) + eps).", _normalise(x, mean, outside, g, b, eps)))
        if x.ndim > 2 and x.shape[0] > 1:
            import torch.nn.functional as F

            k = math.prod(x.shape[2:])
            flat = F.batch_norm(_t(x.reshape(x.shape[0], -1)), None, None,
                                weight=_t(np.repeat(g, k)), bias=_t(np.repeat(b, k)),
                                training=True, eps=eps).numpy().reshape(x.shape)
            out.append(("statistics over the batch axis only",
                        "The statistics are taken over the batch axis only: for x of shape "
                        "(N, C, *spatial) every position of a channel is one of its m = "
                        "N * prod(spatial) values; reduce over axis 0 and the spatial axes.",
                        flat))
    else:
        out.append(("batch statistics used in evaluation mode",
                    "In evaluation mode (training=False) normalise with running_mean and "
                    "running_var, not with the statistics of the batch.",
                    _normalise(x, mean, var, g, b, eps)))
        outside = (np.sqrt(rv) + eps) ** 2 - eps
        out.append(("eps outside the square root",
                    "eps belongs inside the square root: (x - mu) / sqrt(var + eps), not "
                    "(x - mu) / (sqrt(var) + eps).", _normalise(x, rm, outside, g, b, eps)))
    return out


def _running(case: dict) -> list[tuple[str, str, str, np.ndarray]]:
    """(output name, mistake, hint, value) of the known mistakes of the running statistics."""
    if not case["training"]:
        return [("new_running_mean", "running statistics changed in evaluation mode",
                 "In evaluation mode the running statistics are returned unchanged (as new "
                 "arrays).", case["running_mean"])]
    x, mom = case["x"], case["momentum"]
    rm, rv = case["running_mean"], case["running_var"]
    mean, biased = _batch_stats(x)
    m = values_per_channel(x.shape)
    unbiased = biased * m / (m - 1)
    fed = unbiased if case["unbiased_running_var"] else biased
    reversed_hint = ("momentum is the weight of the new batch statistic: new = "
                     "(1 - momentum) * old + momentum * batch statistic.")
    out = [("new_running_mean", "momentum reversed", reversed_hint,
            mom * rm + (1 - mom) * mean),
           ("new_running_var", "momentum reversed", reversed_hint,
            mom * rv + (1 - mom) * fed),
           ("new_running_mean", "running statistics not updated in training",
            "Training mode updates the running statistics: new = (1 - momentum) * old + "
            "momentum * batch statistic.", rm)]
    if case["unbiased_running_var"]:
        out.append(("new_running_var", "biased running variance where the unbiased one is "
                    "asked", "With unbiased_running_var=True (PyTorch) the running "
                    "variance is fed the unbiased batch variance: times m/(m-1), m = "
                    "N * prod(spatial).", (1 - mom) * rv + mom * biased))
        if x.ndim > 2 and x.shape[0] > 1:
            n = x.shape[0]
            out.append(("new_running_var", "unbiased factor N/(N-1) instead of m/(m-1)",
                        "The unbiased factor is m/(m-1) with m = N * prod(spatial), the "
                        "number of values per channel, not N.",
                        (1 - mom) * rv + mom * biased * n / (n - 1)))
    else:
        out.append(("new_running_var", "unbiased running variance where the biased one is asked",
                    "With unbiased_running_var=False (Keras) the running variance is fed the "
                    "biased batch variance (divided by m).", (1 - mom) * rv + mom * unbiased))
    return out


def _matches(got: np.ndarray, alt: np.ndarray) -> bool:
    alt = np.asarray(alt, dtype=np.float64)
    if alt.shape != got.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(alt), initial=0.0)))
    return bool(np.all(np.abs(got - alt) <= 1e-6 * scale))


def _fitting(found: list[tuple[str, str]], otherwise: str) -> Diagnosis:
    """The hint of the one (mistake, hint) that fits; several that fit are all listed and
    none is named (the input cannot tell them apart); none: ``otherwise``."""
    if len(found) == 1:
        return Diagnosis(found[0][1], found[0][0])
    if found:
        return Diagnosis("On this input your answer fits more than one mistake. "
                         + " Or: ".join(hint for _, hint in found))
    return Diagnosis(otherwise)


def forward_hint(name: str, got: tuple, case: dict, extra: str = "") -> Diagnosis:
    """The hint of the known mistake that reproduces output ``name`` of ``got`` (several:
    all listed, none named)."""
    index = ("out", "new_running_mean", "new_running_var").index(name)
    try:
        if name == "out":
            candidates = _forward_outs(case)
        else:
            candidates = [(m, h, v) for n, m, h, v in _running(case) if n == name]
        found = list(dict.fromkeys((mistake, hint) for mistake, hint, alt in candidates
                                   if _matches(got[index], alt)))
    except Exception:  # noqa: BLE001 - a hint must never break a verdict
        found = []
    return _fitting(found, (extra + " " if extra else "") + FORWARD_RULE)


def _backward_variants(case: dict) -> list[tuple[str, tuple]]:
    import torch

    x, dout, gamma, eps = case["x"], case["dout"], case["gamma"], case["eps"]
    axes = reduce_axes(x.ndim)
    shape = (1, -1) + (1,) * (x.ndim - 2)

    def grads(cut_mean=False, cut_var=False, outside=False, correction=0):
        tx = _t(x).requires_grad_(True)
        tg = _t(gamma).requires_grad_(True)
        tb = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        var, mean = torch.var_mean(tx, dim=axes, correction=correction, keepdim=True)
        mean = mean.detach() if cut_mean else mean
        var = var.detach() if cut_var else var
        s = torch.sqrt(var) + eps if outside else torch.sqrt(var + eps)
        out = tg.reshape(shape) * (tx - mean) / s + tb.reshape(shape)
        out.backward(_t(dout))
        return tx.grad.numpy(), tg.grad.numpy(), tb.grad.numpy()

    out = [("the batch statistics treated as constants",
            "dx treats the batch mean and variance as constants (gamma * dout / s is the "
            "gradient of the evaluation mode): every x_i also moves mu and var, which gives "
            "dx = gamma / (m s) (m dout - sum(dout) - x_hat sum(dout x_hat)).",
            grads(cut_mean=True, cut_var=True)),
           ("the path through the batch mean missing",
            "dx is missing the path through the batch mean: subtract sum(dout * gamma) / m "
            "(every x_i moves mu).", grads(cut_mean=True)),
           ("the path through the batch variance missing",
            "dx is missing the path through the batch variance: subtract x_hat * "
            "sum(dout * gamma * x_hat) / m (every x_i moves var).", grads(cut_var=True)),
           ("eps outside the square root",
            "eps belongs inside the square root: s = sqrt(var + eps).", grads(outside=True))]
    if values_per_channel(x.shape) > 1:
        out.append(("unbiased variance in the normalisation",
                    "The forward pass being differentiated normalises with the biased "
                    "variance (divided by m), not the unbiased one.", grads(correction=1)))
    return out


def backward_hint(name: str, got: tuple, case: dict) -> Diagnosis:
    """The mistakes whose gradient equals the student's on this case; an input can fit
    several, and then the hint lists them and names none (the class counts named ones)."""
    index = ("dx", "dgamma", "dbeta").index(name)
    try:
        found = [(mistake, hint) for mistake, hint, alt in _backward_variants(case)
                 if _matches(got[index], alt[index])]
    except Exception:  # noqa: BLE001
        found = []
    return _fitting(found, BACKWARD_RULE)

"""Checks of batchnorm.py (SPEC §2): ``batchnorm_forward`` and ``batchnorm_backward``.

Expected values come from four independent sources, all in float64: the
reference (``reference/batchnorm.py``), ``torch.nn.functional.batch_norm`` and
torch autograd, ``keras.layers.BatchNormalization(dtype="float64")``, and
centred finite differences of the reference forward pass.

Tolerances. Every comparison is ``|got - expected| <= rtol * (|expected| +
scale)``, where ``scale`` is the size of the terms the value is computed from
(for ``out``: ``|gamma| * max|x_hat| + |beta|`` of its channel; for a running
mean ``|old| + max|x|``; for a running variance ``|old| + mean(x^2) m/(m-1)``;
for ``dx``: ``|gamma| / s * max|dout| * (1 + max|x_hat|^2)`` of its channel). The inputs
keep ``|x| <= 11`` and every channel's variance above 1e-3, so even the
cancellation-prone ``E[x^2] - E[x]^2`` loses at most ``~1e5`` ulps
(relative ``~3e-11``); ``rtol = 1e-7`` is more than 1000 times that, while
every bug these checks target changes a value by ``1e-6`` (``eps`` moved
outside the root on a channel of variance 1e2) to ``O(1)`` relative.
"""
from __future__ import annotations

import math
import os

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference.batchnorm as ref
from grader.check import Check, CheckFailed, expect_array, fmt_shape
from grader.properties import for_all
from grader.student import StudentRaised

__all__ = ["CHECKS"]

NDIMS = (2, 3, 4)
RTOL = 1e-7  # float64 round-off here stays below ~3e-11 relative (module docstring)
FD_STEP = 1e-5
FD_RTOL = 1e-7
_SAFE = ("Compute in float64; round-off stays below 1e-10 relative here, so the tolerance "
         f"{RTOL:g} only fails a real error.")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _axes(ndim: int) -> tuple[int, ...]:
    return (0,) + tuple(range(2, ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return np.asarray(v).reshape((1, -1) + (1,) * (ndim - 2))


def _m(shape) -> int:
    return int(shape[0] * math.prod(shape[2:]))


def _x_hat(x: np.ndarray, mu: np.ndarray, var: np.ndarray, eps: float) -> np.ndarray:
    return (x - _per_channel(mu, x.ndim)) / np.sqrt(_per_channel(var, x.ndim) + eps)


def _close(got: np.ndarray, expected: np.ndarray, scale, rtol: float, what: str,
           context: str, hint: str = "") -> None:
    """Raise CheckFailed unless ``|got - expected| <= rtol (|expected| + scale)``."""
    expected = np.asarray(expected, dtype=np.float64)
    err = np.abs(np.asarray(got, dtype=np.float64) - expected)
    bound = rtol * (np.abs(expected) + np.broadcast_to(scale, expected.shape))
    bad = err > bound
    if np.any(bad):
        worst = np.unravel_index(int(np.argmax(np.where(bad, err / np.maximum(bound, 1e-300),
                                                        0.0))), expected.shape)
        where = f" at index {tuple(int(i) for i in worst)}" if expected.ndim else ""
        raise CheckFailed(
            f"{what}{where}: expected {expected[worst]:.10g}, got {float(got[worst]):.10g} "
            f"(|difference| {err[worst]:.3g} > tolerance {bound[worst]:.3g}; "
            f"{int(bad.sum())} of {bad.size} values off; {context}). " + _SAFE, hint)


def _forward_value(value, shape, C: int, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise CheckFailed(f"{what} should return (out, new_running_mean, new_running_var); "
                          f"got {type(value).__name__}"
                          + (f" of length {len(value)}" if isinstance(value, (tuple, list))
                             else ""))
    out = expect_array(value[0], f"{what} (out)", shape=shape)
    rm = expect_array(value[1], f"{what} (new_running_mean)", shape=(C,))
    rv = expect_array(value[2], f"{what} (new_running_var)", shape=(C,))
    return out, rm, rv


def _backward_value(value, shape, C: int, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise CheckFailed(f"{what} should return (dx, dgamma, dbeta); got "
                          f"{type(value).__name__}")
    dx = expect_array(value[0], f"{what} (dx)", shape=shape)
    dgamma = expect_array(value[1], f"{what} (dgamma)", shape=(C,))
    dbeta = expect_array(value[2], f"{what} (dbeta)", shape=(C,))
    return dx, dgamma, dbeta


def _spread(x: np.ndarray) -> np.ndarray:
    """Add a ramp to every channel whose variance is below 1e-3 (then it is above 0.3)."""
    x = np.array(x, dtype=np.float64)
    moved = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])  # (m, C) view of a copy
    m = moved.shape[0]
    ramp = np.linspace(-1.0, 1.0, m)
    for c in range(x.shape[1]):
        if moved[:, c].var() < 1e-3:
            moved[:, c] += ramp
    return np.moveaxis(moved.reshape(np.moveaxis(x, 1, -1).shape), -1, 1).copy()


# ---------------------------------------------------------------------------
# what an example is, and how its expected values are judged
# ---------------------------------------------------------------------------

_VALUES = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def _forward_cases(draw, ndim: int, training=None, unbiased=None,
                   eps=(0.0, 1e-5, 1e-3, 0.1)):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(ndim - 2))
    is_training = draw(st.booleans()) if training is None else training
    if is_training and n * math.prod(spatial) < 2:
        n = 2
    shape = (n, c) + spatial
    x = _spread(draw(hnp.arrays(np.float64, shape, elements=_VALUES)))

    def vec(lo, hi):
        return draw(hnp.arrays(np.float64, (c,), elements=st.floats(
            lo, hi, allow_nan=False, allow_subnormal=False)))

    return {
        "x": x, "gamma": vec(-3.0, 3.0), "beta": vec(-3.0, 3.0),
        "running_mean": vec(-5.0, 5.0), "running_var": vec(1e-3, 10.0),
        "training": is_training,
        "momentum": draw(st.floats(0.0, 1.0, allow_subnormal=False)),
        "eps": draw(st.sampled_from(eps)),
        "unbiased_running_var": draw(st.booleans()) if unbiased is None else unbiased,
    }


def _describe(case: dict) -> str:
    return (f"x of shape {fmt_shape(case['x'].shape)}, training={case['training']}, "
            f"momentum={case['momentum']:.6g}, eps={case['eps']:g}, "
            f"unbiased_running_var={case['unbiased_running_var']}")


def _forward_scales(case: dict):
    """The ``scale`` of out, new_running_mean and new_running_var (module docstring)."""
    x = case["x"]
    axes = _axes(x.ndim)
    if case["training"]:
        mu = x.mean(axis=axes)
        var = ((x - _per_channel(mu, x.ndim)) ** 2).mean(axis=axes)
    else:
        mu, var = case["running_mean"], case["running_var"]
    x_hat = _x_hat(x, mu, var, case["eps"])
    out_scale = _per_channel(np.abs(case["gamma"]) * np.abs(x_hat).max(axis=axes)
                             + np.abs(case["beta"]), x.ndim)
    m = _m(x.shape)
    mean_scale = np.abs(case["running_mean"]) + np.abs(x).max(axis=axes)
    var_scale = np.abs(case["running_var"]) + (x * x).mean(axis=axes) * m / max(m - 1, 1)
    return out_scale, mean_scale, var_scale


def _judge_forward(value, case: dict, expected, what: str, rtol: float = RTOL,
                   hint: str = "") -> None:
    x = case["x"]
    out, rm, rv = _forward_value(value, x.shape, x.shape[1], what)
    out_scale, mean_scale, var_scale = _forward_scales(case)
    context = _describe(case)
    _close(out, expected[0], out_scale, rtol, f"{what}: out", context, hint)
    _close(rm, expected[1], mean_scale, rtol, f"{what}: new_running_mean", context, hint)
    _close(rv, expected[2], var_scale, rtol, f"{what}: new_running_var", context, hint)


def _reference_forward(case: dict):
    return ref.batchnorm_forward(**case)


_FORWARD_HINT = ("Training: normalise with the batch mean and the biased variance (divide by "
                 "m), eps inside the square root, statistics over every axis except 1; "
                 "running = (1 - momentum) * old + momentum * batch statistic. Evaluation: "
                 "normalise with the running statistics and return them unchanged.")


# ---------------------------------------------------------------------------
# batchnorm_forward
# ---------------------------------------------------------------------------

def _forward_matches_reference(training: bool):
    def run(student, rng) -> str:
        def prop(case):
            _judge_forward(student(**case), case, _reference_forward(case),
                           "batchnorm_forward", hint=_FORWARD_HINT)
        for ndim in NDIMS:  # (N, C), (N, C, L) and (N, C, H, W), each covered
            for_all(_forward_cases(ndim, training=training), prop, max_examples=17)
        return ""
    return run


def _torch_forward(case: dict):
    import torch
    import torch.nn.functional as F

    rm = torch.tensor(case["running_mean"], dtype=torch.float64)
    rv = torch.tensor(case["running_var"], dtype=torch.float64)
    out = F.batch_norm(torch.tensor(case["x"], dtype=torch.float64), rm, rv,
                       weight=torch.tensor(case["gamma"], dtype=torch.float64),
                       bias=torch.tensor(case["beta"], dtype=torch.float64),
                       training=case["training"], momentum=case["momentum"], eps=case["eps"])
    return out.numpy().copy(), rm.numpy().copy(), rv.numpy().copy()


def _forward_torch_parity(student, rng) -> str:
    def prop(case):
        _judge_forward(student(**case), case, _torch_forward(case),
                       "batchnorm_forward vs torch.nn.functional.batch_norm (float64)",
                       hint=_FORWARD_HINT + " PyTorch feeds the unbiased batch variance "
                       "(times m/(m-1)) to the running variance.")
    # torch refuses eps = 0 in training mode
    for ndim in NDIMS:
        for_all(_forward_cases(ndim, unbiased=True, eps=(1e-5, 1e-3, 0.1)), prop,
                 max_examples=10)
    return ""


def _keras_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for shape, eps in (((6, 3), 1e-3), ((4, 3, 5, 2), 1e-3), ((3, 7, 4), 1e-5),
                       ((2, 2, 2, 4), 1e-5)):
        c = shape[-1]
        scale = np.exp(rng.uniform(np.log(0.05), np.log(5.0), c))
        x = rng.uniform(-3, 3, c) + scale * rng.standard_normal(shape)
        cases.append({"x_last": x, "gamma": rng.uniform(-2, 2, c), "beta": rng.uniform(-2, 2, c),
                      "mean": rng.uniform(-2, 2, c), "var": rng.uniform(0.2, 3.0, c),
                      "momentum": float(rng.uniform(0.01, 0.9)), "eps": eps})
    return cases


def _forward_keras_parity(student, rng) -> str:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    for k in _keras_cases(rng):
        x_last = k["x_last"]
        layer = keras.layers.BatchNormalization(axis=-1, momentum=1.0 - k["momentum"],
                                                epsilon=k["eps"], dtype="float64")
        layer.build(x_last.shape)
        layer.set_weights([k["gamma"], k["beta"], k["mean"], k["var"]])
        keras_train = np.asarray(layer(x_last, training=True), dtype=np.float64)
        moving = (np.asarray(layer.moving_mean, dtype=np.float64),
                  np.asarray(layer.moving_variance, dtype=np.float64))
        keras_eval = np.asarray(layer(x_last, training=False), dtype=np.float64)
        x = np.moveaxis(x_last, -1, 1).copy()
        for training, old, expected_out, expected_stats in (
                (True, (k["mean"], k["var"]), keras_train, moving),
                (False, moving, keras_eval, moving)):
            case = {"x": x, "gamma": k["gamma"], "beta": k["beta"], "running_mean": old[0],
                    "running_var": old[1], "training": training, "momentum": k["momentum"],
                    "eps": k["eps"], "unbiased_running_var": False}
            expected = (np.moveaxis(expected_out, -1, 1), expected_stats[0], expected_stats[1])
            _judge_forward(student(**case), case, expected,
                           "batchnorm_forward vs keras.layers.BatchNormalization(momentum="
                           f"{1.0 - k['momentum']:.4g}, epsilon={k['eps']:g}) on channels-last "
                           "data moved to axis 1",
                           hint="Keras' momentum is 1 - this momentum and Keras feeds the "
                           "biased batch variance to the moving variance "
                           "(unbiased_running_var=False).")
    return ""


def _sequence_batches() -> list[np.ndarray]:
    g = np.random.default_rng(20240611)
    means = np.array([0.5, -3.0, 20.0])
    stds = np.sqrt(np.array([1e-3, 1.0, 1e2]))
    return [means + stds * g.standard_normal((n, 3)) for n in (2, 3, 5)]


def _forward_running_sequence(student, rng) -> str:
    gamma, beta = np.array([1.5, -0.7, 2.0]), np.array([0.1, 0.2, -0.3])
    for momentum, unbiased in ((0.1, True), (0.3, False)):
        rm, rv = np.zeros(3), np.zeros(3)
        for step, x in enumerate(_sequence_batches(), start=1):
            case = {"x": x, "gamma": gamma, "beta": beta, "running_mean": rm,
                    "running_var": rv, "training": True, "momentum": momentum, "eps": 1e-5,
                    "unbiased_running_var": unbiased}
            value = student(**case)
            _judge_forward(value, case, _reference_forward(case),
                           f"batchnorm_forward, training step {step} of 3 from zero running "
                           f"statistics (batch size {x.shape[0]}, so m/(m-1) = "
                           f"{x.shape[0] / (x.shape[0] - 1):g})",
                           hint="new = (1 - momentum) * old + momentum * batch statistic: from "
                           "zero the first step gives momentum * mu, not (1 - momentum) * mu. "
                           "The running variance gets the unbiased batch variance "
                           "(times m/(m-1)) only when unbiased_running_var is True.")
            rm, rv = np.asarray(value[1], dtype=np.float64), np.asarray(value[2], dtype=np.float64)
    return ""


def _forward_unbiased_factor(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((2, 3), (3, 3), (5, 3), (1, 3, 1, 3), (2, 3, 2, 2)):
        x = g.standard_normal(shape) * _per_channel(np.array([1.0, 3.0, 0.2]), len(shape))
        m = _m(shape)
        biased = x.var(axis=_axes(len(shape)))
        for unbiased in (True, False):
            factor = m / (m - 1) if unbiased else 1.0
            _, _, rv = _forward_value(student(x, np.ones(3), np.zeros(3), np.zeros(3),
                                              np.zeros(3), training=True, momentum=1.0,
                                              eps=0.0, unbiased_running_var=unbiased),
                                      shape, 3, "batchnorm_forward")
            got = rv / biased
            if np.any(np.abs(got - factor) > 1e-9 * factor):
                c = int(np.argmax(np.abs(got - factor)))
                raise CheckFailed(
                    f"with momentum=1 and zero running statistics, new_running_var must be "
                    f"the batch variance times {factor:g} (m = {m} values per channel for x of "
                    f"shape {fmt_shape(shape)}, unbiased_running_var={unbiased}); got "
                    f"{got[c]:.10g} times the biased variance in channel {c} (tolerance "
                    f"1e-9 relative: the ratio of two float64 values computed in a few "
                    f"operations)",
                    "Unbiased means multiplied by m/(m-1) with m = N * prod(spatial), the "
                    "number of values per channel (not N); biased (Keras) means divided by m."
                    if unbiased else "With unbiased_running_var=False the running variance "
                    "gets the biased batch variance (divided by m), as Keras does.")
    return ""


def _channel_scales_case(training: bool, eps: float) -> dict:
    g = np.random.default_rng(31415)
    z = g.standard_normal((8, 3))
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    variances = np.array([1e-3, 1.0, 1e2])
    means = np.array([0.5, -3.0, 20.0])
    return {"x": means + np.sqrt(variances) * z, "gamma": np.array([1.5, -0.7, 2.0]),
            "beta": np.array([0.1, 0.2, -0.3]), "running_mean": means + 0.1,
            "running_var": variances * 1.2, "training": training, "momentum": 0.1,
            "eps": eps, "unbiased_running_var": True}


def _forward_channel_scales(student, rng) -> str:
    for training in (True, False):
        for eps in (1e-5, 1e-3):
            case = _channel_scales_case(training, eps)
            value = student(**case)
            out = _forward_value(value, case["x"].shape, 3, "batchnorm_forward")[0]
            expected = _reference_forward(case)[0]
            rel = np.abs(out - expected).max(axis=0) / np.abs(expected).max(axis=0)
            if np.any(rel > RTOL):
                c = int(np.argmax(rel))
                raise CheckFailed(
                    f"batchnorm_forward (training={training}, eps={eps:g}) on three channels "
                    f"of variance 1e-3, 1 and 1e2: out is off by a relative {rel[c]:.3g} in "
                    f"channel {c} (variance {case['running_var'][c] / 1.2:g}); per-channel "
                    f"relative errors {', '.join(f'{r:.2g}' for r in rel)}, tolerance "
                    f"{RTOL:g} ({_SAFE})",
                    "eps belongs inside the square root: (x - mu) / sqrt(var + eps); a "
                    "channel of variance 1e-3 shows eps placed elsewhere. Training uses the "
                    "biased batch variance, evaluation the running statistics.")
    return ""


def _forward_no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for training, shape in ((True, (4, 3)), (True, (3, 3, 2, 2)), (False, (4, 3)),
                            (False, (2, 3, 2, 2))):
        args = (g.standard_normal(shape), g.uniform(0.5, 2, 3), g.standard_normal(3),
                g.standard_normal(3), g.uniform(0.5, 2, 3))
        call = student.call(*args, training=training, momentum=0.3)
        if call.raised is not None:
            raise StudentRaised(call.raised, f"batchnorm_forward on x of shape "
                                f"{fmt_shape(shape)}, training={training}")
        if call.mutated:
            names = ["x", "gamma", "beta", "running_mean", "running_var"]
            which = [names[int(p.split("[")[2].rstrip("]"))] if p.startswith("input[0][")
                     else p for p in call.mutated]
            raise CheckFailed(
                f"batchnorm_forward (training={training}, x of shape {fmt_shape(shape)}) "
                f"modified its argument(s) {', '.join(which)}; SPEC: no argument is mutated",
                "Return new arrays (e.g. new_mean = (1 - momentum) * running_mean + ...), do "
                "not update running_mean / running_var in place (+=, *=, [...] =).")
    return ""


def _forward_single_value(student, rng) -> str:
    for shape in ((1, 3), (1, 3, 1, 1)):
        x = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
        args = (x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
        call = student.call(*args, training=True)
        if call.raised is None or not call.raised.is_a("ValueError"):
            got = "returned normally" if call.raised is None else f"raised {call.raised.type}"
            raise CheckFailed(
                f"batchnorm_forward in training mode on x of shape {fmt_shape(shape)} (one "
                f"value per channel, m = 1) should raise ValueError, as PyTorch does; it {got}",
                "Check m = N * prod(spatial) < 2 in training mode and raise ValueError.")
        call = student.call(*args, training=False)
        if call.raised is not None:
            raise CheckFailed(
                f"batchnorm_forward in evaluation mode on x of shape {fmt_shape(shape)} "
                f"should work (it uses the running statistics); it raised {call.raised.type}: "
                f"{call.raised.message}",
                "Only training mode needs more than one value per channel.")
    return ""


# ---------------------------------------------------------------------------
# batchnorm_backward
# ---------------------------------------------------------------------------

@st.composite
def _backward_cases(draw, ndim: int, eps=(0.0, 1e-5, 1e-3, 0.1)):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(ndim - 2))
    if n * math.prod(spatial) < 2:
        n = 2
    shape = (n, c) + spatial
    x = _spread(draw(hnp.arrays(np.float64, shape, elements=_VALUES)))
    dout = draw(hnp.arrays(np.float64, shape, elements=st.floats(
        -5.0, 5.0, allow_nan=False, allow_subnormal=False)))
    gamma = draw(hnp.arrays(np.float64, (c,), elements=st.floats(
        -3.0, 3.0, allow_nan=False, allow_subnormal=False)))
    return {"dout": dout, "x": x, "gamma": gamma,
            "eps": draw(st.sampled_from(eps))}


def _backward_scales(case: dict):
    x, dout, gamma, eps = case["x"], case["dout"], case["gamma"], case["eps"]
    axes = _axes(x.ndim)
    mu = x.mean(axis=axes)
    var = ((x - _per_channel(mu, x.ndim)) ** 2).mean(axis=axes)
    x_hat = _x_hat(x, mu, var, eps)
    s = np.sqrt(var + eps)
    dx_scale = (np.abs(gamma) / s * np.abs(dout).max(axis=axes)
                * (1.0 + np.abs(x_hat).max(axis=axes) ** 2))
    return (_per_channel(dx_scale, x.ndim), np.abs(dout * x_hat).sum(axis=axes),
            np.abs(dout).sum(axis=axes))


_BACKWARD_HINT = ("dx = gamma / (m * s) * (m * dout - sum(dout) - x_hat * sum(dout * x_hat)), "
                  "sums per channel over every axis except 1 (m values), s = sqrt(var + eps) "
                  "with the biased variance; dgamma = sum(dout * x_hat), dbeta = sum(dout).")


def _judge_backward(value, case: dict, expected, what: str, rtol: float = RTOL) -> None:
    x = case["x"]
    got = _backward_value(value, x.shape, x.shape[1], what)
    scales = _backward_scales(case)
    context = f"x of shape {fmt_shape(x.shape)}, eps={case['eps']:g}"
    for name, g, e, s in zip(("dx", "dgamma", "dbeta"), got, expected, scales):
        _close(g, e, s, rtol, f"{what}: {name}", context, _BACKWARD_HINT)


def _backward_matches_reference(student, rng) -> str:
    def prop(case):
        _judge_backward(student(**case), case, ref.batchnorm_backward(**case),
                        "batchnorm_backward")
    for ndim in NDIMS:
        for_all(_backward_cases(ndim), prop, max_examples=17)
    return ""


def _torch_backward(case: dict):
    import torch
    import torch.nn.functional as F

    x = torch.tensor(case["x"], dtype=torch.float64, requires_grad=True)
    gamma = torch.tensor(case["gamma"], dtype=torch.float64, requires_grad=True)
    beta = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    out = F.batch_norm(x, None, None, weight=gamma, bias=beta, training=True, eps=case["eps"])
    out.backward(torch.tensor(case["dout"], dtype=torch.float64))
    return x.grad.numpy().copy(), gamma.grad.numpy().copy(), beta.grad.numpy().copy()


def _backward_torch_parity(student, rng) -> str:
    def prop(case):
        _judge_backward(student(**case), case, _torch_backward(case),
                        "batchnorm_backward vs torch autograd of "
                        "torch.nn.functional.batch_norm (float64, training)")
    # torch refuses eps = 0 in training mode
    for ndim in NDIMS:
        for_all(_backward_cases(ndim, eps=(1e-5, 1e-3, 0.1)), prop, max_examples=10)
    return ""


def _fd_gradients(dout, x, gamma, beta, eps):
    """Centred differences of L = sum(dout * out) through the reference forward pass."""
    C = x.shape[1]

    def loss(x_, gamma_, beta_):
        out, _, _ = ref.batchnorm_forward(x_, gamma_, beta_, np.zeros(C), np.ones(C),
                                          training=True, eps=eps)
        return float(np.sum(dout * out))

    def grad(which, arr):
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += FD_STEP
            minus[idx] -= FD_STEP
            args_p = [x, gamma, beta]
            args_m = [x, gamma, beta]
            args_p[which], args_m[which] = plus, minus
            g[idx] = (loss(*args_p) - loss(*args_m)) / (2 * FD_STEP)
        return g

    return grad(0, x), grad(1, gamma), grad(2, beta)


def _backward_finite_differences(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((6, 3), (4, 2, 3), (2, 3, 2, 2)):
        C = shape[1]
        x = (_per_channel(g.uniform(-2, 2, C), len(shape))
             + _per_channel(g.uniform(0.7, 1.5, C), len(shape)) * g.standard_normal(shape))
        dout, gamma, beta = g.standard_normal(shape), g.uniform(0.5, 2, C), g.standard_normal(C)
        eps = 1e-5
        numeric = _fd_gradients(dout, x, gamma, beta, eps)
        got = _backward_value(student(dout, x, gamma, eps=eps), shape, C, "batchnorm_backward")
        for name, a, b in zip(("dx", "dgamma", "dbeta"), got, numeric):
            err = float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
            if not err < FD_RTOL:
                raise CheckFailed(
                    f"batchnorm_backward on x of shape {fmt_shape(shape)}: {name} differs from "
                    f"centred finite differences (h={FD_STEP:g}) of the training-mode forward "
                    f"pass by max|got - numeric| / max|numeric| = {err:.3g}, above "
                    f"{FD_RTOL:g}. With channel standard deviations near 1 the finite "
                    f"difference itself is accurate to ~1e-9 here (O(h^2) truncation ~1e-10, "
                    f"rounding ~1e-16 * |loss| / h), so this is an error in the gradient",
                    _BACKWARD_HINT + " dx must include the paths through the batch mean and "
                    "the batch variance.")
    return ""


def _backward_zero_projections(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((5, 3), (3, 3, 4), (2, 3, 2, 3)):
        C, axes = shape[1], _axes(len(shape))
        x = g.standard_normal(shape) * _per_channel(g.uniform(0.1, 10, C), len(shape))
        dout, gamma = g.standard_normal(shape), g.uniform(0.5, 2, C)
        dx = _backward_value(student(dout, x, gamma, eps=0.0), shape, C,
                             "batchnorm_backward")[0]
        mu = x.mean(axis=axes)
        var = ((x - _per_channel(mu, x.ndim)) ** 2).mean(axis=axes)
        x_hat = _x_hat(x, mu, var, 0.0)
        # round-off bound: every dx term is at most |gamma|/s * |dout| * (1 + x_hat^2)
        term = np.abs(gamma) / np.sqrt(var) * np.abs(dout).max(axis=axes) * \
            (1 + np.abs(x_hat).max(axis=axes) ** 2) * _m(shape)
        for name, weight in (("sum(dx)", np.ones_like(x)), ("sum(dx * x_hat)", x_hat)):
            total = (dx * weight).sum(axis=axes)
            bound = 1e-10 * term * np.abs(weight).max(axis=axes)
            if np.any(np.abs(total) > bound):
                c = int(np.argmax(np.abs(total) / bound))
                raise CheckFailed(
                    f"with eps=0 the normalisation ignores shifts and rescalings of a channel, "
                    f"so {name} must be 0 in every channel; batchnorm_backward on x of shape "
                    f"{fmt_shape(shape)} gives {total[c]:.3g} in channel {c} (tolerance "
                    f"{bound[c]:.3g} = 1e-10 * m * max of the terms dx is made of: float64 "
                    f"round-off)",
                    "sum(dx) != 0: the term through the batch mean (- sum(dout)) is missing; "
                    "sum(dx * x_hat) != 0: the term through the variance "
                    "(- x_hat * sum(dout * x_hat)) is missing.")
    return ""


def _backward_no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((4, 3), (2, 3, 2, 2)):
        call = student.call(g.standard_normal(shape), g.standard_normal(shape),
                            g.uniform(0.5, 2, 3), eps=1e-5)
        if call.raised is not None:
            raise StudentRaised(call.raised, f"batchnorm_backward on x of shape "
                                f"{fmt_shape(shape)}")
        if call.mutated:
            names = {"input[0][0]": "dout", "input[0][1]": "x", "input[0][2]": "gamma"}
            raise CheckFailed(
                f"batchnorm_backward (x of shape {fmt_shape(shape)}) modified its argument(s) "
                f"{', '.join(names.get(p, p) for p in call.mutated)}; SPEC: no argument is "
                "mutated", "Work on new arrays (x - mu, dout * x_hat, ...), not in place.")
    return ""


def _backward_single_value(student, rng) -> str:
    for shape in ((1, 3), (1, 3, 1, 1)):
        x = np.arange(1.0, 4.0).reshape(shape)
        call = student.call(np.ones(shape), x, np.ones(3))
        if call.raised is None or not call.raised.is_a("ValueError"):
            got = "returned normally" if call.raised is None else f"raised {call.raised.type}"
            raise CheckFailed(
                f"batchnorm_backward on x of shape {fmt_shape(shape)} (m = 1 value per "
                f"channel) should raise ValueError, as the forward pass does; it {got}",
                "Check m = N * prod(spatial) < 2 and raise ValueError.")
    return ""


CHECKS: tuple[Check, ...] = (
    Check("batchnorm.batchnorm_forward.training_matches_reference", "unit",
          _forward_matches_reference(True), weight=2.0),
    Check("batchnorm.batchnorm_forward.eval_matches_reference", "unit",
          _forward_matches_reference(False), weight=1.5),
    Check("batchnorm.batchnorm_forward.torch_parity", "parity", _forward_torch_parity,
          weight=1.5, requires=("torch",), timeout_s=60.0),
    Check("batchnorm.batchnorm_forward.keras_parity", "parity", _forward_keras_parity,
          weight=1.5, requires=("tensorflow",), timeout_s=60.0),
    Check("batchnorm.batchnorm_forward.running_statistics", "unit", _forward_running_sequence,
          weight=1.5),
    Check("batchnorm.batchnorm_forward.unbiased_factor", "unit", _forward_unbiased_factor,
          weight=1.0),
    Check("batchnorm.batchnorm_forward.channel_scales", "unit", _forward_channel_scales,
          weight=1.0),
    Check("batchnorm.batchnorm_forward.no_mutation", "unit", _forward_no_mutation, weight=0.5),
    Check("batchnorm.batchnorm_forward.single_value_raises", "unit", _forward_single_value,
          weight=0.5),
    Check("batchnorm.batchnorm_backward.matches_reference", "unit", _backward_matches_reference,
          weight=2.0),
    Check("batchnorm.batchnorm_backward.torch_parity", "parity", _backward_torch_parity,
          weight=1.5, requires=("torch",), timeout_s=60.0),
    Check("batchnorm.batchnorm_backward.finite_differences", "unit",
          _backward_finite_differences, weight=1.5),
    Check("batchnorm.batchnorm_backward.zero_projections", "unit", _backward_zero_projections,
          weight=1.0),
    Check("batchnorm.batchnorm_backward.no_mutation", "unit", _backward_no_mutation, weight=0.5),
    Check("batchnorm.batchnorm_backward.single_value_raises", "unit", _backward_single_value,
          weight=0.5),
)

"""Checks of ``batchnorm_forward``.

Expected values come from ``grader.oracles.batchnorm`` (``F.batch_norm`` in
float64, with Keras' biased running variance when asked), from
``F.batch_norm`` itself (``.torch_parity``) and from
``keras.layers.BatchNormalization(dtype="float64")`` (``.keras_parity``).
"""
from __future__ import annotations

import math

import numpy as np

from grader.check import Check, CheckFailed, expect_array, expected, fmt_shape
from grader.checks.batchnorm import mistakes
from grader.checks.batchnorm.judging import (RTOL, forward_cases, forward_value,
                                             judge_forward, per_channel)
from grader.oracles import batchnorm as oracle
from grader.properties import for_all
from grader.student import StudentRaised

__all__ = ["forward_checks", "describe_aliasing"]

NDIMS = (2, 3, 4)
_ARGS = ("x", "gamma", "beta", "running_mean", "running_var")


def _hint(extra: str = ""):
    return lambda name, got, case: mistakes.forward_hint(name, got, case, extra)


def _values(training: bool):
    def run(student, rng) -> str:
        def prop(case):
            judge_forward(student(**case), case,
                          expected(student, oracle.batchnorm_forward, **case),
                          "batchnorm_forward", _hint())
        for ndim in NDIMS:  # (N, C), (N, C, L) and (N, C, H, W), each covered
            for_all(forward_cases(ndim, training=training), prop, rng, max_examples=17,
                    memory=student.memory, student=student)
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


def _torch_parity(student, rng) -> str:
    def prop(case):
        judge_forward(student(**case), case, _torch_forward(case),
                      "batchnorm_forward vs torch.nn.functional.batch_norm (float64)",
                      _hint("PyTorch feeds the unbiased batch variance (times m/(m-1)) to the "
                            "running variance."))
    for ndim in NDIMS:
        for_all(forward_cases(ndim, unbiased=True), prop, rng, max_examples=10,
                memory=student.memory, student=student)
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


def _keras_parity(student, rng) -> str:
    for k in _keras_cases(rng):
        x_last = k["x_last"]
        keras_train, moving_mean, moving_var, keras_eval = student.framework(
            "batchnorm", x_last, k["gamma"], k["beta"], k["mean"], k["var"], k["momentum"],
            k["eps"])
        moving = (moving_mean, moving_var)
        x = np.moveaxis(x_last, -1, 1).copy()
        for training, old, expected_out, expected_stats in (
                (True, (k["mean"], k["var"]), keras_train, moving),
                (False, moving, keras_eval, moving)):
            case = {"x": x, "gamma": k["gamma"], "beta": k["beta"], "running_mean": old[0],
                    "running_var": old[1], "training": training, "momentum": k["momentum"],
                    "eps": k["eps"], "unbiased_running_var": False}
            expected = (np.moveaxis(expected_out, -1, 1), expected_stats[0], expected_stats[1])
            judge_forward(student(**case), case, expected,
                          "batchnorm_forward vs keras.layers.BatchNormalization(momentum="
                          f"{1.0 - k['momentum']:.4g}, epsilon={k['eps']:g}) on channels-last "
                          "data moved to axis 1",
                          _hint("Keras' momentum is 1 - this momentum and Keras feeds the "
                                "biased batch variance to the moving variance "
                                "(unbiased_running_var=False)."))
    return ""


def _sequence_batches() -> list[np.ndarray]:
    g = np.random.default_rng(20240611)
    means = np.array([0.5, -3.0, 20.0])
    stds = np.sqrt(np.array([1e-3, 1.0, 1e2]))
    return [means + stds * g.standard_normal((n, 3)) for n in (2, 3, 5)]


def _running_sequence(student, rng) -> str:
    gamma, beta = np.array([1.5, -0.7, 2.0]), np.array([0.1, 0.2, -0.3])
    for momentum, unbiased in ((0.1, True), (0.3, False)):
        rm, rv = np.zeros(3), np.zeros(3)
        for step, x in enumerate(_sequence_batches(), start=1):
            case = {"x": x, "gamma": gamma, "beta": beta, "running_mean": rm,
                    "running_var": rv, "training": True, "momentum": momentum, "eps": 1e-5,
                    "unbiased_running_var": unbiased}
            value = student(**case)
            judge_forward(value, case, expected(student, oracle.batchnorm_forward, **case),
                          f"batchnorm_forward, training step {step} of 3 from zero running "
                          f"statistics (batch size {x.shape[0]}, so m/(m-1) = "
                          f"{x.shape[0] / (x.shape[0] - 1):g})", _hint())
            _, rm, rv = forward_value(value, x.shape, "batchnorm_forward")
    return ""


def _unbiased_factor(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((2, 3), (3, 3), (5, 3), (1, 3, 1, 3), (2, 3, 2, 2)):
        x = g.standard_normal(shape) * per_channel(np.array([1.0, 3.0, 0.2]), len(shape))
        m = oracle.values_per_channel(shape)
        biased = x.var(axis=oracle.reduce_axes(len(shape)))
        for unbiased in (True, False):
            factor = m / (m - 1) if unbiased else 1.0
            _, _, rv = forward_value(student(x, np.ones(3), np.zeros(3), np.zeros(3),
                                             np.zeros(3), training=True, momentum=1.0,
                                             eps=1e-5, unbiased_running_var=unbiased),
                                     shape, "batchnorm_forward")
            got = rv / biased
            if not np.all(np.abs(got - factor) <= 1e-9 * factor):
                c = int(np.argmax(np.nan_to_num(np.abs(got - factor), nan=np.inf)))
                raise CheckFailed(
                    f"with momentum=1 and zero running statistics, new_running_var should be "
                    f"the biased batch variance times {factor:g} (x of shape "
                    f"{fmt_shape(shape)}: m = {m} values per channel, unbiased_running_var="
                    f"{unbiased}); yours is {got[c]:.10g} times it in channel {c}",
                    "Unbiased means multiplied by m/(m-1) with m = N * prod(spatial), the "
                    "number of values per channel (not N)." if unbiased else
                    "With unbiased_running_var=False the running variance gets the biased "
                    "batch variance (divided by m), as Keras does.",
                    "tolerance 1e-9 relative: the ratio of two float64 values computed in a "
                    "few operations")
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


def _channel_scales(student, rng) -> str:
    for training in (True, False):
        for eps in (1e-5, 1e-3):
            case = _channel_scales_case(training, eps)
            got = forward_value(student(**case), case["x"].shape, "batchnorm_forward")
            out = got[0]
            want = expected(student, oracle.batchnorm_forward, **case)[0]
            rel = np.abs(out - want).max(axis=0) / np.abs(want).max(axis=0)
            if not np.all(rel <= RTOL):
                c = int(np.argmax(np.nan_to_num(rel, nan=np.inf)))
                hint, mistake = mistakes.forward_hint("out", got, case)
                raise CheckFailed(
                    f"batchnorm_forward (training={training}, eps={eps:g}) on three channels "
                    f"of variance 1e-3, 1 and 1e2: out is off by a relative {rel[c]:.3g} in "
                    f"channel {c}", hint,
                    f"per-channel relative errors {', '.join(f'{r:.2g}' for r in rel)}, "
                    f"tolerance {RTOL:g}", mistake)
    return ""


def _smoke_calls(g):
    for training, shape in ((True, (4, 3)), (True, (3, 3, 2, 2)), (False, (4, 3)),
                            (False, (2, 3, 2, 2))):
        args = (g.standard_normal(shape), g.uniform(0.5, 2, 3), g.standard_normal(3),
                g.standard_normal(3), g.uniform(0.5, 2, 3))
        yield training, shape, args


def describe_aliasing(paths, names: tuple[str, ...], outputs: tuple[str, ...]) -> str:
    """'new_running_mean is running_mean' from the worker's ``aliased`` paths."""
    def name(path: str, table: tuple[str, ...], prefix: str) -> str:
        for i, n in enumerate(table):
            if path.startswith(f"{prefix}[{i}]"):
                return n
        return path
    parts = []
    for pair in paths:
        out, arg = pair.split(" ~ ")
        parts.append(f"{name(out, outputs, 'output')} is (or shares memory with) "
                     f"{name(arg, names, 'input[0]')}")
    return "; ".join(parts)


def _no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for training, shape, args in _smoke_calls(g):
        call = student.call(*args, training=training, momentum=0.3)
        what = f"batchnorm_forward (training={training}, x of shape {fmt_shape(shape)})"
        if call.raised is not None:
            raise StudentRaised(call.raised, what)
        if call.mutated:
            which = [_ARGS[int(p.split("[")[2].rstrip("]"))] if p.startswith("input[0][")
                     else p for p in call.mutated]
            raise CheckFailed(
                f"{what} modified its argument(s) {', '.join(which)}; no argument may change",
                "Return new arrays (e.g. new_mean = (1 - momentum) * running_mean + ...), do "
                "not update running_mean / running_var in place (+=, *=, [...] =).")
        if call.aliased:
            raise CheckFailed(
                f"{what} returned an argument instead of a new array: "
                f"{describe_aliasing(call.aliased, _ARGS, ('out', 'new_running_mean', 'new_running_var'))}",
                "Return copies: in evaluation mode running_mean.copy() and "
                "running_var.copy(), never the arrays you were given.")
    return ""


def _shape_dtype(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for training, shape, args in _smoke_calls(g):
        what = f"batchnorm_forward (training={training}, x of shape {fmt_shape(shape)})"
        value = student(*args, training=training)
        if not isinstance(value, tuple) or len(value) != 3:
            raise CheckFailed(f"{what} should return a tuple (out, new_running_mean, "
                              f"new_running_var); got a {type(value).__name__}",
                              "Return `out, new_running_mean, new_running_var`.")
        for name, v, want in zip(("out", "new_running_mean", "new_running_var"), value,
                                 (shape, (3,), (3,))):
            expect_array(v, f"{what}: {name}", shape=want)
    return ""


def _single_value(student, rng) -> str:
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


def forward_checks() -> tuple[Check, ...]:
    p = "batchnorm.batchnorm_forward."
    torch = ("torch",)
    return (
        Check(p + "training_values", "unit", _values(True), weight=2.0, requires=torch),
        Check(p + "eval_values", "unit", _values(False), weight=1.5, requires=torch),
        Check(p + "torch_parity", "parity", _torch_parity, weight=1.5, requires=torch,
              timeout_s=60.0),
        Check(p + "keras_parity", "parity", _keras_parity, weight=1.5,
              requires=("tensorflow",), timeout_s=60.0),
        Check(p + "running_statistics", "unit", _running_sequence, weight=1.5, requires=torch),
        Check(p + "unbiased_factor", "unit", _unbiased_factor, weight=1.0),
        Check(p + "channel_scales", "unit", _channel_scales, weight=1.0, requires=torch),
        Check(p + "shape_dtype", "unit", _shape_dtype, weight=0.5, gated=True),
        Check(p + "no_mutation", "unit", _no_mutation, weight=0.5, gated=True),
        Check(p + "single_value_raises", "unit", _single_value, weight=0.5, gated=True),
    )

"""The statistics of the frameworks checks, on models made of NumPy arrays.

Models in the plain-data format of ``grader.extract`` need no framework: the
statistical bounds are exercised on many seeds, for correct models (they must
pass) and for the known wrong distributions (they must fail). The real models
are graded by ``tests/test_banks.py``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import truncnorm

from grader.check import CheckFailed
from grader.checks import frameworks
from grader.extract import probe_batch
from grader.student import Call

TORCH = "build_torch_model"
KERAS = "build_keras_model"


# -- models as plain data, without a framework ----------------------------------------

def _torch_data(w1, w2, b1=None, b2=None) -> dict:
    b1 = np.zeros(w1.shape[0]) if b1 is None else b1
    b2 = np.zeros(w2.shape[0]) if b2 is None else b2
    x = probe_batch()
    layers = [
        {"name": "0", "type": "Linear", "in_features": w1.shape[1],
         "out_features": w1.shape[0], "weight": w1, "bias": b1},
        {"name": "1", "type": "ReLU"},
        {"name": "2", "type": "Linear", "in_features": w2.shape[1],
         "out_features": w2.shape[0], "weight": w2, "bias": b2},
    ]
    probe = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    return {"framework": "torch", "class": "Sequential", "layers": layers,
            "n_params": w1.size + b1.size + w2.size + b2.size, "probe": probe,
            "probe_error": ""}


def _keras_data(k1, k2, init="HeNormal") -> dict:
    b1, b2 = np.zeros(k1.shape[1]), np.zeros(k2.shape[1])
    x = probe_batch()
    z = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    layers = [{"name": f"dense{i}", "type": "Dense", "units": k.shape[1],
               "activation": act, "kernel_initializer": init, "kernel": k, "bias": b}
              for i, (k, b, act) in enumerate(((k1, b1, "relu"), (k2, b2, "softmax")))]
    return {"framework": "keras", "class": "Sequential", "layers": layers,
            "n_params": 7114, "input_shapes": [[None, 100]],
            "probe": e / e.sum(axis=1, keepdims=True), "probe_error": ""}


class FakeStudent:
    """Stands for a StudentFunction; ``make(seed)`` returns the extracted model."""

    def __init__(self, name, make):
        self.name = name
        self.make = make
        self.shared = {}  # the model a function's checks share (one grading's)

    def call(self, seed, _post=None):
        return Call(value=self.make(seed))


def _he_torch(seed, scale=(1.0, 1.0), uniform=False):
    g = np.random.default_rng([seed, 7])
    ws = []
    for (out, fan_in), s in zip(((64, 100), (10, 64)), scale):
        std = math.sqrt(2 / fan_in) * s
        if uniform:
            ws.append(g.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, (out, fan_in)))
        else:
            ws.append(g.normal(0, std, (out, fan_in)))
    return _torch_data(*[w.astype(np.float32).astype(np.float64) for w in ws])


def _he_keras(seed, kind="he"):
    g = np.random.default_rng([seed, 11])
    ks = []
    for fan_in, units in ((100, 64), (64, 10)):
        std = math.sqrt(2 / fan_in)
        if kind == "he":
            k = truncnorm.rvs(-2, 2, scale=std / 0.87962566103423978, size=(fan_in, units),
                              random_state=g)
        elif kind == "untruncated":
            k = g.normal(0, std, (fan_in, units))
        elif kind == "glorot_uniform":
            a = math.sqrt(6 / (fan_in + units))
            k = g.uniform(-a, a, (fan_in, units))
        else:  # truncated normal without the 0.8796 correction
            k = truncnorm.rvs(-2, 2, scale=std, size=(fan_in, units), random_state=g)
        ks.append(k.astype(np.float32).astype(np.float64))
    return _keras_data(*ks)


def _by_prop(function, prop):
    (check,) = [c for c in frameworks.BATTERY.checks if c.function == function and c.prop == prop]
    return check


def _passes(check, student, seed) -> bool:
    student.shared = {}  # a grading of its own: the check draws the model's seed
    try:
        check.run(student, np.random.default_rng(seed))
        return True
    except CheckFailed:
        return False


@pytest.mark.parametrize("prop", ["he_variance", "normal_tails", "zero_bias", "architecture"])
def test_torch_checks_pass_correct_models_on_many_seeds(prop):
    check = _by_prop(TORCH, prop)
    student = FakeStudent(TORCH, _he_torch)
    assert all(_passes(check, student, seed) for seed in range(150))


@pytest.mark.parametrize("prop", ["he_variance", "truncated_normal", "zero_bias",
                                  "architecture"])
def test_keras_checks_pass_correct_models_on_many_seeds(prop):
    check = _by_prop(KERAS, prop)
    student = FakeStudent(KERAS, _he_keras)
    assert all(_passes(check, student, seed) for seed in range(150))


@pytest.mark.parametrize("make, prop", [
    (lambda s: _he_torch(s, scale=(math.sqrt(100 / 164), math.sqrt(64 / 74))), "he_variance"),
    (lambda s: _he_torch(s, scale=(math.sqrt(100 / 64), math.sqrt(64 / 10))), "he_variance"),
    (lambda s: _he_torch(s, uniform=True), "normal_tails"),
])
def test_torch_statistical_checks_catch_wrong_distributions(make, prop):
    check = _by_prop(TORCH, prop)
    assert not any(_passes(check, FakeStudent(TORCH, make), seed) for seed in range(100))


@pytest.mark.parametrize("kind, prop", [
    ("glorot_uniform", "he_variance"),
    ("glorot_uniform", "truncated_normal"),
    ("uncorrected", "he_variance"),
    ("untruncated", "truncated_normal"),
])
def test_keras_statistical_checks_catch_wrong_distributions(kind, prop):
    check = _by_prop(KERAS, prop)
    student = FakeStudent(KERAS, lambda s: _he_keras(s, kind))
    assert not any(_passes(check, student, seed) for seed in range(100))


def test_bounds_stated_in_the_docstring():
    lo, hi = frameworks.variance_bounds_chi2(6400)
    assert (round(lo, 3), round(hi, 3)) == (0.894, 1.114)
    lo, hi = frameworks.variance_bounds_chi2(640)
    assert (round(lo, 3), round(hi, 3)) == (0.691, 1.388)
    assert abs(frameworks.variance_bounds_truncated(6400)[1] - 1.1004) < 1e-4
    assert abs(frameworks.variance_bounds_truncated(640)[1] - 1.3524) < 1e-4
    assert [frameworks.tail_minimum(n, False) for n in (6400, 640)] == [195, 3]
    assert [frameworks.tail_minimum(n, True) for n in (6400, 640)] == [138, 1]


def test_probe_mismatch_names_the_missing_relu():
    def make(seed):
        data = _he_torch(seed)
        w1, w2 = data["layers"][0]["weight"], data["layers"][2]["weight"]
        data["probe"] = probe_batch() @ w1.T @ w2.T
        return data
    with pytest.raises(CheckFailed) as info:
        _by_prop(TORCH, "architecture").run(FakeStudent(TORCH, make), np.random.default_rng(0))
    assert "ReLU" in info.value.hint and "largest difference" in info.value.message

"""Checks of frameworks.py (the seed's Q7): He initialisation in PyTorch and in Keras.

The student's model is built in the worker and converted there to plain data
(``grader.extract``): its layers found by type, their weights as float64
arrays, its parameter count and its output on ``extract.probe_batch()``. The
grader never imports torch or Keras; ``requires`` makes a check ``skipped``
when the framework is missing.

Statistical bounds (every check below at most 2e-9 false-failure probability
for a correct model, whatever its seed; sigma'^2 = 2 / fan_in, fan_in = 100
then 64, n = 6,400 then 640 weights):

* torch ``he_variance``: S = sum(w^2) / sigma'^2 is exactly chi-square with n
  degrees of freedom under ``kaiming_normal_``; each layer is tested two-sided
  with 2.5e-10 per tail (1e-9 in all). The mean of w^2 / sigma'^2 must lie in
  [0.894, 1.114] (layer 1) and [0.691, 1.388] (layer 2). A variance off by a
  factor r in layer 1 is caught with probability >= 1 - 1e-9 when r < 0.806 or
  r > 1.241: Xavier (r = 100/164 = 0.61) is missed with probability below
  1e-300, fan_out mode (r = 1.5625) below 1e-72.
* torch ``normal_tails``: the number of |w| > 2 sigma' is Binomial(n, 0.0455)
  under a normal; at least 195 (layer 1) and 3 (layer 2) are required (lower
  binomial tail 5e-10 each). A uniform of any variance up to 4/3 sigma'^2
  (``kaiming_uniform_`` included) has none.
* Keras ``he_variance``: HeNormal is a normal truncated at two of its own
  standard deviations sigma_u = sigma' / 0.87962566103423978, so w^2 / sigma'^2
  lies in [0, 5.17] with mean 1 and variance 1.3655. Bernstein's inequality,
  5e-10 per tail per layer, bounds the mean of w^2 / sigma'^2 to 1 +- 0.1004
  (layer 1) and 1 +- 0.3524 (layer 2). Glorot uniform (r = 0.61 in layer 1) and
  a truncated normal without the 0.8796 correction (r = 0.774) are caught with
  probability > 1 - 1e-20.
* Keras ``truncated_normal``: no |w| may exceed 2 sigma_u = 2.274 sigma' (never
  happens under HeNormal; an untruncated N(0, sigma'^2) exceeds it with
  probability 0.023 per weight, so all 6,400 stay inside with probability
  e^-148); and the number of |w| > 2 sigma' is Binomial(n, 0.0346), at least
  138 (layer 1) and 1 (layer 2) required (5e-10 each). Glorot uniform and He
  uniform have none there (their support ends below 2 sigma').
"""
from __future__ import annotations

import math
from functools import lru_cache, partial

import numpy as np

from grader.battery import Battery, Profile
from grader.check import Check, CheckFailed, describe
from grader.extract import probe_batch
from grader.student import StudentRaised

__all__ = ["BATTERY", "variance_bounds_chi2", "variance_bounds_truncated", "tail_minimum"]

_SHAPES = ((100, 64), (64, 10))  # (fan_in, units) of the two layers
_N_PARAMS = 100 * 64 + 64 + 64 * 10 + 10
_TRUNC = 0.87962566103423978  # std of a standard normal truncated at +-2
_TAIL = 2.5e-10  # per tail, per layer, for the chi-square test
_SIDE = 5e-10  # per side, per layer, for the other tests
_PROBE_RTOL = 1e-4
_TIMEOUT = 30.0  # a model builds in ~0.2 s in a warm worker; wide for a cold one


# -- statistics -------------------------------------------------------------

@lru_cache(maxsize=None)
def variance_bounds_chi2(n: int) -> tuple[float, float]:
    """Acceptance interval of mean(w^2) / sigma^2 for n iid N(0, sigma^2) values."""
    from scipy.stats import chi2

    return float(chi2.ppf(_TAIL, n) / n), float(chi2.isf(_TAIL, n) / n)


def _truncated_moments() -> tuple[float, float]:
    """Variance and range of y = z^2 / c^2, z standard normal truncated at +-2."""
    from scipy.stats import truncnorm

    m4 = float(truncnorm(-2.0, 2.0).moment(4))
    return m4 / _TRUNC**4 - 1.0, 4.0 / _TRUNC**2 - 1.0


@lru_cache(maxsize=None)
def variance_bounds_truncated(n: int) -> tuple[float, float]:
    """Acceptance interval of mean(w^2) / sigma'^2 under HeNormal (Bernstein, 5e-10/side)."""
    v, b = _truncated_moments()
    b *= 1.001  # float32 rounding of the extreme values
    log_term = math.log(1.0 / _SIDE)
    # n t^2 = 2 log_term (v + b t / 3)
    qb = -2.0 * log_term * b / 3.0
    qc = -2.0 * log_term * v
    t = (-qb + math.sqrt(qb * qb - 4.0 * n * qc)) / (2.0 * n)
    return 1.0 - t, 1.0 + t


@lru_cache(maxsize=None)
def tail_minimum(n: int, truncated: bool) -> int:
    """Fewest |w| > 2 sigma' a correct layer of n weights may have (P(fewer) <= 5e-10)."""
    from scipy.stats import binom, norm

    if truncated:
        p = (2 * norm.sf(2 * _TRUNC) - 2 * norm.sf(2.0)) / (1 - 2 * norm.sf(2.0))
    else:
        p = 2 * norm.sf(2.0)
    k = int(binom.ppf(_SIDE, n, p))
    while k > 0 and binom.cdf(k - 1, n, p) > _SIDE:
        k -= 1
    return k


# -- getting the model --------------------------------------------------------

def _seeds(rng: np.random.Generator) -> tuple[int, int]:
    s = int(rng.integers(0, 1000))
    return s, s + 1 + int(rng.integers(0, 1000))


def _seed(student, rng: np.random.Generator) -> int:
    """The seed of the model a function's checks share: drawn by the first check that
    needs one (the gate), from its own rng. Building a Keras model takes 25 ms, and
    each check's bound holds for any seed, so one model serves them all."""
    if "model seed" not in student.shared:
        student.shared["model seed"] = _seeds(rng)[0]
    return student.shared["model seed"]


def _model(student, seed: int, post: str, fresh: bool = False) -> dict:
    """The student's model for ``seed`` as plain data (see grader.extract): built once
    for all the checks of the function, or again when ``fresh``."""
    key = ("model", post, seed)
    if not fresh and key in student.shared:
        return student.shared[key]
    data = _build(student, seed, post)
    student.shared.setdefault(key, data)
    return data


def _build(student, seed: int, post: str) -> dict:
    name = student.name
    call = student.call(seed, _post=post)
    if call.raised is not None:
        raise StudentRaised(call.raised, f"{name}({seed}) (or inspecting the model it returned)")
    data = call.value
    if not isinstance(data, dict):
        raise CheckFailed(f"{name}({seed}) could not be inspected; got {describe(data)}")
    if "error" in data:
        kind = "torch.nn.Module" if post == "torch_model" else "keras.Model"
        raise CheckFailed(f"{name}({seed}) should return a {kind}: {data['error']}",
                          "Return the model object itself, not a tuple, a summary or None.")
    return data


def _torch_layers(data: dict, name: str, seed: int) -> list[dict]:
    layers = [layer for layer in data["layers"] if layer["type"] == "Linear"]
    if not layers:
        leaves = ", ".join(layer["type"] for layer in data["layers"]) or "none"
        raise CheckFailed(f"{name}({seed}) should contain two nn.Linear layers; found none "
                          f"(leaf modules: {leaves})")
    return layers


def _keras_layers(data: dict, name: str, seed: int) -> list[dict]:
    layers = [layer for layer in data["layers"] if layer["type"] == "Dense"]
    if not layers:
        found = ", ".join(layer["type"] for layer in data["layers"]) or "none"
        raise CheckFailed(f"{name}({seed}) should contain two Dense layers; found none "
                          f"(layers: {found})")
    return layers


def _torch_weights(data: dict, name: str, seed: int) -> list[tuple[str, np.ndarray, int]]:
    """(label, weights, fan_in) per Linear layer, torch layout (out, in)."""
    return [(f"Linear({l['in_features']}, {l['out_features']}).weight", l["weight"],
             int(l["weight"].shape[1])) for l in _torch_layers(data, name, seed)]


def _keras_weights(data: dict, name: str, seed: int) -> list[tuple[str, np.ndarray, int]]:
    """(label, kernel, fan_in) per Dense layer, Keras layout (in, out)."""
    return [(f"Dense({l['units']}).kernel {tuple(l['kernel'].shape)}", l["kernel"],
             int(l["kernel"].shape[0])) for l in _keras_layers(data, name, seed)]


# -- architecture ---------------------------------------------------------------

def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ordered(found: dict, name: str, seed: int, what: str) -> tuple:
    """The two layers keyed by (fan_in, units), in forward order, or CheckFailed."""
    shapes = sorted(found, reverse=True)
    if len(found) != 2 or set(found) != set(_SHAPES):
        raise CheckFailed(
            f"{name}({seed}) should have exactly two {what} layers, 100 -> 64 and 64 -> 10; "
            f"found {', '.join(f'{i} -> {o}' for i, o in shapes) or 'none'}",
            "The model is input (100) -> 64 units -> 10 units.")
    return found[_SHAPES[0]], found[_SHAPES[1]]


def _probe(data: dict, name: str, seed: int, expected: np.ndarray,
           variants: dict[str, np.ndarray], formula: str) -> None:
    if data.get("probe") is None:
        raise CheckFailed(f"calling the model of {name}({seed}) on an (8, 100) batch raised "
                          f"{data.get('probe_error', 'an error')}")
    got = np.asarray(data["probe"], dtype=np.float64)
    if got.shape != expected.shape:
        raise CheckFailed(f"the model of {name}({seed}) should map an (8, 100) batch to "
                          f"(8, 10); got shape {tuple(got.shape)}")
    tol = _PROBE_RTOL * max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(got - expected)))
    if not err <= tol:
        hint = "Check the order of the layers and the activation between them."
        for label, alt in variants.items():
            if alt.shape == got.shape and float(np.max(np.abs(got - alt))) <= tol:
                hint = label
                break
        raise CheckFailed(
            f"the output of the model of {name}({seed}) on a fixed (8, 100) batch x should be "
            f"{formula} computed from its own weights; the largest difference is {err:.3g} "
            f"(tolerance {tol:.2g}, relative {_PROBE_RTOL:g} for float32)", hint)


def _torch_architecture(student, rng) -> str:
    """Linear(100, 64) -> ReLU -> Linear(64, 10), 7,114 parameters, checked on a probe."""
    seed = _seed(student, rng)
    name = student.name
    data = _model(student, seed, "torch_model")
    found = {(l["in_features"], l["out_features"]): l for l in _torch_layers(data, name, seed)}
    first, second = _ordered(found, name, seed, "nn.Linear")
    if data["n_params"] != _N_PARAMS:
        raise CheckFailed(f"the model of {name}({seed}) should have {_N_PARAMS:,} parameters "
                          f"(two Linear layers with biases); got {data['n_params']:,}",
                          "Keep the biases (bias=True) and add no other parameters.")
    if first["bias"] is None or second["bias"] is None:
        raise CheckFailed(f"both Linear layers of {name}({seed}) should have a bias")
    x = probe_batch()
    w1, b1, w2, b2 = first["weight"], first["bias"], second["weight"], second["bias"]
    expected = _relu(x @ w1.T + b1) @ w2.T + b2
    variants = {
        "The ReLU between the two Linear layers is missing (or not applied in forward).":
            (x @ w1.T + b1) @ w2.T + b2,
        "The output should be the raw scores of Linear(64, 10): no activation after it.":
            _relu(_relu(x @ w1.T + b1) @ w2.T + b2),
        "The output should be the raw scores of Linear(64, 10), without a softmax.":
            _softmax(expected),
    }
    _probe(data, name, seed, expected, variants, "relu(x W1^T + b1) W2^T + b2")
    return ""


def _keras_architecture(student, rng) -> str:
    """keras.Input((100,)) -> Dense(64, relu) -> Dense(10, softmax), 7,114 parameters."""
    seed = _seed(student, rng)
    name = student.name
    data = _model(student, seed, "keras_model")
    found = {tuple(l["kernel"].shape): l for l in _keras_layers(data, name, seed)}
    first, second = _ordered(found, name, seed, "Dense")
    inputs = [list(s) for s in data.get("input_shapes", [])]
    if inputs != [[None, 100]]:
        raise CheckFailed(f"the model of {name}({seed}) should have one input of shape "
                          f"(None, 100); got {inputs or 'none'}",
                          "Start the model with keras.Input(shape=(100,)).")
    if data["n_params"] != _N_PARAMS:
        raise CheckFailed(f"the model of {name}({seed}) should have {_N_PARAMS:,} parameters; "
                          f"got {data['n_params']:,}",
                          "Two Dense layers with biases (use_bias=True) and nothing else.")
    if first["bias"] is None or second["bias"] is None:
        raise CheckFailed(f"both Dense layers of {name}({seed}) should have a bias")
    x = probe_batch().astype(np.float32).astype(np.float64)
    k1, b1, k2, b2 = first["kernel"], first["bias"], second["kernel"], second["bias"]
    expected = _softmax(_relu(x @ k1 + b1) @ k2 + b2)
    variants = {
        "The relu of the first Dense layer is missing (activation='relu').":
            _softmax((x @ k1 + b1) @ k2 + b2),
        "The softmax of the last Dense layer is missing (activation='softmax').":
            _relu(x @ k1 + b1) @ k2 + b2,
    }
    _probe(data, name, seed, expected, variants, "softmax(relu(x K1 + b1) K2 + b2)")
    return ""


# -- initialisation ---------------------------------------------------------------

def _init_hint(data: dict, default: str) -> str:
    names = sorted({str(l.get("kernel_initializer")) for l in data["layers"]
                    if l["type"] == "Dense"})
    if names and names != ["HeNormal"] and names != ["VarianceScaling"]:
        return f"{default}; the Dense layers use {', '.join(names)}."
    return default + "."


def _he_variance(student, rng, *, framework: str) -> str:
    """Per layer, mean(w^2) / (2 / fan_in) inside the bounds of the module docstring."""
    seed = _seed(student, rng)
    name = student.name
    post = "torch_model" if framework == "torch" else "keras_model"
    data = _model(student, seed, post)
    weights = (_torch_weights if framework == "torch" else _keras_weights)(data, name, seed)
    if framework == "torch":
        test, how = variance_bounds_chi2, "exact chi-square test, 1e-9 per layer"
        hint = ("Use nn.init.kaiming_normal_(weight, mode='fan_in', nonlinearity='relu'): "
                "variance 2 / fan_in, with fan_in = weight.shape[1] (torch weights are "
                "(out, in)); Xavier gives 2 / (fan_in + fan_out), fan_out mode 2 / out.")
    else:
        test, how = variance_bounds_truncated, "Bernstein bound, 1e-9 per layer"
        hint = _init_hint(data, "Use kernel_initializer=keras.initializers.HeNormal(seed=...): "
                                "variance 2 / fan_in with fan_in = kernel.shape[0]")
    parts = []
    for label, w, fan_in in weights:
        if w.size == 0:
            continue
        target = 2.0 / fan_in
        ratio = float(np.mean(np.square(w)) / target)
        lo, hi = test(int(w.size))
        if not lo <= ratio <= hi:
            raise CheckFailed(
                f"{name}({seed}): {label} should have variance 2 / fan_in = 2/{fan_in} = "
                f"{target:.5g}; mean(w^2) = {ratio * target:.5g}, i.e. {ratio:.3f} times that, "
                f"outside the accepted [{lo:.3f}, {hi:.3f}] for {w.size} weights "
                f"({how}, false-failure probability <= 2e-9 in all)", hint)
        parts.append(f"{ratio:.3f}")
    return f"mean(w^2) / (2/fan_in) = {', '.join(parts)} (false-failure bound 2e-9)"


def _tails(student, rng, *, framework: str) -> str:
    """torch: normal tails past 2 sigma'. Keras: none past 2 sigma_u, some past 2 sigma'."""
    seed = _seed(student, rng)
    name = student.name
    post = "torch_model" if framework == "torch" else "keras_model"
    data = _model(student, seed, post)
    truncated = framework != "torch"
    weights = (_torch_weights if framework == "torch" else _keras_weights)(data, name, seed)
    if truncated:
        hint = _init_hint(data, "keras.initializers.HeNormal draws from a truncated normal "
                                "(not RandomNormal, not a uniform)")
    else:
        hint = ("kaiming_normal_ draws from a normal distribution; kaiming_uniform_ (or "
                "torch's default init) draws from a uniform one, which has no tails.")
    for label, w, fan_in in weights:
        if w.size == 0:
            continue
        sigma = math.sqrt(2.0 / fan_in)
        if truncated:
            limit = 2.0 * sigma / _TRUNC
            largest = float(np.max(np.abs(w)))
            beyond = int(np.count_nonzero(np.abs(w) > limit * (1 + 1e-5)))
            if beyond:
                raise CheckFailed(
                    f"{name}({seed}): {label} has {beyond} of {w.size} values beyond "
                    f"2 sigma_u = 2 * sqrt(2/{fan_in}) / 0.8796 = {limit:.4g} (largest |w| = "
                    f"{largest:.4g}); HeNormal is a normal truncated there and never exceeds it",
                    _init_hint(data, "This looks like an untruncated normal (such as "
                                     "RandomNormal): use keras.initializers.HeNormal, which "
                                     "truncates at 2 sigma_u"))
        need = tail_minimum(int(w.size), truncated)
        count = int(np.count_nonzero(np.abs(w) > 2.0 * sigma))
        if count < need:
            dist = "HeNormal's truncated normal" if truncated else "N(0, 2 / fan_in)"
            p = "3.5%" if truncated else "4.6%"
            raise CheckFailed(
                f"{name}({seed}): {label} has {count} of {w.size} values with |w| > 2 sigma' = "
                f"2 * sqrt(2/{fan_in}) = {2 * sigma:.4g}; {dist} puts about {p} there, and at "
                f"least {need} are required (false-failure probability <= 1e-9 per layer)",
                hint)
    return ""


def _zero_bias(student, rng, *, framework: str) -> str:
    """Every bias exactly zero."""
    seed = _seed(student, rng)
    name = student.name
    post = "torch_model" if framework == "torch" else "keras_model"
    data = _model(student, seed, post)
    layers = (_torch_layers if framework == "torch" else _keras_layers)(data, name, seed)
    what = "Linear" if framework == "torch" else "Dense"
    for layer in layers:
        bias = layer["bias"]
        if bias is None:
            raise CheckFailed(f"{name}({seed}): a {what} layer has no bias; it should have "
                              "one, initialised to zero")
        nonzero = int(np.count_nonzero(bias))
        if nonzero:
            raise CheckFailed(
                f"{name}({seed}): every bias should be exactly zero; a {what} layer with "
                f"{bias.size} biases has {nonzero} nonzero (largest |b| = "
                f"{float(np.max(np.abs(bias))):.3g})",
                "nn.Linear initialises its bias uniformly: set it with nn.init.zeros_(bias)."
                if framework == "torch" else "Use bias_initializer='zeros' (Keras' default).")
    return ""


def _deterministic(student, rng, *, framework: str) -> str:
    """Same seed -> identical weights; another seed -> different weights in every layer."""
    s = _seed(student, rng)
    t = s + 1 + int(rng.integers(0, 1000))
    name = student.name
    post = "torch_model" if framework == "torch" else "keras_model"
    extract = _torch_weights if framework == "torch" else _keras_weights
    a, b, c = (extract(_model(student, seed, post, fresh=i > 0), name, seed)
               for i, seed in enumerate((s, s, t)))
    if len(a) != len(b) or any(x[1].shape != y[1].shape for x, y in zip(a, b)):
        raise CheckFailed(f"{name}({s}) called twice gave models of different shapes")
    for (label, w1, _), (_, w2, _) in zip(a, b):
        if not np.array_equal(w1, w2):
            raise CheckFailed(
                f"{name}({s}) called twice should give identical weights; {label} differs in "
                f"{int(np.count_nonzero(w1 != w2))} of {w1.size} entries",
                "Draw the weights from a torch.Generator seeded with seed (the generator= "
                "argument of nn.init.kaiming_normal_)." if framework == "torch" else
                "Give every initializer an integer seed derived from seed, e.g. "
                "HeNormal(seed=seed) and HeNormal(seed=seed + 1).")
    if len(c) == len(a) and all(x[1].shape == y[1].shape for x, y in zip(a, c)):
        for (label, w1, _), (_, w3, _) in zip(a, c):
            if w1.size and np.array_equal(w1, w3):
                raise CheckFailed(
                    f"{name}({s}) and {name}({t}) should give different weights; {label} is "
                    "identical", "Derive every layer's random numbers from seed.")
    return f"seeds {s}, {s}, {t}"


# -- the warning -------------------------------------------------------------------

def _no_warning(student, rng) -> str:
    """Building the Keras model emits no warning (a build after the first, which imports)."""
    seed = _seed(student, rng)
    name = student.name
    built = any(k[0] == "model" for k in student.shared if isinstance(k, tuple))
    for attempt in range(1 if built else 2):  # the first call imports Keras: judge a later one
        call = student.call(seed)
        if call.raised is not None:
            raise StudentRaised(call.raised, f"{name}({seed})")
    if call.warnings:
        first = call.warnings[0]
        text = " ".join(str(first.get("message", "")).split())
        hint = "Find what the warning asks for and change the model accordingly."
        if "input_shape" in text or "input_dim" in text:
            hint = ("Keras 3 deprecates input_shape= on a layer: start the model with "
                    "keras.Input(shape=(100,)) instead.")
        raise CheckFailed(
            f"building the model with {name}({seed}) should emit no warning; it emitted "
            f"{len(call.warnings)}, the first a {first.get('category')}: {text[:300]}", hint)
    return ""


def _make(function: str, framework: str) -> tuple[Check, ...]:
    requires = ("torch",) if framework == "torch" else ("tensorflow",)
    prefix = f"frameworks.{function}"

    def check(prop, kind, run, weight, gated=False):
        return Check(f"{prefix}.{prop}", kind, run, weight=weight, requires=requires,
                     timeout_s=_TIMEOUT, gated=gated)

    checks = [
        check("architecture", "unit",
              _torch_architecture if framework == "torch" else _keras_architecture, 1.5),
    ]
    if framework == "keras":
        checks.append(check("no_warning", "unit", _no_warning, 1.0, gated=True))
    checks += [
        check("he_variance", "statistical", partial(_he_variance, framework=framework), 1.5),
        check("normal_tails" if framework == "torch" else "truncated_normal", "statistical",
              partial(_tails, framework=framework), 0.75 if framework == "torch" else 1.0),
        check("zero_bias", "unit", partial(_zero_bias, framework=framework), 0.75, gated=True),
        check("deterministic", "unit", partial(_deterministic, framework=framework), 1.0,
              gated=True),
    ]
    return tuple(checks)


#: the architecture check of each function is also its gate
BATTERY = Battery(
    task="frameworks",
    checks=_make("build_torch_model", "torch") + _make("build_keras_model", "keras"),
    gates={"build_torch_model": _torch_architecture,
           "build_keras_model": _keras_architecture},
    profile=Profile(preload=("numpy", "torch", "tensorflow", "keras"), memory_factor=4.0,
                    priority=-1),
)

"""Oracles of initializers.py: ``torch.nn.init`` behind SPEC's argument rules.

* ``compute_fans``: the rule of ``torch.nn.init._calculate_fan_in_and_fan_out``
  on the torch-layout shape (``fan_in = in * receptive field``, ``fan_out =
  out * receptive field``, the receptive field the product of the dimensions
  after the first two); a Keras-layout shape ``(*kernel, in, out)`` is read
  as the torch shape ``(out, in, *kernel)``, and Keras' own rules give 0-D
  shapes fans ``(1, 1)`` and 1-D shapes ``(n,)`` fans ``(n, n)``.
* ``calculate_gain``: the table of ``torch.nn.init.calculate_gain``, with
  SPEC's stricter validation of the name and of ``param`` (finite real, not
  bool, for every nonlinearity).

  These two are torch's rules written out, without importing torch (the
  tests hold them equal to torch's own functions on every nonlinearity and
  on shapes of every rank): while a student's random function is graded
  they answer for the module's own (``grader.helpers``), hundreds of times
  a grading, each answer a few microseconds.
* the random functions: ``torch.nn.init`` (``xavier_*_``, ``kaiming_*_``,
  ``trunc_normal_``) drawing from a ``torch.Generator`` seeded from ``rng``,
  on the torch-layout view of the shape, returned as float64 NumPy arrays in
  the requested layout.

Every function validates exactly as SPEC says and raises ``ValueError``
otherwise.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

__all__ = ["compute_fans", "calculate_gain", "variance_scaling", "xavier_uniform",
           "xavier_normal", "he_uniform", "he_normal", "NONLINEARITIES", "TRUNCATED_STD",
           "DETERMINISTIC"]

#: the oracles whose answer depends on their arguments alone (the random ones draw from
#: the generator given, or from fresh entropy when given none)
DETERMINISTIC = ("compute_fans", "calculate_gain")

NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                  "leaky_relu", "selu")
#: standard deviation of a standard normal restricted to [-2, 2] (Keras' constant)
TRUNCATED_STD = 0.87962566103423978
_LAYOUTS = ("torch", "keras")


def _dims(shape) -> tuple[int, ...]:
    if not isinstance(shape, (tuple, list)):
        raise ValueError(f"shape must be a tuple or list of integers, got {shape!r}")
    out = []
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValueError(f"invalid dimension {d!r} in {shape!r}")
        out.append(int(d))
    return tuple(out)


def _layout(layout) -> str:
    if not (isinstance(layout, str) and layout in _LAYOUTS):
        raise ValueError(f"layout must be 'torch' or 'keras', got {layout!r}")
    return layout


def _finite_real(value) -> bool:
    return (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
            and math.isfinite(float(value)))


def _torch_view(dims: tuple[int, ...], layout: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(a torch-layout shape with the same fans, the axes that turn it into ``dims``).

    Keras 0-D and 1-D shapes have no torch twin: a ``(n, n)`` (or ``(1, 1)``)
    torch shape has their fans, and its first row holds their values.
    """
    if layout == "torch":
        if len(dims) < 2:
            raise ValueError(f"a torch-layout shape needs at least 2 dimensions, got {dims}")
        return dims, tuple(range(len(dims)))
    if len(dims) < 2:
        n = dims[0] if dims else 1
        return (n, n), ()
    k = len(dims) - 2
    torch_shape = (dims[-1], dims[-2], *dims[:-2])
    # torch axis 0 = out (Keras axis -1), 1 = in (Keras -2), 2.. = kernel (Keras 0..k-1)
    return torch_shape, (*range(2, 2 + k), 1, 0)


def compute_fans(shape, layout="torch"):
    dims = _dims(shape)
    layout = _layout(layout)
    torch_shape, _ = _torch_view(dims, layout)
    receptive_field = math.prod(torch_shape[2:])
    return torch_shape[1] * receptive_field, torch_shape[0] * receptive_field


def calculate_gain(nonlinearity, param=None):
    if not (isinstance(nonlinearity, str) and nonlinearity in NONLINEARITIES):
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    if param is not None and not _finite_real(param):
        raise ValueError(f"param must be a finite real number, got {param!r}")
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    return 1.0  # the linear and convolution layers, sigmoid


def _generator(rng):
    import torch

    rng = np.random.default_rng() if rng is None else rng
    return torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))


def _sample(dims: tuple[int, ...], layout: str, rng, init) -> np.ndarray:
    """Run ``init(tensor, generator)`` on the torch view of ``dims``; float64 NumPy."""
    import torch

    torch_shape, axes = _torch_view(dims, layout)
    if math.prod(dims) == 0:
        return np.zeros(dims)
    t = torch.empty(torch_shape, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init(t, _generator(rng))
    arr = t.numpy()
    if layout == "keras" and len(dims) < 2:
        return arr[0, : (dims[0] if dims else 1)].reshape(dims).copy()
    return np.ascontiguousarray(np.transpose(arr, np.argsort(axes)) if axes else arr)


def _gain(value) -> float:
    if not _finite_real(value):
        raise ValueError(f"gain must be a finite real number, got {value!r}")
    return float(value)


def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
    dims, layout, gain = _dims(shape), _layout(layout), _gain(gain)
    import torch

    return _sample(dims, layout, rng,
                   lambda t, g: torch.nn.init.xavier_uniform_(t, gain=gain, generator=g))


def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
    dims, layout, gain = _dims(shape), _layout(layout), _gain(gain)
    import torch

    return _sample(dims, layout, rng,
                   lambda t, g: torch.nn.init.xavier_normal_(t, gain=gain, generator=g))


def _he(shape, a, mode, nonlinearity, layout, rng, uniform: bool):
    dims, layout = _dims(shape), _layout(layout)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    calculate_gain(nonlinearity, a)  # SPEC's validation of the name and the slope
    import torch

    init = torch.nn.init.kaiming_uniform_ if uniform else torch.nn.init.kaiming_normal_
    return _sample(dims, layout, rng, lambda t, g: init(
        t, a=float(a), mode=mode, nonlinearity=nonlinearity, generator=g))


def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
               rng=None):
    return _he(shape, a, mode, nonlinearity, layout, rng, uniform=True)


def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
              rng=None):
    return _he(shape, a, mode, nonlinearity, layout, rng, uniform=False)


def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                     layout="keras", rng=None):
    """Keras' VarianceScaling (no framework call needed for the law), sampled by torch."""
    dims, layout = _dims(shape), _layout(layout)
    if not _finite_real(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"unknown mode {mode!r}")
    if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
        raise ValueError(f"unknown distribution {distribution!r}")
    fan_in, fan_out = compute_fans(dims, layout)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    s = float(scale) / max(1.0, n)
    import torch

    init = torch.nn.init
    if distribution == "truncated_normal":
        std = math.sqrt(s) / TRUNCATED_STD
        def draw(t, g):
            init.trunc_normal_(t, 0.0, std, -2 * std, 2 * std, generator=g)
    elif distribution == "untruncated_normal":
        def draw(t, g):
            init.normal_(t, 0.0, math.sqrt(s), generator=g)
    else:
        limit = math.sqrt(3.0 * s)
        def draw(t, g):
            init.uniform_(t, -limit, limit, generator=g)
    return _sample(dims, layout, rng, draw)

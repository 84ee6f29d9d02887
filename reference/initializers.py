"""Weight initialisation, derived and implemented with NumPy only.

This module is the reference solution of the ``initializers`` task. It is
meant to be read: each function's docstring states the rule it implements and
where the rule comes from, and this introduction collects the theory they share.

1. What initialisation is for
-----------------------------
A dense layer computes ``z_i = sum_j W_ij x_j`` over ``n_in`` inputs. If the
weights are independent of each other and of the inputs, have mean zero and
variance ``Var(W)``, then

    Var(z_i) = n_in * Var(W) * E[x_j^2].                                  (1)

Stack ``L`` such layers and the scale of the signal is multiplied by roughly
the same factor ``n_in * Var(W) * (activation factor)`` at every layer: a
factor slightly above one makes activations grow geometrically with depth,
one slightly below makes them shrink to zero. Backpropagation runs the same
argument in reverse: ``dL/dx_j = sum_i W_ij dL/dz_i`` sums over the ``n_out``
units the input feeds, so

    Var(dL/dx_j) = n_out * Var(W) * Var(dL/dz_i)   (times the activation's
                                                    squared slope).        (2)

When the per-layer factor of (2) is below one, the gradients reaching the
first layers vanish (handout Q1); when it is above one they explode (Q4).
Initialisation therefore picks ``Var(W)`` so that both factors are close to
one. It is a statement about *variances*, not about any particular weight
values.

2. Xavier / Glorot initialisation (handout Q2)
----------------------------------------------
For an activation that behaves like the identity near zero (tanh, or a linear
layer), ``E[x^2] = Var(x)`` and the activation's slope is about one. Equation
(1) then asks for ``Var(W) = 1/n_in`` (forward signal preserved) and (2) asks
for ``Var(W) = 1/n_out`` (backward signal preserved). Both can hold at once only if
``n_in == n_out``; Glorot and Bengio (2010) compromise on the harmonic mean
of the two targets,

    Var(W) = 2 / (n_in + n_out),

i.e. one over the average fan.

A zero-mean uniform ``U(-a, a)`` has variance ``a^2 / 3``, so the uniform
version uses ``a = sqrt(3) * std = sqrt(6 / (n_in + n_out))``. The derivation
assumes zero-mean activations; the logistic sigmoid (mean 1/2) violates it,
which is one reason Xavier helps tanh networks much more than sigmoid ones.

3. He / Kaiming initialisation (handout Q7)
-------------------------------------------
ReLU sets every negative pre-activation to zero. If ``z`` is symmetric about
zero, exactly half of its mass survives, and

    E[relu(z)^2] = E[z^2 ; z > 0] = Var(z) / 2.

Substituting ``E[x^2] = Var(z_prev) / 2`` into (1) gives ``Var(z) = n_in *
Var(W) * Var(z_prev) / 2``: keeping the variance constant needs

    Var(W) = 2 / n_in          (He et al., 2015, "fan_in" mode).

Using (2) instead (the derivative of ReLU is 1 on half of the units) gives
``2 / n_out`` ("fan_out" mode), which preserves the gradient scale. For a
leaky ReLU with negative slope ``a``, ``E[f(z)^2] = (1 + a^2) Var(z) / 2``, so
``Var(W) = 2 / ((1 + a^2) n)``.

4. Gain
-------
PyTorch factors the activation out of the formula as a *gain* multiplying the
standard deviation: ``std = gain / sqrt(fan)``, i.e. ``Var(W) = gain^2 / fan``.
ReLU has gain ``sqrt(2)``, leaky ReLU ``sqrt(2 / (1 + a^2))``, linear layers
and the sigmoid 1, tanh ``5/3`` (an empirical choice that compensates for
tanh shrinking its input) and SELU ``3/4`` (also empirical). Note that the
gain scales the standard deviation: its square scales the variance.

5. Fans and weight layouts
--------------------------
``fan_in`` counts the inputs that feed one output unit, ``fan_out`` the
outputs that one input unit feeds. For a convolution each input channel
contributes one value per kernel position, so both fans are multiplied by the
receptive-field size ``prod(kernel)``.

The two frameworks store weights differently:

=========  ==================================  ==============================
framework  layout                              example: Dense/Linear 100->64
=========  ==================================  ==============================
PyTorch    ``(out, in, *kernel)``              ``(64, 100)``
Keras      ``(*kernel, in, out)``              ``(100, 64)``
=========  ==================================  ==============================

Reading a shape in the wrong layout swaps the fans, which silently turns a
fan_in initialisation into a fan_out one. (PyTorch's ``ConvTranspose``
weights are stored ``(in, out // groups, *kernel)``, so ``torch.nn.init``
reports their fans the other way round; it is a documented quirk, not an
exception in the rule above.) Keras also accepts 0-D shapes (fans 1, 1) and
1-D shapes ``(n,)`` (fans n, n); PyTorch refuses anything below 2-D.

6. PyTorch and Keras, side by side
----------------------------------
* Keras expresses every scheme through ``VarianceScaling(scale, mode,
  distribution)`` with ``Var(W) = scale / max(1, n)``: ``HeNormal`` is
  ``(2.0, "fan_in", "truncated_normal")``, ``HeUniform`` is ``(2.0, "fan_in",
  "uniform")``, ``GlorotNormal`` is ``(1.0, "fan_avg", "truncated_normal")``
  and ``GlorotUniform`` (the default kernel initialiser of ``Dense``) is
  ``(1.0, "fan_avg", "uniform")``.
* Keras' normal initialisers are *truncated*: draws farther than two
  standard deviations from zero are discarded and drawn again. Truncation
  shrinks the spread, since a standard normal restricted to ``[-2, 2]`` has
  standard deviation ``0.87962566103423978``; Keras divides the target
  standard deviation by that constant so that the variance after truncation
  is still ``scale / n``. PyTorch's ``kaiming_normal_`` and
  ``xavier_normal_`` draw from the plain, untruncated normal.
* ``torch.nn.init.kaiming_*`` defaults to ``a=0, mode="fan_in",
  nonlinearity="leaky_relu"``: a leaky ReLU of slope 0 is a ReLU, so the
  default gain is ``sqrt(2)``, the same as ``nonlinearity="relu"``.
  (``nn.Linear`` and ``nn.Conv*`` themselves do *not* use He initialisation
  by default: they call ``kaiming_uniform_`` with ``a=sqrt(5)``, which gives
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.)
* Keras guards the division with ``max(1, n)``; PyTorch divides by the fan
  directly.

7. A common misconception (handout Q5)
--------------------------------------
It is sometimes said that a good initialisation "starts the weights close to
the optimal values". It does not, and cannot: the optimum is unknown before
training, the weights are random, and a freshly initialised network typically
performs at chance level. What a good scheme does is make the starting point
*well conditioned*: activations and gradients keep a stable variance from
layer to layer, so every layer receives a useful learning signal, and the
randomness breaks the symmetry between units (a constant initialisation makes
all units of a layer compute, and keep computing, the same function). Faster
convergence is a consequence of that conditioning, not of proximity to the
solution.

Conventions shared by all functions
-----------------------------------
* A shape is a ``tuple`` or ``list`` of Python or NumPy integers ``>= 0``.
  Anything else (a float such as ``3.0``, a bool, a negative number, a NumPy
  array, ...) raises ``ValueError``. ``bool`` is rejected explicitly because
  ``True`` is an ``int`` in Python.
* Random functions draw only from ``rng`` (a ``numpy.random.Generator``;
  ``None`` means a fresh ``numpy.random.default_rng()``) and return a float64
  array of exactly ``shape``. A shape with a zero dimension gives an empty
  array of that shape, without any division by a zero fan.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "compute_fans",
    "calculate_gain",
    "variance_scaling",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
]

#: Standard deviation of a standard normal truncated to [-2, 2]:
#: sqrt(1 - 4 * phi(2) / (Phi(2) - Phi(-2))), with phi/Phi the normal pdf/cdf.
TRUNCATED_NORMAL_STD = 0.87962566103423978

_LAYOUTS = ("torch", "keras")
_UNIT_GAIN = frozenset(
    {
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    }
)
_VS_MODES = ("fan_in", "fan_out", "fan_avg")
_VS_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
_HE_MODES = ("fan_in", "fan_out")


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------
def _as_shape(shape) -> tuple[int, ...]:
    """Validate ``shape`` and return it as a tuple of Python ints."""
    if not isinstance(shape, (tuple, list)):
        raise ValueError(f"shape must be a tuple or list of integers, got {shape!r}")
    dims = []
    for d in shape:
        # bool is a subclass of int, and np.bool_ is not an integer type at all;
        # both are rejected, as are floats (even integral ones such as 3.0).
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            raise ValueError(f"shape dimensions must be integers, got {d!r} in {shape!r}")
        if d < 0:
            raise ValueError(f"shape dimensions must be >= 0, got {d!r} in {shape!r}")
        dims.append(int(d))
    return tuple(dims)


def _is_finite_real(value) -> bool:
    """True for finite Python/NumPy real numbers that are not booleans."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(float(value))


def _generator(rng) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


# --------------------------------------------------------------------------
# fans and gains
# --------------------------------------------------------------------------
def compute_fans(shape: tuple[int, ...] | list[int], layout: str = "torch") -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight of the given shape.

    Parameters
    ----------
    shape : tuple or list of int
        The weight's shape, read according to ``layout``.
    layout : {"torch", "keras"}
        ``"torch"``: ``(out, in, *kernel)``, as ``nn.Linear`` (``(out, in)``)
        and ``nn.Conv2d`` (``(out, in, kh, kw)``) store their weights.
        ``"keras"``: ``(*kernel, in, out)``, as ``Dense`` (``(in, out)``) and
        ``Conv2D`` (``(kh, kw, in, out)``) store their kernels.

    Returns
    -------
    (fan_in, fan_out) : tuple of two Python ints
        ``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``:
        each of the ``in`` channels contributes one value per kernel position
        to every output, hence the receptive-field factor ``prod(kernel)``
        (1 for a dense layer).

    Special cases follow the frameworks: the torch layout needs at least two
    dimensions (``torch.nn.init`` raises otherwise); the Keras layout maps a
    0-D shape to ``(1, 1)`` and a 1-D shape ``(n,)`` to ``(n, n)``, as
    ``keras.initializers`` does for biases and scalars.

    Raises
    ------
    ValueError
        Invalid shape (see the module notes), a torch-layout shape with fewer
        than two dimensions, or an unknown layout.

    Examples
    --------
    >>> compute_fans((64, 100))                      # nn.Linear(100, 64)
    (100, 64)
    >>> compute_fans((3, 3, 16, 32), layout="keras")  # Conv2D 16 -> 32, 3x3
    (144, 288)
    """
    dims = _as_shape(shape)
    if not (isinstance(layout, str) and layout in _LAYOUTS):
        raise ValueError(f"layout must be one of {_LAYOUTS}, got {layout!r}")

    if layout == "torch":
        if len(dims) < 2:
            raise ValueError(
                f"a torch-layout weight needs at least 2 dimensions (out, in, *kernel), got {dims}"
            )
        n_out, n_in, kernel = dims[0], dims[1], dims[2:]
    else:
        if len(dims) == 0:
            return 1, 1
        if len(dims) == 1:
            return dims[0], dims[0]
        kernel, n_in, n_out = dims[:-2], dims[-2], dims[-1]

    receptive_field = math.prod(kernel)  # 1 for a dense layer (empty product)
    return n_in * receptive_field, n_out * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Return the recommended standard-deviation gain for ``nonlinearity``.

    This is the table of ``torch.nn.init.calculate_gain``:

    =====================================================  ======================
    nonlinearity                                           gain
    =====================================================  ======================
    linear, conv1d/2d/3d, conv_transpose1d/2d/3d, sigmoid  1
    tanh                                                   5/3
    relu                                                   sqrt(2)
    leaky_relu (negative slope ``a``)                      sqrt(2 / (1 + a^2))
    selu                                                   3/4
    =====================================================  ======================

    The ReLU and leaky-ReLU entries follow from ``E[f(z)^2] = (1 + a^2)
    Var(z) / 2`` (see the module notes, section 3); the tanh and SELU values
    are empirical. For ``leaky_relu`` the slope ``a`` is ``param``, or 0.01
    (PyTorch's default slope) when ``param`` is ``None``. ``param = 0`` is a
    real value, not "missing": it gives the ReLU gain ``sqrt(2)``.

    Returns a Python ``float`` (``torch`` returns the int 1 for the unit
    gains; the value is the same).

    Raises
    ------
    ValueError
        Unknown nonlinearity, or a ``param`` that is not ``None`` and not a
        finite real number (``bool`` included, although ``True`` is an int).
        ``param`` is validated whatever the nonlinearity.
    """
    if param is not None and not _is_finite_real(param):
        raise ValueError(f"param must be a finite real number, got {param!r}")
    if not isinstance(nonlinearity, str):
        raise ValueError(f"nonlinearity must be a string, got {nonlinearity!r}")

    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        # slope * slope overflows to inf (gain 0) instead of raising like slope**2
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


# --------------------------------------------------------------------------
# the general scheme (Keras)
# --------------------------------------------------------------------------
def variance_scaling(
    shape: tuple[int, ...] | list[int],
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    layout: str = "keras",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample weights of variance ``scale / max(1, n)``, like Keras' ``VarianceScaling``.

    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` for
    ``mode`` ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"`` (fans from
    :func:`compute_fans` in ``layout``, Keras' ``(*kernel, in, out)`` by
    default). With ``s = scale / max(1, n)`` as the target variance:

    ``"truncated_normal"``
        Normal with standard deviation ``sqrt(s) / 0.87962566103423978``,
        and every draw farther than two of those standard deviations from 0
        discarded and drawn again. Redrawing (rejection sampling) gives the
        truncated normal, whose variance is ``s``; *clipping* to the bounds
        would instead pile about 4.6 % of the mass onto the two endpoints and
        give a different variance.
    ``"untruncated_normal"``
        Normal with standard deviation ``sqrt(s)``.
    ``"uniform"``
        ``U(-sqrt(3 s), sqrt(3 s))`` (a uniform on ``[-L, L]`` has variance
        ``L^2 / 3``).

    Every named scheme is a special case: He is ``scale=2, mode="fan_in"``,
    LeCun is ``scale=1, mode="fan_in"``, Glorot is ``scale=1,
    mode="fan_avg"``. ``scale`` multiplies the *variance*, so it is the square
    of a PyTorch gain.

    Keras accepts ``distribution="normal"`` as an alias of
    ``"truncated_normal"``; this function does not, so that the truncation is
    always asked for explicitly.

    Returns
    -------
    numpy.ndarray
        float64 array of exactly ``shape``; random draws come only from
        ``rng`` (``None``: ``numpy.random.default_rng()``).

    Raises
    ------
    ValueError
        Invalid shape or layout, unknown ``mode`` or ``distribution``, or a
        ``scale`` that is not a finite real number ``> 0``.
    """
    dims = _as_shape(shape)
    if not _is_finite_real(scale) or scale <= 0:
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    if not (isinstance(mode, str) and mode in _VS_MODES):
        raise ValueError(f"mode must be one of {_VS_MODES}, got {mode!r}")
    if not (isinstance(distribution, str) and distribution in _VS_DISTRIBUTIONS):
        raise ValueError(f"distribution must be one of {_VS_DISTRIBUTIONS}, got {distribution!r}")
    fan_in, fan_out = compute_fans(dims, layout)
    rng = _generator(rng)

    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    s = float(scale) / max(1.0, n)  # target variance; max() also covers zero fans

    if distribution == "truncated_normal":
        stddev = math.sqrt(s) / TRUNCATED_NORMAL_STD
        z = rng.standard_normal(dims)
        # Rejection sampling in standard units: redraw every |z| > 2 until none
        # is left. Each round keeps ~95.4 % of the redrawn values, so the loop
        # ends after a handful of rounds even for millions of entries.
        outside = np.abs(z) > 2.0
        while outside.any():
            z[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(z) > 2.0
        return np.asarray(stddev * z, dtype=np.float64)
    if distribution == "untruncated_normal":
        return np.asarray(math.sqrt(s) * rng.standard_normal(dims), dtype=np.float64)
    limit = math.sqrt(3.0 * s)
    return np.asarray(rng.uniform(-limit, limit, size=dims), dtype=np.float64)


# --------------------------------------------------------------------------
# Xavier / Glorot (PyTorch)
# --------------------------------------------------------------------------
def xavier_uniform(
    shape: tuple[int, ...] | list[int],
    gain: float = 1.0,
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    This is ``torch.nn.init.xavier_uniform_`` (Glorot & Bengio, 2010;
    handout Q2). The target is ``std = gain * sqrt(2 / (fan_in + fan_out))``,
    the compromise between keeping the forward variance (``1 / fan_in``) and
    the backward variance (``1 / fan_out``) constant; a uniform distribution
    on ``[-a, a]`` has standard deviation ``a / sqrt(3)``, hence
    ``a = sqrt(3) * std``. ``gain`` multiplies the standard deviation (e.g.
    ``calculate_gain("tanh")``).

    Fans come from :func:`compute_fans` in ``layout`` (PyTorch's
    ``(out, in, *kernel)`` by default). Returns a float64 array of exactly
    ``shape`` drawn from ``rng`` only; a shape with a zero dimension gives an
    empty array. Raises ``ValueError`` for an invalid shape or layout.

    Equivalent Keras initialiser: ``GlorotUniform`` (with ``gain = 1``), i.e.
    ``variance_scaling(shape, 1.0, "fan_avg", "uniform")``.
    """
    dims = _as_shape(shape)
    fan_in, fan_out = compute_fans(dims, layout)
    rng = _generator(rng)
    if fan_in + fan_out == 0:  # only possible when the array is empty
        return np.zeros(dims, dtype=np.float64)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    # (2u - 1) * bound with u ~ U(0, 1) is U(-bound, bound) for either sign of gain
    return np.asarray(bound * rng.uniform(-1.0, 1.0, size=dims), dtype=np.float64)


def xavier_normal(
    shape: tuple[int, ...] | list[int],
    gain: float = 1.0,
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    This is ``torch.nn.init.xavier_normal_`` (handout Q2): the Glorot variance
    ``2 / (fan_in + fan_out)`` (see :func:`xavier_uniform` and the module
    notes), scaled by ``gain^2``. The normal is *not* truncated; Keras'
    ``GlorotNormal`` is, and compensates with the 0.8796... constant (see
    :func:`variance_scaling`).

    Fans come from :func:`compute_fans` in ``layout``. Returns a float64
    array of exactly ``shape`` drawn from ``rng`` only; a shape with a zero
    dimension gives an empty array. Raises ``ValueError`` for an invalid
    shape or layout.
    """
    dims = _as_shape(shape)
    fan_in, fan_out = compute_fans(dims, layout)
    rng = _generator(rng)
    if fan_in + fan_out == 0:  # only possible when the array is empty
        return np.zeros(dims, dtype=np.float64)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return np.asarray(std * rng.standard_normal(dims), dtype=np.float64)


# --------------------------------------------------------------------------
# He / Kaiming (PyTorch)
# --------------------------------------------------------------------------
def he_uniform(
    shape: tuple[int, ...] | list[int],
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``U(-bound, bound)``, ``bound = sqrt(3) * gain / sqrt(fan)``.

    This is ``torch.nn.init.kaiming_uniform_`` (He et al., 2015; handout Q7):

    * ``gain = calculate_gain(nonlinearity, a)``, where ``a`` is the negative
      slope used by ``"leaky_relu"`` (the defaults ``a=0``,
      ``nonlinearity="leaky_relu"`` give ``sqrt(2)``, the ReLU gain);
    * ``fan`` is ``fan_in`` (``mode="fan_in"``: keeps the variance of the
      forward activations) or ``fan_out`` (``mode="fan_out"``: keeps the
      variance of the backward gradients);
    * ``std = gain / sqrt(fan)``, so ``Var(W) = 2 / fan`` for ReLU: half of
      the pre-activations are zeroed, ``E[relu(z)^2] = Var(z) / 2``, and the
      factor 2 restores the lost half (module notes, section 3);
    * a uniform on ``[-bound, bound]`` has standard deviation
      ``bound / sqrt(3)``, hence ``bound = sqrt(3) * std``
      (``sqrt(6 / fan_in)`` for ReLU, which is Keras' ``HeUniform``).

    Returns a float64 array of exactly ``shape`` drawn from ``rng`` only; a
    shape with a zero dimension gives an empty array.

    Raises
    ------
    ValueError
        Invalid shape or layout, ``mode`` other than ``"fan_in"`` /
        ``"fan_out"``, or an invalid ``nonlinearity`` / ``a`` (from
        :func:`calculate_gain`).
    """
    dims = _as_shape(shape)
    if not (isinstance(mode, str) and mode in _HE_MODES):
        raise ValueError(f"mode must be one of {_HE_MODES}, got {mode!r}")
    fan_in, fan_out = compute_fans(dims, layout)
    gain = calculate_gain(nonlinearity, a)
    rng = _generator(rng)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:  # only possible when the array is empty
        return np.zeros(dims, dtype=np.float64)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return np.asarray(bound * rng.uniform(-1.0, 1.0, size=dims), dtype=np.float64)


def he_normal(
    shape: tuple[int, ...] | list[int],
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``N(0, std^2)`` with ``std = calculate_gain(nonlinearity, a) / sqrt(fan)``.

    This is ``torch.nn.init.kaiming_normal_`` (handout Q7); ``gain``,
    ``fan`` and ``mode`` are as in :func:`he_uniform`. For ReLU in fan_in
    mode, ``Var(W) = 2 / fan_in``.

    The normal is *not* truncated. Keras' ``HeNormal`` has the same target
    variance but draws from a truncated normal with a wider nominal standard
    deviation (``variance_scaling(shape, 2.0, "fan_in", "truncated_normal")``);
    the two agree in variance, not in distribution (no Keras draw exceeds
    ``2 / 0.8796 * sqrt(2 / fan_in)`` in magnitude, a PyTorch draw may).

    Returns a float64 array of exactly ``shape`` drawn from ``rng`` only; a
    shape with a zero dimension gives an empty array. Raises ``ValueError``
    as :func:`he_uniform` does.
    """
    dims = _as_shape(shape)
    if not (isinstance(mode, str) and mode in _HE_MODES):
        raise ValueError(f"mode must be one of {_HE_MODES}, got {mode!r}")
    fan_in, fan_out = compute_fans(dims, layout)
    gain = calculate_gain(nonlinearity, a)
    rng = _generator(rng)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:  # only possible when the array is empty
        return np.zeros(dims, dtype=np.float64)
    std = gain / math.sqrt(fan)
    return np.asarray(std * rng.standard_normal(dims), dtype=np.float64)

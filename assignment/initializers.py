"""Task 1: weight initialisers with NumPy only.

Implement the seven functions below. Together they answer the handout's
questions on Xavier initialisation (Q2) and He initialisation (Q7) in code,
and reproduce what ``torch.nn.init`` and ``keras.initializers`` do.

Background
----------
A dense layer computes ``z_i = sum_j W_ij x_j`` over ``fan_in`` inputs. With
independent, zero-mean weights, ``Var(z_i) = fan_in * Var(W) * E[x^2]``; in
the backward pass each input's gradient is a sum over the ``fan_out`` units it
feeds. Unless ``Var(W)`` is matched to these fans, the variance of the
activations (forward) and of the gradients (backward) is multiplied by a
factor different from one at every layer, and a deep network's signals
explode or vanish (handout Q1 and Q4). Every scheme here is a choice of
``Var(W)`` that keeps that factor close to one, plus a distribution (normal,
truncated normal or uniform) with that variance.

A common misconception: a good initialisation does **not** start the weights
"close to the optimal values". Nobody knows the optimum before training, and
the weights are random. The
point is to keep activation and gradient variances stable across layers and to
break the symmetry between units.

Rules (the grader checks each of them)
--------------------------------------
* NumPy and the standard library only: no torch, TensorFlow, Keras or JAX.
* A ``shape`` is a ``tuple`` or ``list`` of Python or NumPy integers ``>= 0``.
  Raise ``ValueError`` for anything else: a float dimension (even ``3.0``), a
  bool (careful: ``isinstance(True, int)`` is ``True``), a negative
  dimension, or a shape that is not a tuple or list. ``np.int64(3)`` is *not*
  an instance of ``int`` but must be accepted.
* Random functions draw **only** from their ``rng`` argument (a
  ``numpy.random.Generator``; ``None`` means ``numpy.random.default_rng()``).
  Never call ``np.random.normal`` and friends (the global generator).
* They return a float64 ``numpy.ndarray`` of exactly ``shape``. A shape with a
  zero dimension returns an empty array of that shape, without a
  division-by-zero warning from a zero fan.
* ``xavier_*``, ``he_*`` and ``variance_scaling`` must obtain their fans and
  gains by calling ``compute_fans`` and ``calculate_gain`` (the functions of
  this module, by those names). The grader swaps in correct versions of the
  two helpers when it tests the others, so a mistake in a helper costs
  points once.
* No function modifies its arguments.

Useful NumPy: ``rng.standard_normal(size)``, ``rng.uniform(low, high, size)``,
``math.prod``, boolean-mask assignment ``a[mask] = ...``.
"""
from __future__ import annotations

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


def compute_fans(shape: tuple[int, ...] | list[int], layout: str = "torch") -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight of the given shape, as two Python ints.

    Layouts
    -------
    ``layout="torch"``: the shape is ``(out, in, *kernel)``, e.g. ``(64, 100)``
    for ``nn.Linear(100, 64)``, ``(32, 16, 3, 3)`` for ``nn.Conv2d(16, 32, 3)``.

    ``layout="keras"``: the shape is ``(*kernel, in, out)``, e.g. ``(100, 64)``
    for ``Dense(64)`` on 100 inputs, ``(3, 3, 16, 32)`` for ``Conv2D(32, 3)``
    on 16 channels.

    Formula
    -------
    With ``receptive = prod(kernel)`` (1 when there is no kernel)::

        fan_in  = in  * receptive
        fan_out = out * receptive

    Edge cases: in the torch layout a shape with fewer than two dimensions
    raises ``ValueError`` (as ``torch.nn.init`` does). In the keras layout a
    0-D shape ``()`` gives ``(1, 1)`` and a 1-D shape ``(n,)`` gives
    ``(n, n)`` (as ``keras.initializers`` does). Any layout other than
    ``"torch"`` or ``"keras"`` raises ``ValueError``, as does an invalid shape
    (see the module rules).

    Examples: ``compute_fans((64, 100)) == (100, 64)``;
    ``compute_fans((3, 3, 16, 32), layout="keras") == (144, 288)``.

    Common mistakes
    ---------------
    * Mixing up the layouts: reading a torch ``(out, in)`` weight as
      ``(in, out)`` swaps the two fans, and every fan_in scheme silently
      becomes a fan_out one.
    * Ignoring the receptive field: a 3x3 convolution has 9 times more inputs
      per output than its channel count suggests.
    * Taking the kernel from the wrong end: torch puts it *after* ``(out,
      in)``, keras *before* ``(in, out)``.
    * Accepting ``True`` or ``3.0`` as a dimension, or rejecting ``np.int64``.
    * Returning NumPy integers or floats instead of Python ints.
    """
    raise NotImplementedError


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Return the standard-deviation gain recommended for ``nonlinearity`` (a float).

    Reproduce ``torch.nn.init.calculate_gain``:

    =====================================================  =====================
    nonlinearity                                           gain
    =====================================================  =====================
    linear, conv1d/2d/3d, conv_transpose1d/2d/3d, sigmoid  1
    tanh                                                   5/3
    relu                                                   sqrt(2)
    leaky_relu                                             sqrt(2 / (1 + a^2))
    selu                                                   3/4
    =====================================================  =====================

    For ``leaky_relu`` the negative slope ``a`` is ``param``, or 0.01 when
    ``param`` is ``None``.

    Where the ReLU entries come from (handout Q7): ReLU zeroes the negative
    half of a symmetric pre-activation ``z``, so ``E[relu(z)^2] = Var(z) / 2``;
    a leaky ReLU keeps ``a^2`` of that half, ``E[f(z)^2] = (1 + a^2) Var(z) /
    2``. The gain ``g`` compensates: ``Var(W) = g^2 / fan``.

    Raises ``ValueError`` for an unknown nonlinearity name and for a ``param``
    that is not ``None`` and not a finite real number (bools, NaN, infinities,
    strings, arrays, complex numbers). NumPy scalars such as
    ``np.float32(0.2)`` are valid.

    Common mistakes
    ---------------
    * ``slope = param or 0.01``: ``0`` is falsy, so ``param=0`` would become
      0.01. ``param=0`` must give exactly ``sqrt(2)``.
    * Treating the gain as a variance factor: it multiplies the *standard
      deviation*; the variance is multiplied by ``gain ** 2``.
    * Forgetting that ``True`` passes ``isinstance(x, int)``.
    * Returning ``5 // 3`` or an int where a float is expected.
    """
    raise NotImplementedError


def variance_scaling(
    shape: tuple[int, ...] | list[int],
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    layout: str = "keras",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample a weight array of variance ``scale / max(1, n)``, as Keras' ``VarianceScaling``.

    Shapes: ``shape`` in ``layout`` (Keras' ``(*kernel, in, out)`` by default);
    returns a float64 array of exactly ``shape``.

    Formula
    -------
    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` for
    ``mode`` ``"fan_in"``, ``"fan_out"``, ``"fan_avg"``; ``s = scale / max(1,
    n)`` is the target *variance*. Then, by ``distribution``:

    * ``"truncated_normal"``: normal with standard deviation
      ``sqrt(s) / 0.87962566103423978``, where every value farther than two of
      these standard deviations from zero is **redrawn** (repeat until none
      is left). The constant is the standard deviation of a standard normal
      restricted to ``[-2, 2]``; dividing by it makes the final variance ``s``.
    * ``"untruncated_normal"``: normal with standard deviation ``sqrt(s)``.
    * ``"uniform"``: ``U(-sqrt(3 s), sqrt(3 s))``.

    Keras builds its named initialisers from this one: ``HeNormal`` is
    ``scale=2, mode="fan_in", "truncated_normal"``; ``GlorotUniform`` is
    ``scale=1, mode="fan_avg", "uniform"``.

    Raises ``ValueError`` for an invalid shape or layout, any other mode or
    distribution (including Keras' alias ``"normal"``), and a ``scale`` that
    is not a finite number ``> 0``.

    Common mistakes
    ---------------
    * Clipping instead of redrawing: ``np.clip`` moves about 4.6 % of the
      values onto the two bounds; the truncated normal has none there.
    * Forgetting the 0.8796... correction, so the variance comes out about
      23 % too small.
    * Using ``s`` as a standard deviation (it is a variance), or forgetting
      the ``sqrt(3)`` of the uniform.
    * Summing the fans for ``fan_avg`` instead of averaging them.
    * Dividing by a zero fan for an empty shape (``max(1, n)`` avoids it).
    * Drawing from ``np.random`` instead of ``rng``.
    """
    raise NotImplementedError


def xavier_uniform(
    shape: tuple[int, ...] | list[int],
    gain: float = 1.0,
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (handout Q2).

    This is ``torch.nn.init.xavier_uniform_``. Shapes: ``shape`` in
    ``layout`` (PyTorch's ``(out, in, *kernel)`` by default); returns a
    float64 array of exactly ``shape``.

    Why this variance: keeping the forward activations' variance constant
    needs ``Var(W) = 1 / fan_in``, keeping the backward gradients' variance
    constant needs ``Var(W) = 1 / fan_out``; Glorot and Bengio compromise on
    ``Var(W) = 2 / (fan_in + fan_out)``, i.e. ``std = gain * sqrt(2 / (fan_in
    + fan_out))``. A uniform on ``[-a, a]`` has variance ``a^2 / 3``, so
    ``a = sqrt(3) * std``. (The derivation assumes zero-mean activations,
    like tanh's; the sigmoid's outputs have mean 1/2, so Xavier helps sigmoid
    networks much less than tanh networks.)

    Raises ``ValueError`` for an invalid shape or layout (via
    ``compute_fans``).

    Common mistakes
    ---------------
    * ``sqrt(2 / ...)`` as the bound: that is the standard deviation; the
      uniform bound needs the extra ``sqrt(3)`` (hence the 6).
    * Using only ``fan_in``, or swapping the layout.
    * Applying ``gain`` to the variance instead of the standard deviation.
    * Computing the fans yourself instead of calling ``compute_fans``.
    * Drawing from ``np.random`` instead of ``rng``.
    """
    raise NotImplementedError


def xavier_normal(
    shape: tuple[int, ...] | list[int],
    gain: float = 1.0,
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))`` (handout Q2).

    This is ``torch.nn.init.xavier_normal_``: the Glorot variance of
    :func:`xavier_uniform`, drawn from a plain (untruncated) normal. Shapes:
    ``shape`` in ``layout``; returns a float64 array of exactly ``shape``.

    Raises ``ValueError`` for an invalid shape or layout.

    Common mistakes
    ---------------
    * Passing the variance where NumPy expects a standard deviation
      (``rng.normal(0, 2 / (fan_in + fan_out))`` is far too narrow).
    * Truncating: Keras' ``GlorotNormal`` truncates, PyTorch's
      ``xavier_normal_`` (this function) does not.
    * Swapping the layout or ignoring the receptive field of a convolution.
    * Drawing from ``np.random`` instead of ``rng``.
    """
    raise NotImplementedError


def he_uniform(
    shape: tuple[int, ...] | list[int],
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``U(-bound, bound)`` with ``bound = sqrt(3) * gain / sqrt(fan)`` (handout Q7).

    This is ``torch.nn.init.kaiming_uniform_``. Shapes: ``shape`` in
    ``layout``; returns a float64 array of exactly ``shape``.

    Formula
    -------
    * ``gain = calculate_gain(nonlinearity, a)``: ``a`` is the leaky-ReLU
      negative slope. The defaults (``a=0``, ``"leaky_relu"``) give
      ``sqrt(2)``, the ReLU gain.
    * ``fan = fan_in`` for ``mode="fan_in"`` (preserves the variance of the
      activations in the forward pass) or ``fan_out`` for ``mode="fan_out"``
      (preserves the variance of the gradients in the backward pass).
    * ``std = gain / sqrt(fan)``; for ReLU ``Var(W) = 2 / fan_in``, because
      ReLU zeroes half of the pre-activations (``E[relu(z)^2] = Var(z) / 2``)
      and the factor 2 compensates.
    * ``bound = sqrt(3) * std``.

    Raises ``ValueError`` for an invalid shape or layout, a mode other than
    ``"fan_in"`` / ``"fan_out"``, and an invalid ``nonlinearity`` or ``a``
    (``calculate_gain`` raises those).

    Common mistakes
    ---------------
    * ``std = 2 / fan`` (a variance) instead of ``sqrt(2 / fan)``.
    * Missing ``sqrt(3)`` in the uniform bound.
    * Using ``fan_out`` in fan_in mode because the layout was read the wrong
      way round.
    * Hard-coding ``sqrt(2)`` instead of calling ``calculate_gain``, which
      breaks ``a`` and the other nonlinearities.
    * Dividing by a zero fan for an empty shape.
    """
    raise NotImplementedError


def he_normal(
    shape: tuple[int, ...] | list[int],
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    layout: str = "torch",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample ``N(0, std^2)`` with ``std = calculate_gain(nonlinearity, a) / sqrt(fan)`` (handout Q7).

    This is ``torch.nn.init.kaiming_normal_``; ``gain``, ``fan`` and ``mode``
    are as in :func:`he_uniform`. Shapes: ``shape`` in ``layout``; returns a
    float64 array of exactly ``shape``.

    Raises ``ValueError`` like :func:`he_uniform`.

    Common mistakes
    ---------------
    * Truncating the normal: Keras' ``HeNormal`` is a truncated normal,
      PyTorch's ``kaiming_normal_`` is not. This function follows PyTorch.
    * Variance/standard-deviation confusion: ``Var(W) = 2 / fan_in`` for ReLU,
      so ``std = sqrt(2 / fan_in)``.
    * Swapped fans from a confused layout.
    * Drawing from ``np.random`` instead of ``rng``.
    """
    raise NotImplementedError

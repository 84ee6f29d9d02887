"""He initialisation in PyTorch and in Keras (the handout's Q7).

Both functions build the same small classifier::

    input (100) -> Dense/Linear 64 + ReLU -> Dense/Linear 10 (+ softmax in Keras)

with He-normal weights and zero biases: ``100*64 + 64 + 64*10 + 10 = 7,114``
parameters. ``torch`` and ``keras`` are imported inside the functions, so this
module can be imported (and the NumPy parts of the course used) on a machine
that has neither framework.

Why He initialisation for ReLU
------------------------------
For a layer ``z = W h`` with ``fan_in`` inputs and independent zero-mean
weights of variance ``Var(W)``, each pre-activation has
``E[z**2] = fan_in * Var(W) * E[h**2]``. If ``h = relu(z_prev)`` with
``z_prev`` symmetric around 0, then ``E[h**2] = Var(z_prev) / 2``: the ReLU
throws away half of the second moment. Choosing::

    Var(W) = 2 / fan_in            (std = sqrt(2 / fan_in))

makes the factor ``fan_in * Var(W) / 2`` equal to 1, so the scale of the
signal neither shrinks nor grows with depth (He et al., 2015). Xavier/Glorot,
``Var(W) = 2 / (fan_in + fan_out)``, was derived for activations that are
linear around 0 (tanh); with ReLU it loses about half of the variance per
layer. Initialisation cannot put the weights "close to the optimum" -- nothing
about the task is known yet; what it does is keep forward signals and
backward gradients at a usable scale and break the symmetry between units.

The two frameworks differ in the details
----------------------------------------
* **Layout.** A torch ``nn.Linear(100, 64)`` stores ``weight`` with shape
  ``(out, in) = (64, 100)`` and computes ``x @ weight.T + bias``; its fan_in
  is ``weight.shape[1]``. A Keras ``Dense(64)`` on 100 inputs stores
  ``kernel`` with shape ``(in, out) = (100, 64)`` and computes
  ``x @ kernel + bias``; its fan_in is ``kernel.shape[0]``. In both cases
  fan_in = 100 for the first layer and 64 for the second.
* **Distribution.** ``torch.nn.init.kaiming_normal_(w, mode="fan_in",
  nonlinearity="relu")`` draws from a plain normal ``N(0, 2 / fan_in)``.
  ``keras.initializers.HeNormal`` draws from a *truncated* normal: values
  beyond two standard deviations are redrawn. Truncation shrinks the
  variance by the factor ``0.87962566103423978 ** 2``, so Keras uses the
  underlying standard deviation ``sqrt(2 / fan_in) / 0.87962566103423978``
  to bring the variance of the result back to ``2 / fan_in``. Both therefore
  have variance ``2 / fan_in``; only the tails differ (Keras never produces a
  weight larger than about ``2.27 * sqrt(2 / fan_in)`` in magnitude).
* **Biases.** torch's ``nn.Linear`` initialises its bias from a uniform
  distribution; He initialisation says nothing about biases, so they are set
  to zero explicitly here. Keras' ``Dense`` already uses zeros.
* **Seeding.** torch draws from a ``torch.Generator``; Keras initializers
  take ``seed=``. With an integer seed a Keras initializer is deterministic,
  so the two kernels get different seeds (``seed`` and ``seed + 1``) to
  avoid correlated draws.

The handout's ``input_shape=`` argument
---------------------------------------
The handout passes ``input_shape=(100,)`` to the first ``Dense`` layer. In
Keras 3 layers no longer accept that argument cleanly: building the layer
emits a ``UserWarning`` ("Do not pass an `input_shape`/`input_dim` argument
to a layer. When using Sequential models, prefer using an `Input(shape)`
object as the first layer in the model instead."), which you can see in the
handout's own output. The Keras 3 way is to start the model with
``keras.Input(shape=(100,))``, as :func:`build_keras_model` does; the model
is then built immediately and emits no warning.
"""

from __future__ import annotations

__all__ = ["build_torch_model", "build_keras_model"]

_IN_FEATURES = 100
_HIDDEN = 64
_CLASSES = 10


def build_torch_model(seed: int = 0):
    """Return ``nn.Sequential(Linear(100, 64), ReLU(), Linear(64, 10))`` with He weights.

    Every ``weight`` is drawn with::

        torch.nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu",
                                      generator=g)

    i.e. from ``N(0, 2 / fan_in)`` with ``fan_in = weight.shape[1]`` (100,
    then 64: torch weights are ``(out, in)``), so the first layer's entries
    have standard deviation ``sqrt(2 / 100) ~= 0.1414``. Every bias is set to
    zero.

    All randomness comes from a ``torch.Generator`` seeded with ``seed``:
    the same seed gives identical weights, different seeds different ones,
    and torch's global random state is left untouched (the layers are
    created with ``torch.nn.utils.skip_init``, which skips their default
    initialisation, so that does not consume global random numbers either).

    The handout's version applies ``kaiming_normal_`` through
    ``model.apply`` and keeps torch's default (uniform) biases; it relies on
    the global seed for reproducibility.
    """
    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(int(seed))
    model = nn.Sequential(
        nn.utils.skip_init(nn.Linear, _IN_FEATURES, _HIDDEN),
        nn.ReLU(),
        nn.utils.skip_init(nn.Linear, _HIDDEN, _CLASSES),
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(
                    module.weight, mode="fan_in", nonlinearity="relu", generator=generator
                )
                nn.init.zeros_(module.bias)
    return model


def build_keras_model(seed: int = 0):
    """Return the handout's Keras model, built the Keras 3 way.

    ::

        keras.Input(shape=(100,))
        Dense(64, activation="relu",    kernel_initializer=HeNormal(seed=seed))
        Dense(10, activation="softmax", kernel_initializer=HeNormal(seed=seed + 1))

    with ``bias_initializer="zeros"`` (Keras' default, stated explicitly).
    Kernels are ``(in, out)``: ``(100, 64)`` and ``(64, 10)``. ``HeNormal``
    is ``VarianceScaling(scale=2, mode="fan_in",
    distribution="truncated_normal")``: a normal truncated at two standard
    deviations with underlying standard deviation
    ``sqrt(2 / fan_in) / 0.87962566103423978``, so that the weights end up
    with variance ``2 / fan_in``.

    The model has 7,114 parameters. Starting it with ``keras.Input`` rather
    than passing ``input_shape=`` to the first ``Dense`` layer (as the
    handout does) avoids Keras 3's ``UserWarning``; building it emits no
    warning. The same ``seed`` gives identical weights, different seeds
    different ones. The model is not compiled: choosing an optimiser and a
    loss is a separate step.
    """
    import keras

    seed = int(seed)
    return keras.Sequential(
        [
            keras.Input(shape=(_IN_FEATURES,)),
            keras.layers.Dense(
                _HIDDEN,
                activation="relu",
                kernel_initializer=keras.initializers.HeNormal(seed=seed),
                bias_initializer="zeros",
            ),
            keras.layers.Dense(
                _CLASSES,
                activation="softmax",
                kernel_initializer=keras.initializers.HeNormal(seed=seed + 1),
                bias_initializer="zeros",
            ),
        ],
        name="he_classifier",
    )

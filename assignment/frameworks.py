"""He initialisation in PyTorch and in Keras -- your task (the handout's Q7).

Build the same small classifier twice, once per framework::

    input (100) -> 64 units + ReLU -> 10 units (+ softmax in Keras)

with He-normal weights and zero biases. Replace each ``raise
NotImplementedError`` with your code and keep the signatures.

Import ``torch`` and ``keras`` *inside* the functions, not at the top of the
module, so that the module still imports on a machine without them (the
grader then reports the check as skipped).

Background you need
-------------------
* **Why He.** For ``z = W h`` with ``fan_in`` inputs and independent
  zero-mean weights, ``E[z**2] = fan_in * Var(W) * E[h**2]``. A ReLU zeroes
  the negative half of a symmetric input, which halves the second moment.
  Work out which ``Var(W)`` keeps the scale of the signal constant from one
  ReLU layer to the next, and compare it with Xavier's
  ``2 / (fan_in + fan_out)``.
* **Layouts.** torch's ``nn.Linear(in, out).weight`` has shape
  ``(out, in)``; Keras' ``Dense(out)`` on ``in`` inputs has a ``kernel`` of
  shape ``(in, out)``. Both frameworks compute fan_in correctly from their own
  layout -- but you need to know which number it is when you check your
  weights by hand.
* **Distributions.** ``torch.nn.init.kaiming_normal_`` draws from a plain
  normal. ``keras.initializers.HeNormal`` draws from a *truncated* normal
  (values beyond two standard deviations are redrawn) whose underlying
  standard deviation is enlarged by ``1 / 0.87962566103423978`` so that the
  variance after truncation is still the He variance. Expect slightly
  different tails, not different variances.
* **Older Keras code.** Many examples pass ``input_shape=(100,)`` to the
  first ``Dense`` layer. Keras 3 emits a ``UserWarning`` for that; find out
  from the warning text what Keras 3 wants instead. Your model must build
  without any warning.
* **Initialising only the weights.** Code that calls ``kaiming_normal_`` on
  the weights leaves torch's default (random) biases, and code that relies
  on the global random seed is not reproducible from ``seed``. Here the
  biases must be zero and the weights must depend only on ``seed``.

Count the parameters of the model by hand before you check it with
``model.count_params()`` (Keras) or a sum over ``model.parameters()``
(torch); the quiz asks related questions.
"""

from __future__ import annotations

__all__ = ["build_torch_model", "build_keras_model"]


def build_torch_model(seed: int = 0):
    """Return a torch module: Linear(100, 64) -> ReLU -> Linear(64, 10).

    Requirements:

    * every ``nn.Linear`` weight initialised with
      ``torch.nn.init.kaiming_normal_`` using ``mode="fan_in"`` and
      ``nonlinearity="relu"``, i.e. from ``N(0, 2 / fan_in)``;
    * every bias set to zero;
    * deterministic: the same ``seed`` gives identical weights, different
      seeds give different weights. Draw the weights from a
      ``torch.Generator`` seeded with ``seed`` (look at the ``generator``
      argument of the ``torch.nn.init`` functions) rather than reseeding
      torch's global generator behind the caller's back.

    Any model style is accepted: ``nn.Sequential`` or your own
    ``nn.Module`` subclass with a ``forward`` method.

    Check yourself: what standard deviation should the first layer's
    weights have? (Mind the layout: which dimension of ``weight`` is
    fan_in?)
    """
    raise NotImplementedError


def build_keras_model(seed: int = 0):
    """Return a Keras model: Input(100) -> Dense(64, relu) -> Dense(10, softmax).

    Requirements:

    * start from ``keras.Input(shape=(100,))`` (not ``input_shape=`` on a
      layer -- see the module docstring);
    * every kernel initialised with ``keras.initializers.HeNormal`` given an
      integer seed derived from ``seed``. An initializer with a fixed integer
      seed produces the same numbers every time it is called, so think about
      whether both layers should get the very same seed;
    * zero biases;
    * 7,114 parameters in total, and no warning while building.

    A ``keras.Sequential`` model or one built with the functional API is
    accepted. Compiling it is not required.

    Check yourself: what is the shape of the first layer's kernel, and what
    is the standard deviation of the truncated normal that ``HeNormal``
    samples from for it?
    """
    raise NotImplementedError

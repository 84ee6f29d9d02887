"""The written questions of the handout, made gradable -- your task.

There are seven questions, one for each of the handout's Q1-Q7. Answer them
by filling in ``ANSWERS`` at the bottom of this file: replace each ``None``
with your answer, written as follows.

* **Single choice** (q1, q5): one lowercase letter as a string, for
  example ``"q1": "c"``.
* **Multi-select** (q3, q6): a Python set of the lowercase names of *all*
  the options you select, for example ``"q3": {"relu", "linear"}``. An
  option not in your set counts as "not selected", so select every
  correct option and none of the wrong ones.
* **Numeric** (q2, q4, q7): a number (``int`` or ``float``, not a string),
  for example ``"q2": 0.5`` or ``"q4": 3.2e9``. It is accepted when
  ``|yours - correct| <= 1e-3 * |correct|`` (relative tolerance ``1e-3``),
  so give at least four significant digits; you may write an expression
  such as ``2 / 3`` or ``math.sqrt(2)``.

Leave ``QUESTIONS`` unchanged: it holds the same questions in a form a
grader can read. Everything you need is in HANDOUT.md and in the docstrings
of the assignment modules; working through ``diagnostics.py`` and
``frameworks.py`` first helps.

The questions
=============

q1 (single choice: answer one letter)
    A 6-layer tanh network is trained from a small random initialisation.
    The Frobenius norms of the loss gradient with respect to its weight
    matrices, input side first (as returned by mlp_gradient_norms), are
    [3e-9, 8e-7, 2e-4, 5e-3, 0.04, 0.6]. Which statement best describes the
    situation and its effect on training?
      a: The gradients are exploding: the output-side layers receive huge
          updates and the loss will diverge.
      b: The gradients are vanishing: the layers near the input receive
          updates many orders of magnitude smaller than the layers near the
          output, so they barely change and training is very slow or stalls.
      c: The gradients are vanishing in the output layer only, so the
          network cannot change its predictions.
      d: The gradients are healthy: gradient norms always decrease towards
          the input, and a shared learning rate compensates for it.
      e: Nothing can be concluded, because gradient norms are only
          meaningful relative to the value of the loss.

q2 (numeric: answer a number, relative tolerance 1e-3)
    A fully connected layer has fan_in = 256 and fan_out = 64. Xavier
    (Glorot) normal initialisation draws its weights from N(0, s) with gain
    1. What is the variance s?

q3 (multi-select: answer a set of names)
    Which of these activation functions saturate, i.e. their derivative
    tends to 0 both as z -> +inf and as z -> -inf, so that a unit whose
    pre-activation is large in magnitude passes almost no gradient back?
    Answer with the set of their names.
      sigmoid: sigmoid(z) = 1 / (1 + exp(-z))
      tanh: tanh(z)
      relu: relu(z) = max(0, z)
      leaky_relu: leaky_relu(z) = z for z > 0, 0.01 * z otherwise
      linear: linear(z) = z

q4 (numeric: answer a number, relative tolerance 1e-3)
    A network has 50 fully connected layers, no activation functions (every
    layer is linear) and no biases. The input and every layer have width
    100. All weights are independent with mean 0 and variance 0.02, and the
    input entries are independent with mean 0 and variance 1. By what factor
    is the variance of an output unit of layer 50 larger than the variance
    of an input entry? (A number such as 1.5e12 is fine.)

q5 (single choice: answer one letter)
    What is the main role of a proper weight initialisation (such as Xavier
    or He) in training a deep network?
      a: It places the weights close to their optimal values, so that only a
          few training steps are needed.
      b: It guarantees that gradient descent converges to the global minimum
          of the loss.
      c: It gives all weights of a layer the same value, so that the units
          of the layer learn in step with each other.
      d: It keeps the scale of the activations in the forward pass and of
          the gradients in the backward pass roughly constant from layer to
          layer, and breaks the symmetry between units, so that every layer
          receives useful updates from the first step.
      e: It makes the choice of activation function irrelevant, because any
          activation then works equally well.

q6 (multi-select: answer a set of names)
    Consider a batch normalisation layer that follows a linear layer. Which
    of the following statements are true? Answer with the set of the names
    of the true statements.
      per_channel: Its mean and variance are computed separately for each
          channel (feature), over the batch axis and any spatial axes.
      running_stats_in_training: In training mode it normalises each
          mini-batch with its running (moving-average) mean and variance.
      unbiased_running_var: PyTorch normalises a training batch with the
          biased batch variance (dividing by m) but updates its running
          variance with the unbiased one (dividing by m - 1).
      scale_invariant: In training mode, multiplying the weight matrix of
          the preceding linear layer by a constant c > 0 leaves the output
          of the batch normalisation unchanged (up to the small eps), which
          is why batch normalisation makes a network much less sensitive to
          the scale of its initial weights.
      constant_init_ok: Because the inputs of every layer are normalised,
          all weights can be initialised to one and the same constant (for
          example zero) without harming training.
      fixed_unit_variance: Its output always has mean 0 and variance 1,
          because the scale gamma and shift beta are fixed at 1 and 0.

q7 (numeric: answer a number, relative tolerance 1e-3)
    In PyTorch, the first layer of the model of frameworks.py is nn.Linear(100,
    64), and its weight is initialised with
    torch.nn.init.kaiming_normal_(weight, mode='fan_in',
    nonlinearity='relu'). What is the standard deviation of the normal
    distribution the entries of that weight are drawn from?

"""

from __future__ import annotations

import math  # noqa: F401  (handy for numeric answers such as math.sqrt(...))

__all__ = ["QUESTIONS", "ANSWERS", "NUMERIC_TOLERANCE"]

#: Relative tolerance used for every numeric question.
NUMERIC_TOLERANCE = 1e-3

QUESTIONS: dict[str, dict] = {
    "q1": {
        "kind": "single_choice",
        "text": (
            "A 6-layer tanh network is trained from a small random initialisation. "
            "The Frobenius norms of the loss gradient with respect to its weight "
            "matrices, input side first (as returned by mlp_gradient_norms), are "
            "[3e-9, 8e-7, 2e-4, 5e-3, 0.04, 0.6]. Which statement best describes "
            "the situation and its effect on training?"
        ),
        "choices": {
            "a": (
                "The gradients are exploding: the output-side layers receive huge "
                "updates and the loss will diverge."
            ),
            "b": (
                "The gradients are vanishing: the layers near the input receive "
                "updates many orders of magnitude smaller than the layers near the "
                "output, so they barely change and training is very slow or stalls."
            ),
            "c": (
                "The gradients are vanishing in the output layer only, so the "
                "network cannot change its predictions."
            ),
            "d": (
                "The gradients are healthy: gradient norms always decrease towards "
                "the input, and a shared learning rate compensates for it."
            ),
            "e": (
                "Nothing can be concluded, because gradient norms are only "
                "meaningful relative to the value of the loss."
            ),
        },
    },
    "q2": {
        "kind": "numeric",
        "text": (
            "A fully connected layer has fan_in = 256 and fan_out = 64. Xavier "
            "(Glorot) normal initialisation draws its weights from N(0, s) with "
            "gain 1. What is the variance s?"
        ),
        "tolerance": NUMERIC_TOLERANCE,
    },
    "q3": {
        "kind": "multi_select",
        "text": (
            "Which of these activation functions saturate, i.e. their derivative "
            "tends to 0 both as z -> +inf and as z -> -inf, so that a unit whose "
            "pre-activation is large in magnitude passes almost no gradient back? "
            "Answer with the set of their names."
        ),
        "choices": {
            "sigmoid": "sigmoid(z) = 1 / (1 + exp(-z))",
            "tanh": "tanh(z)",
            "relu": "relu(z) = max(0, z)",
            "leaky_relu": "leaky_relu(z) = z for z > 0, 0.01 * z otherwise",
            "linear": "linear(z) = z",
        },
    },
    "q4": {
        "kind": "numeric",
        "text": (
            "A network has 50 fully connected layers, no activation functions "
            "(every layer is linear) and no biases. The input and every layer "
            "have width 100. All weights are independent with mean 0 and "
            "variance 0.02, and the input entries are independent with mean 0 "
            "and variance 1. By what factor is the variance of an output unit "
            "of layer 50 larger than the variance of an input entry? (A number "
            "such as 1.5e12 is fine.)"
        ),
        "tolerance": NUMERIC_TOLERANCE,
    },
    "q5": {
        "kind": "single_choice",
        "text": (
            "What is the main role of a proper weight initialisation (such as "
            "Xavier or He) in training a deep network?"
        ),
        "choices": {
            "a": (
                "It places the weights close to their optimal values, so that only "
                "a few training steps are needed."
            ),
            "b": (
                "It guarantees that gradient descent converges to the global "
                "minimum of the loss."
            ),
            "c": (
                "It gives all weights of a layer the same value, so that the units "
                "of the layer learn in step with each other."
            ),
            "d": (
                "It keeps the scale of the activations in the forward pass and of "
                "the gradients in the backward pass roughly constant from layer to "
                "layer, and breaks the symmetry between units, so that every layer "
                "receives useful updates from the first step."
            ),
            "e": (
                "It makes the choice of activation function irrelevant, because "
                "any activation then works equally well."
            ),
        },
    },
    "q6": {
        "kind": "multi_select",
        "text": (
            "Consider a batch normalisation layer that follows a linear layer. "
            "Which of the following statements are true? Answer with the set of "
            "the names of the true statements."
        ),
        "choices": {
            "per_channel": (
                "Its mean and variance are computed separately for each channel "
                "(feature), over the batch axis and any spatial axes."
            ),
            "running_stats_in_training": (
                "In training mode it normalises each mini-batch with its running "
                "(moving-average) mean and variance."
            ),
            "unbiased_running_var": (
                "PyTorch normalises a training batch with the biased batch variance "
                "(dividing by m) but updates its running variance with the unbiased "
                "one (dividing by m - 1)."
            ),
            "scale_invariant": (
                "In training mode, multiplying the weight matrix of the preceding "
                "linear layer by a constant c > 0 leaves the output of the batch "
                "normalisation unchanged (up to the small eps), which is why batch "
                "normalisation makes a network much less sensitive to the scale of "
                "its initial weights."
            ),
            "constant_init_ok": (
                "Because the inputs of every layer are normalised, all weights can "
                "be initialised to one and the same constant (for example zero) "
                "without harming training."
            ),
            "fixed_unit_variance": (
                "Its output always has mean 0 and variance 1, because the scale "
                "gamma and shift beta are fixed at 1 and 0."
            ),
        },
    },
    "q7": {
        "kind": "numeric",
        "text": (
            "In PyTorch, the first layer of the model of frameworks.py is "
            "nn.Linear(100, 64), and its weight is initialised with "
            "torch.nn.init.kaiming_normal_(weight, mode='fan_in', "
            "nonlinearity='relu'). What is the standard deviation of the normal "
            "distribution the entries of that weight are drawn from?"
        ),
        "tolerance": NUMERIC_TOLERANCE,
    },
}


# Your answers: replace each None (see the module docstring for the format).
ANSWERS: dict[str, object] = {
    "q1": None,
    "q2": None,
    "q3": None,
    "q4": None,
    "q5": None,
    "q6": None,
    "q7": None,
}

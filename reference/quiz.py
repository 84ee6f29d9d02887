"""The written questions of the handout, made gradable -- with answers.

Seven questions, one for each of the handout's Q1-Q7 (vanishing gradients,
Xavier initialisation, saturating activations, exploding gradients, the role
of initialisation, batch normalisation, He initialisation in PyTorch and
Keras). ``QUESTIONS`` holds their text, kind and choices exactly as in
``assignment/quiz.py``; ``ANSWERS`` holds the correct answers:

* single choice: one lowercase letter, e.g. ``"b"``;
* multi-select: a set of lowercase names, e.g. ``{"sigmoid", "tanh"}``;
* numeric: a number, accepted within a relative tolerance of ``1e-3``
  (``|given - correct| <= 1e-3 * |correct|``).

Each question is repeated below with its answer and the reasoning behind it.

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

    Answer: b. The norms shrink by a large factor (between about 8 and 270)
    at every layer on the way to the input; first / last = 3e-9 / 0.6 = 5e-9, far below
    1 / 100, so diagnose() returns "vanishing". The gradient of a layer is
    the output gradient multiplied by one Jacobian per layer above it, so a
    per-layer shrink compounds geometrically with depth. With one learning
    rate for all layers, the input-side weights then barely move: the early
    layers, which compute the features everything else builds on, stop
    learning while the last layers still train. (a) is the opposite
    situation; (c) puts the problem on the wrong side; (d) is wrong because
    a healthy network has norms of similar size in every layer; (e) is
    wrong because the *ratio* of the two ends does not depend on the scale
    of the loss. See reference/diagnostics.py: the module docstring
    ("Backpropagation"), mlp_gradient_norms and diagnose.

q2 (numeric: answer a number, relative tolerance 1e-3)
    A fully connected layer has fan_in = 256 and fan_out = 64. Xavier
    (Glorot) normal initialisation draws its weights from N(0, s) with gain
    1. What is the variance s?

    Answer: 2 / (256 + 64) = 2 / 320 = 0.00625 (standard deviation
    sqrt(0.00625) ~= 0.0791). The forward pass keeps its scale when
    Var(W) = 1 / fan_in, the backward pass when Var(W) = 1 / fan_out;
    Xavier/Glorot compromises with Var(W) = 2 / (fan_in + fan_out), keeping both
    activations and gradients at a roughly constant scale for activations
    that are linear around 0, such as tanh. The usual slips are giving the
    standard deviation instead of the variance, or the uniform bound
    sqrt(6 / 320). See reference/initializers.py, xavier_normal and
    xavier_uniform.

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

    Answer: {"sigmoid", "tanh"}. sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) is
    at most 1/4 (at z = 0) and tends to 0 in both directions;
    tanh'(z) = 1 - tanh(z)**2 is at most 1 and also tends to 0 in both
    directions. relu has derivative 1 for every z > 0, so it does not
    saturate for large positive inputs (its problem is the opposite side:
    derivative 0 for z < 0, "dead" units); leaky_relu has derivative 1 or
    0.01 and linear has derivative 1 everywhere. Note also that even an
    unsaturated sigmoid divides the gradient by at least 4 per layer. See
    reference/diagnostics.py: the module docstring ("Saturation and dead
    units") and activation_stats, which measures the fraction of saturated
    sigmoid/tanh units and of dead relu units.

q4 (numeric: answer a number, relative tolerance 1e-3)
    A network has 50 fully connected layers, no activation functions (every
    layer is linear) and no biases. The input and every layer have width
    100. All weights are independent with mean 0 and variance 0.02, and the
    input entries are independent with mean 0 and variance 1. By what factor
    is the variance of an output unit of layer 50 larger than the variance
    of an input entry? (A number such as 1.5e12 is fine.)

    Answer: (100 * 0.02) ** 50 = 2 ** 50 = 1125899906842624 ~= 1.126e15.
    Each output unit of a linear layer is a sum of 100 uncorrelated products
    w * h, with w independent of h and E[w] = 0, so Var(z) = 100 * 0.02 * Var(h) = 2 Var(h): the
    variance doubles in every layer, and after 50 layers it has grown by
    2 ** 50. The backward pass multiplies by the transposed matrices and
    grows in the same way, so the gradients explode: updates are huge, the
    loss oscillates or diverges and the numbers overflow. A weight variance
    of 1 / 100 would make the factor exactly 1. Remedies: a scaled
    initialisation (Q2, Q7), normalisation layers (Q6) and gradient clipping.
    See reference/diagnostics.py: the module docstring (the 2 ** 50 example),
    diagnose and clip_by_global_norm.

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

    Answer: d. An initialisation is chosen before anything about the task
    has been learned, so it cannot place the weights "close to the
    optimum" -- (a), which the handout states, is a popular but wrong
    explanation. What a scaled
    initialisation does is keep the forward signal and the backward
    gradient at a usable scale in every layer (neither vanishing nor
    exploding), and random weights break the symmetry between units, so
    that every layer starts learning at once and training converges faster.
    (c) describes the symmetry problem itself: units with identical weights
    receive identical gradients and stay identical. (b) and (e) promise far
    more than any initialisation can. See reference/diagnostics.py (the
    module docstring on how the variance evolves with depth) and
    reference/frameworks.py ("Why He initialisation for ReLU").

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

    Answer: {"per_channel", "unbiased_running_var", "scale_invariant"}.
    Statistics are per channel over all other axes. In training mode the
    layer normalises with the statistics of the current mini-batch (mean
    and biased variance) and only *updates* its running statistics, which
    are used in evaluation mode -- so running_stats_in_training is false.
    PyTorch feeds the unbiased batch variance (times m / (m - 1)) into the
    running variance; Keras feeds the biased one. Scaling the incoming
    weights by c > 0 scales both x - mean and the batch standard deviation
    by c, which cancels (up to eps): this is why batch normalisation makes
    training less sensitive to the initial weight scale. It does not remove
    the need for random initialisation, though: identical weights still give
    identical units (constant_init_ok is false). gamma and beta are learned,
    so the output need not keep mean 0 and variance 1
    (fixed_unit_variance is false). See reference/batchnorm.py,
    batchnorm_forward.

q7 (numeric: answer a number, relative tolerance 1e-3)
    In PyTorch, the first layer of the model of frameworks.py is nn.Linear(100,
    64), and its weight is initialised with
    torch.nn.init.kaiming_normal_(weight, mode='fan_in',
    nonlinearity='relu'). What is the standard deviation of the normal
    distribution the entries of that weight are drawn from?

    Answer: sqrt(2 / 100) = 0.1414... . torch stores nn.Linear(100, 64).weight
    with shape (out, in) = (64, 100), so fan_in = 100 (not 64), and
    kaiming_normal_ with nonlinearity="relu" has gain sqrt(2) and draws from
    N(0, gain**2 / fan_in) = N(0, 2 / 100), an ordinary (untruncated)
    normal. The usual slips: sqrt(2 / 64) ~= 0.177 (wrong fan), 0.02 (the
    variance), or 0.1608 = 0.1414 / 0.8796, which is the underlying
    standard deviation of the *truncated* normal that Keras' HeNormal
    samples from for a (100, 64) kernel. See reference/frameworks.py, the
    module docstring and build_torch_model, and reference/initializers.py,
    he_normal and calculate_gain.

"""

from __future__ import annotations

import math

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


ANSWERS: dict[str, object] = {
    "q1": "b",
    "q2": 2 / (256 + 64),  # Xavier-normal variance, 0.00625
    "q3": {"sigmoid", "tanh"},
    "q4": (100 * 0.02) ** 50,  # = 2 ** 50, about 1.126e15
    "q5": "d",
    "q6": {"per_channel", "unbiased_running_var", "scale_invariant"},
    "q7": math.sqrt(2 / 100),  # He std for fan_in = 100, about 0.1414
}

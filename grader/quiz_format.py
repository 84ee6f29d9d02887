"""What a well-formed quiz answer looks like: the kinds and the options, no answers.

This is public: every question's kind and options are printed in the
assignment's ``quiz.py``. The answers themselves live in ``grader.quiz_key``,
which only the instructor's grader (and the Gradescope bundle) holds.
"""
from __future__ import annotations

__all__ = ["KIND", "OPTIONS", "TOLERANCE", "READ"]

#: question -> "single_choice" | "multi_select" | "numeric"
KIND: dict[str, str] = {
    "q1": "single_choice",
    "q2": "numeric",
    "q3": "multi_select",
    "q4": "numeric",
    "q5": "single_choice",
    "q6": "multi_select",
    "q7": "numeric",
}

#: Relative tolerance of every numeric question: |given - correct| <= TOLERANCE * |correct|.
TOLERANCE = 1e-3

OPTIONS: dict[str, tuple[str, ...]] = {
    "q1": ("a", "b", "c", "d", "e"),
    "q3": ("linear", "sigmoid", "relu", "tanh", "leaky_relu"),
    "q5": ("a", "b", "c", "d", "e"),
    "q6": ("per_channel", "running_stats_in_training", "unbiased_running_var",
           "constant_init_ok", "scale_invariant", "fixed_unit_variance"),
}

#: where, in what the student has, to read after a wrong answer
READ: dict[str, str] = {
    "q1": "the docstrings of mlp_gradient_norms and diagnose in diagnostics.py, and the "
          "handout's Q1",
    "q2": "the docstring of xavier_normal in initializers.py, and the handout's Q2",
    "q3": "the docstring of activation_stats in diagnostics.py (saturation), and the "
          "handout's Q3",
    "q4": "the docstring of mlp_gradient_norms in diagnostics.py (how a signal's variance "
          "multiplies layer by layer), and the handout's Q4",
    "q5": "the module docstring of initializers.py, and the handout's Q5 (which has a "
          "mistake: do not trust it blindly)",
    "q6": "the docstring of batchnorm_forward in batchnorm.py, and the handout's Q6",
    "q7": "the docstrings of he_normal in initializers.py and of build_torch_model in "
          "frameworks.py, and the handout's Q7",
}

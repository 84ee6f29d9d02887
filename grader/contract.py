"""The names fixed by SPEC: modules, functions, and the points each is worth.

Points are fixed per student function; the checks of a function share its
points by their weights (``grader.check.Check.weight``). The task totals are
the table in the README and add up to 100.
"""
from __future__ import annotations

__all__ = [
    "TASKS",
    "POINTS",
    "NUMPY_ONLY_TASKS",
    "FRAMEWORK_MODULES",
    "QUIZ_QUESTIONS",
    "task_points",
]

#: task (= module) -> {function: points}
POINTS: dict[str, dict[str, float]] = {
    "initializers": {
        "compute_fans": 4.0,
        "calculate_gain": 3.0,
        "variance_scaling": 6.0,
        "xavier_uniform": 5.0,
        "xavier_normal": 5.0,
        "he_uniform": 6.0,
        "he_normal": 6.0,
    },
    "batchnorm": {
        "batchnorm_forward": 12.0,
        "batchnorm_backward": 8.0,
    },
    "diagnostics": {
        "numerical_gradient": 3.0,
        "relative_error": 2.0,
        "mlp_gradient_norms": 5.0,
        "activation_stats": 3.0,
        "diagnose": 3.0,
        "clip_by_global_norm": 4.0,
    },
    "frameworks": {
        "build_torch_model": 5.0,
        "build_keras_model": 5.0,
    },
    "quiz": {f"q{i}": p for i, p in zip(range(1, 8), (2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0))},
}

TASKS: tuple[str, ...] = tuple(POINTS)
NUMPY_ONLY_TASKS: tuple[str, ...] = ("initializers", "batchnorm", "diagnostics")
QUIZ_QUESTIONS: tuple[str, ...] = tuple(POINTS["quiz"])

#: top-level packages a NumPy-only function must not use
FRAMEWORK_MODULES: tuple[str, ...] = ("torch", "tensorflow", "keras", "jax", "jaxlib", "tf_keras")


def task_points(task: str) -> float:
    return sum(POINTS[task].values())

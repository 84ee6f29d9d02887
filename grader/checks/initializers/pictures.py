"""Pictures of the initializers (feedback, no points; run for the HTML report and --plots).

* ``<function>.histogram``: the student's samples of the first case of each
  random initializer, binned over the target density, beside the framework's
  samples of the same law; the variance ratio in the title. A wrong
  truncation, a wrong family or a swapped fan shows by eye.
* ``he_normal.learning_curve`` (the seed's Q5): a 10-layer ReLU network on a
  synthetic task, trained from the student's ``he_normal`` weights and from
  N(0, 1) and N(0, 0.01²) weights.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from grader import stats, training
from grader.check import Check, Figure, values
from grader.checks.initializers.design import CASES, FAMILY_TEXT, RANDOM
from grader.checks.initializers.random_laws import framework_sample, student_sample
from grader.wire import Rng

__all__ = ["picture_checks"]

_EDGES = np.linspace(-4.0, 4.0, 81)


def _density(sample: np.ndarray, std: float) -> list[float]:
    counts, _ = np.histogram(sample / std, bins=_EDGES, density=True)
    return [float(c) for c in counts]


def _histogram(function: str, student, rng) -> Figure:
    case = CASES[function][0]
    t = case.target
    mine, _ = student_sample(student, case, rng)
    theirs = framework_sample(case, min(mine.size, 65536), rng, student.framework)
    ratio = float(np.mean(mine * mine) / t.var)
    grid = np.linspace(-4.0, 4.0, 401)
    law = stats.standard(t.family)
    return Figure(
        "histogram", f"{case.label()}: variance ratio {ratio:.3f}",
        f"A correct {function} follows the curve, the {FAMILY_TEXT[t.family]} law of variance "
        f"σ0² = {t.formula} = {t.var:.4g} (x in units of σ0), like the framework's samples, "
        "with a variance ratio of 1.00 ± 0.05.",
        {"edges": [float(e) for e in _EDGES], "student": _density(mine, t.std),
         "framework": _density(theirs, t.std), "grid": [float(v) for v in grid],
         "target": [float(v) for v in law.pdf(grid)], "ratio": ratio})


def _learning_curve(student, rng) -> Figure:
    g = np.random.default_rng(int(rng.integers(2**31)))
    shapes = training.layer_shapes()
    mine = [values(student(shape, nonlinearity="relu", rng=Rng((int(g.integers(2**31)),))),
                   f"he_normal({shape}, nonlinearity='relu')", shape, ordered=False)
            for shape in shapes]
    curves = {"your he_normal": training.capped(training.train(mine)),
              "N(0, 1)": training.capped(training.train([g.standard_normal(s) for s in shapes])),
              "N(0, 0.01²)": training.capped(training.train([g.normal(0.0, 0.01, s)
                                                             for s in shapes]))}
    return Figure(
        "curves", "Q5: training a 10-layer ReLU network from three initialisations",
        "With a correct he_normal the loss falls well below ln 4 ≈ 1.39 within 150 steps; "
        "N(0, 1) weights make the activations explode (the loss jumps to the top of the "
        "picture, where losses above 3 are drawn, and the network dies) and N(0, 0.01²) "
        "weights make them vanish (the loss stays flat at ln 4).",
        {"series": curves, "xlabel": "training step", "ylabel": "training loss (capped at 3)",
         "log": False})


def picture_checks() -> tuple[Check, ...]:
    checks = [Check(f"initializers.{f}.histogram", "experiment", partial(_histogram, f),
                    weight=0.0, requires=("torch",) if f != "variance_scaling" else
                    ("torch", "tensorflow"), figure=True, timeout_s=60.0) for f in RANDOM]
    checks.append(Check("initializers.he_normal.learning_curve", "experiment", _learning_curve,
                        weight=0.0, requires=("torch",), figure=True, timeout_s=60.0))
    return tuple(checks)

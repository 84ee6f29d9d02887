"""The pictures (``--plots``, ``--pictures``, the HTML report): feedback that carries no points.

A picture check draws the student's own function; it can only fail when the
function cannot be run (a stub: "not attempted"). What it shows is tested
here: the reference's pictures say what their captions promise, and a broken
function draws a visibly different picture.
"""
from __future__ import annotations

import math

import pytest

from conftest import REFERENCE, STUBS, grade, make_submission

TASKS = ("initializers", "batchnorm", "diagnostics")


def _figures(report) -> dict[str, dict]:
    return {c.id: c.figure for c in report.checks if c.figure is not None}


@pytest.fixture(scope="module")
def reference_pictures():
    return grade(REFERENCE, tasks=TASKS, figures=True)


def test_pictures_carry_no_points(reference_pictures):
    plain = grade(REFERENCE, tasks=TASKS)
    assert reference_pictures.units == plain.units
    assert reference_pictures.max_units == plain.max_units
    pictures = [c for c in reference_pictures.checks if c.figure is not None]
    assert pictures and all(c.max_units == 0 and c.status == "passed" for c in pictures)
    assert {c.id for c in plain.checks} < {c.id for c in reference_pictures.checks}


def test_reference_histograms_follow_the_law(reference_pictures):
    histograms = {i: f for i, f in _figures(reference_pictures).items() if i.endswith(".histogram")}
    assert len(histograms) == 5
    for check_id, fig in histograms.items():
        assert fig["kind"] == "histogram"
        assert abs(fig["data"]["ratio"] - 1.0) < 0.05, check_id
        assert len(fig["data"]["student"]) == len(fig["data"]["edges"]) - 1


def test_reference_learning_curves_tell_the_story(reference_pictures):
    figs = _figures(reference_pictures)
    he = figs["initializers.he_normal.learning_curve"]["data"]["series"]
    assert he["your he_normal"][-1] < 0.8 * math.log(4)
    assert abs(he["N(0, 0.01²)"][-1] - math.log(4)) < 0.05
    bn = figs["batchnorm.batchnorm_forward.training_curve"]["data"]["series"]
    assert abs(bn["plain"][-1] - math.log(4)) < 0.05
    assert bn["with your batchnorm_forward"][-1] < 0.8 * math.log(4)


def test_reference_depth_profiles_show_vanishing_and_steady_signals(reference_pictures):
    panels = _figures(reference_pictures)["diagnostics.activation_stats.depth_profile"]
    panels = panels["data"]["panels"]
    assert set(panels) == {"sigmoid", "tanh", "relu"}
    he = panels["relu"]["He"]
    assert 0.1 < he[-1] / he[0] < 10
    small = panels["tanh"]["N(0, 0.01²)"]
    assert small[-1] is None or small[-1] / small[0] < 1e-6
    grads = _figures(reference_pictures)["diagnostics.mlp_gradient_norms.depth_profile"]
    norms = grads["data"]["panels"]
    assert norms["sigmoid"]["Xavier"][0] < 1e-6 * norms["sigmoid"]["Xavier"][-1]
    assert norms["tanh"]["N(0, 1)"][0] > 1e3 * norms["tanh"]["N(0, 1)"][-1]
    steady = norms["relu"]["He"]
    assert max(steady) < 10 * min(steady)
    assert max(norms["tanh"]["N(0, 0.01²)"]) < 1e-20


def test_broken_functions_draw_a_different_picture(tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={
        "initializers": """
            def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                          layout="torch", rng=None):
                fan_in, fan_out = compute_fans(tuple(shape), layout)
                return _generator(rng).standard_normal(tuple(shape)) / math.sqrt(fan_in)
        """,
        "batchnorm": """
            def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                                  momentum=0.1, eps=1e-5):
                return x.copy(), {}, running_mean.copy(), running_var.copy()
        """})
    report = grade(sub, tasks=("initializers", "batchnorm"), figures=True,
                   functions=("he_normal", "batchnorm_forward"))
    figs = _figures(report)
    assert abs(figs["initializers.he_normal.histogram"]["data"]["ratio"] - 0.5) < 0.05
    flat = figs["batchnorm.batchnorm_forward.training_curve"]["data"]["series"]
    assert flat["with your batchnorm_forward"][-1] > 0.95 * math.log(4)  # it does not train


def test_stub_pictures_are_not_attempted():
    report = grade(STUBS, tasks=TASKS, figures=True)
    pictures = [c for c in report.checks if c.id.endswith(
        (".histogram", ".learning_curve", ".training_curve", ".depth_profile"))]
    assert pictures and all(c.status == "not_attempted" and c.figure is None for c in pictures)
    assert report.units == 0

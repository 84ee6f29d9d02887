"""Pinned messages of a sample of checks, as scikit-learn pins its estimator checks'.

A message reads plainly first (what the function should do, expected vs got,
the input); the evidence and the hint are separate fields. These tests fail
when a message changes, so that a change is a decision.
"""
from __future__ import annotations

import pytest

from banks import batchnorm, diagnostics, initializers
from conftest import grade, make_submission


def _record(bank, name):
    return next(r for r in bank if r.name == name)


def _checks(tmp_path, task, source, functions=None):
    report = grade(make_submission(tmp_path / "sub", overrides={task: source}), tasks=(task,),
                   functions=functions)
    return {c.id: c for c in report.checks}


def _record_checks(tmp_path, task, bank, name):
    """The checks of the function that bank record ``name`` breaks, on that record."""
    record = _record(bank, name)
    return _checks(tmp_path, task, record.source, functions=(record.function,))


def test_a_swapped_fan_names_the_mistake(tmp_path):
    c = _checks(tmp_path, "initializers",
                _record(initializers.BROKEN, "fans_swapped").source)
    check = c["initializers.compute_fans.torch_layout"]
    assert check.message == ("compute_fans((64, 100), layout='torch') returned (64, 100); "
                             "expected (fan_in, fan_out) = (100, 64) in the torch layout")
    assert check.hint == "Your answer is what this mistake gives: fan_in and fan_out swapped."
    waiting = c["initializers.compute_fans.invalid_input"]
    assert waiting.message == (
        "waits for correct basic values: this property earns points once compute_fans gives "
        "correct results on basic inputs (compute_fans((8, 4, 3, 3)): result[0] is 72, "
        "expected 36)")


def test_a_string_where_a_number_belongs(tmp_path):
    c = _checks(tmp_path, "diagnostics", "def relative_error(a, b):\n    return 'small'\n")
    assert c["diagnostics.relative_error.formula"].message == (
        "relative_error(a, b) should return a number (a Python float); got the str 'small'")


def test_the_keepdims_habit_costs_only_the_shape_check(tmp_path):
    c = _checks(tmp_path, "batchnorm",
                _record(batchnorm.BROKEN, "forward_keepdims_statistics").source)
    assert c["batchnorm.batchnorm_forward.shape_dtype"].message == (
        "batchnorm_forward (training=True, x of shape (4, 3)): new_running_mean should return "
        "shape (3,); got (1, 3)")
    assert [i for i, r in c.items() if r.status != "passed"] == [
        "batchnorm.batchnorm_forward.shape_dtype"]


def test_an_eval_mode_bug_is_hinted_as_one(tmp_path):
    source = '''
        _ref_forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5, unbiased_running_var=True):
            out, rm, rv = _ref_forward(x, gamma, beta, running_mean, running_var, training,
                                       momentum, eps, unbiased_running_var)
            if not training and np.asarray(x).shape[0] > 1:
                xs = np.asarray(x, dtype=float)
                axes = _reduce_axes(xs)
                mu, var = xs.mean(axis=axes), xs.var(axis=axes)
                out = (_per_channel(gamma, xs.ndim) * (xs - _per_channel(mu, xs.ndim))
                       / np.sqrt(_per_channel(var, xs.ndim) + eps) + _per_channel(beta, xs.ndim))
            return out, rm, rv
    '''
    c = _checks(tmp_path, "batchnorm", source)
    hint = ("In evaluation mode (training=False) normalise with running_mean and running_var, "
            "not with the statistics of the batch.")
    assert c["batchnorm.batchnorm_forward.channel_scales"].hint == hint
    assert c["batchnorm.batchnorm_forward.eval_values"].hint == hint
    assert c["batchnorm.batchnorm_forward.eval_values"].status == "failed"


def test_an_inverted_diagnose_is_told_so(tmp_path):
    c = _checks(tmp_path, "diagnostics", _record(diagnostics.BROKEN, "dg_inverted").source)
    assert c["diagnostics.diagnose.boundaries"].hint.startswith(
        "'vanishing' and 'exploding' are swapped")
    assert "got the str 'exploding'" in c["diagnostics.diagnose.special_cases"].message


@pytest.mark.parametrize("source, prop", [
    (_record(initializers.BROKEN, "xu_missing_sqrt3").source, "variance"),
])
def test_statistical_messages_lead_with_plain_words(tmp_path, source, prop):
    c = _checks(tmp_path, "initializers", source)
    check = c[f"initializers.xavier_uniform.{prop}"]
    import re

    assert re.match(r"xavier_uniform should draw weights of variance σ0²\. "
                    r"xavier_uniform\(\(512, 64\)\): your samples' variance is 0\.33\d× the "
                    r"target σ0² = gain²·2/\(fan_in\+fan_out\) = 1²·2/\(64\+512\) = 0\.003472",
                    check.message), check.message
    assert "KS" not in check.message and "DKW" not in check.message
    assert "fails this with" in check.evidence
    assert "√3" in check.hint


def test_no_message_cites_what_a_student_does_not_have():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "grader"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SPEC §" not in text, path
        assert "reference/" not in text or path.name in ("integrity.py",), path


def test_the_evaluation_mode_gradient_is_named_in_the_backward_hint(tmp_path):
    c = _record_checks(tmp_path, "batchnorm", batchnorm.BROKEN, "backward_statistics_as_constants")
    check = c["batchnorm.batchnorm_backward.values"]  # shrunk to x of shape (2, 1)
    assert "treats the batch mean and variance as constants" in check.hint
    assert c["batchnorm.batchnorm_backward.finite_differences"].mistake == (
        "the batch statistics treated as constants")
    one_path = _record_checks(tmp_path / "one", "batchnorm", batchnorm.BROKEN,
                              "backward_without_variance_term")
    assert "path through the batch variance" in (
        one_path["batchnorm.batchnorm_backward.values"].hint)


def test_a_rescaled_normal_is_told_its_scale_not_another_law(tmp_path):
    source = '''
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            fan_in, fan_out = compute_fans(shape, layout)
            rng = np.random.default_rng() if rng is None else rng
            std = gain * 2.0 / max(1, fan_in + fan_out)  # the variance used as the std
            return std * rng.standard_normal(tuple(shape))
    '''
    c = _checks(tmp_path, "initializers", source, functions=("xavier_normal",))
    assert c["initializers.xavier_normal.distribution"].hint.startswith(
        "The shape of the distribution is right but the scale is not")
    assert c["initializers.xavier_normal.variance"].mistake == (
        "the variance used as the standard deviation")


def test_a_capitalised_verdict_is_named_as_spelling_not_as_a_missed_explosion(tmp_path):
    c = _record_checks(tmp_path, "diagnostics", diagnostics.BROKEN, "dg_capitalised_verdicts")
    special = c["diagnostics.diagnose.special_cases"]
    assert special.message == ("diagnose([inf, 1]) should be 'exploding' (a norm that is not "
                               "finite); got the str 'Exploding'")
    assert special.hint == ("Right verdict, wrong spelling: return exactly one of the lowercase "
                            "strings 'vanishing', 'exploding', 'healthy', here 'exploding'.")
    assert special.mistake == "verdict not spelled as a lowercase label"
    assert c["diagnostics.diagnose.boundaries"].mistake == (
        "verdict not spelled as a lowercase label")


def test_a_nan_read_as_healthy_is_named_a_missed_explosion(tmp_path):
    c = _record_checks(tmp_path, "diagnostics", diagnostics.BROKEN, "dg_nan_not_exploding")
    special = c["diagnostics.diagnose.special_cases"]
    assert special.mistake == "non-finite norms not read as exploding"
    assert special.hint == ("A norm that is inf or NaN means the gradient exploded: check "
                            "that first.")


def test_a_uniform_where_a_normal_belongs_is_named_once(tmp_path):
    c = _record_checks(tmp_path, "initializers", initializers.BROKEN,
                       "hn_uniform_instead_of_normal")
    named = {r.mistake for r in c.values() if r.mistake}
    assert named == {"a uniform law instead of a normal one"}


def test_a_repeated_row_is_sent_to_the_independence_check_not_named_clipping(tmp_path):
    """Every row the same piles the row's largest value at ±max|w| too (1.6 % of the
    values of a (512, 64) shape): only a pile beside distinct values is clipping."""
    c = _record_checks(tmp_path, "initializers", initializers.BROKEN, "hn_repeated_rows")
    distribution = c["initializers.he_normal.distribution"]
    assert distribution.hint.startswith("Only 0.2 % of your values are distinct, so they "
                                        "cannot follow a continuous law")
    assert {r.mistake for r in c.values() if r.mistake} == set()
    clipped = _record_checks(tmp_path / "clip", "initializers", initializers.BROKEN,
                             "vs_clipped_not_redrawn")
    assert "values clipped onto the edge instead of redrawn" in {
        r.mistake for r in clipped.values()}


def test_a_gradient_several_mistakes_give_names_none_of_them(tmp_path):
    """On x of shape (2, 1) the gradient without the mean's path is also that of constant
    statistics: the values check lists both; finite differences on a larger input name one."""
    c = _record_checks(tmp_path, "batchnorm", batchnorm.BROKEN, "backward_without_mean_term")
    values = c["batchnorm.batchnorm_backward.values"]
    assert values.hint.startswith("On this input your answer fits more than one mistake.")
    assert values.mistake == ""
    assert {r.mistake for r in c.values() if r.mistake} == {
        "the path through the batch mean missing"}


def test_a_renamed_parameter_is_an_error_with_the_signature_hint_not_a_wrong_refusal(tmp_path):
    c = _checks(tmp_path, "initializers", (
        "_he = he_normal\n"
        "def he_normal(shape, a=0.0, fan_mode='fan_in', nonlinearity='leaky_relu', "
        "layout='torch', rng=None):\n"
        "    return _he(shape, a, fan_mode, nonlinearity, layout, rng)\n"),
        functions=("he_normal",))
    check = c["initializers.he_normal.invalid_input"]
    assert check.status == "error"
    assert check.message.startswith("he_normal((8, 4), mode='fan_avg') raised TypeError: "
                                    "he_normal() got an unexpected keyword argument 'mode'")
    assert check.hint == ("he_normal's parameters must stay as the stub has them (names, "
                          "order and defaults; CONTRACT.md lists them), and every call of it "
                          "must match them.")

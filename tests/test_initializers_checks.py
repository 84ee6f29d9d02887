"""The checks of initializers.py: full marks for correct code, points lost for broken code.

Every broken implementation in ``broken_initializers.BROKEN`` must lose points
in a check of exactly the function it breaks (``assert_only``) and in the
checks listed in :data:`MUST_FAIL`; together they fail every check of the
task. The statistical design itself (false-failure bounds) is tested on the
numbers here and by Monte-Carlo in ``python -m bench``.
"""
from __future__ import annotations

import math

import pytest
from broken_initializers import BROKEN, CORRECT, FLOAT32
from conftest import REFERENCE, STUBS, assert_only, grade

from grader import stats
from grader.checks import all_checks
from grader.checks import initializers as checks
from grader.runner import RunOptions, run
from grader.submission import locate

TASK = "initializers"
OWN_IDS = {c.id for c in checks.CHECKS}

# broken implementation -> checks (property names) that must fail, beyond assert_only
MUST_FAIL: dict[str, set[str]] = {
    "fans_swapped": {"compute_fans.torch_layout", "compute_fans.keras_layout",
                     "compute_fans.torch_parity", "compute_fans.keras_parity"},
    "fans_receptive_field_ignored": {"compute_fans.torch_layout", "compute_fans.keras_layout"},
    "fans_keras_read_as_torch": {"compute_fans.keras_layout", "compute_fans.keras_parity"},
    "fans_accepts_bool_and_float": {"compute_fans.invalid_input"},
    "fans_torch_1d_allowed": {"compute_fans.invalid_input", "compute_fans.torch_parity"},
    "fans_returns_floats": {"compute_fans.torch_layout", "compute_fans.keras_layout"},
    "gain_selu_wrong": {"calculate_gain.values", "calculate_gain.torch_parity"},
    "gain_tanh_wrong": {"calculate_gain.values", "calculate_gain.torch_parity"},
    "gain_leaky_default_slope_zero": {"calculate_gain.values", "calculate_gain.torch_parity"},
    "gain_param_zero_treated_as_missing": {"calculate_gain.values"},
    "gain_leaky_not_square_rooted": {"calculate_gain.values"},
    "gain_unknown_name_is_one": {"calculate_gain.invalid_input"},
    "gain_accepts_bool_param": {"calculate_gain.invalid_input"},
    "xu_missing_sqrt3": {"xavier_uniform.variance", "xavier_uniform.support",
                         "xavier_uniform.distribution", "xavier_uniform.torch_parity"},
    "xu_fan_in_only": {"xavier_uniform.variance", "xavier_uniform.support"},
    "xu_gain_ignored": {"xavier_uniform.variance", "xavier_uniform.torch_parity"},
    "xu_normal_instead_of_uniform": {"xavier_uniform.distribution", "xavier_uniform.support",
                                     "xavier_uniform.shape_dtype"},
    "xu_transposed_output": {"xavier_uniform.variance", "xavier_uniform.shape_dtype",
                             "xavier_uniform.independence", "xavier_uniform.reproducible"},
    "xu_global_np_random": {"xavier_uniform.reproducible"},
    "xu_mean_shifted": {"xavier_uniform.mean"},
    "xu_no_error_on_bad_layout": {"xavier_uniform.invalid_input"},
    "xn_std_used_as_variance": {"xavier_normal.variance", "xavier_normal.distribution",
                                "xavier_normal.support", "xavier_normal.torch_parity"},
    "xn_gain_squared": {"xavier_normal.variance"},
    "xn_truncated_like_keras": {"xavier_normal.support"},
    "xn_fixed_seed": {"xavier_normal.independence"},
    "xn_correlated_neighbours": {"xavier_normal.independence"},
    "xn_float_dims_accepted": {"xavier_normal.invalid_input"},
    "hu_fans_swapped": {"he_uniform.variance", "he_uniform.support", "he_uniform.torch_parity"},
    "hu_layout_ignored": {"he_uniform.variance"},
    "hu_receptive_field_ignored": {"he_uniform.variance"},
    "hu_gain_squared": {"he_uniform.variance"},
    "hu_zero_size_crashes": {"he_uniform.shape_dtype"},
    "hu_one_sided": {"he_uniform.mean", "he_uniform.distribution", "he_uniform.independence"},
    "hn_xavier_instead_of_he": {"he_normal.variance", "he_normal.torch_parity"},
    "hn_mode_ignored": {"he_normal.variance", "he_normal.torch_parity"},
    "hn_accepts_fan_avg": {"he_normal.invalid_input"},
    "hn_repeated_rows": {"he_normal.independence"},
    "hn_slope_ignored": {"he_normal.variance", "he_normal.invalid_input"},
    "vs_truncated_not_rescaled": {"variance_scaling.variance", "variance_scaling.support",
                                  "variance_scaling.distribution"},
    "vs_clipped_not_redrawn": {"variance_scaling.variance", "variance_scaling.independence"},
    "vs_truncated_at_3_sigma": {"variance_scaling.support", "variance_scaling.variance"},
    "vs_accepts_normal_alias": {"variance_scaling.invalid_input"},
    "vs_uniform_missing_sqrt3": {"variance_scaling.variance", "variance_scaling.support"},
    "vs_fan_avg_without_half": {"variance_scaling.variance", "variance_scaling.keras_parity"},
    "vs_untruncated_is_truncated": {"variance_scaling.support"},
    "vs_default_layout_torch": {"variance_scaling.variance", "variance_scaling.keras_parity",
                                "variance_scaling.shape_dtype"},
    "vs_scale_zero_accepted": {"variance_scaling.invalid_input"},
    "xn_half_normal": {"xavier_normal.mean", "xavier_normal.distribution"},
    "xn_global_np_random": {"xavier_normal.reproducible"},
    "xn_returns_list": {"xavier_normal.shape_dtype", "xavier_normal.variance"},
    "hu_mode_unchecked": {"he_uniform.invalid_input"},
    "hu_fresh_generator": {"he_uniform.reproducible"},
    "hn_squeezed": {"he_normal.shape_dtype"},
    "hn_mean_shifted": {"he_normal.mean"},
    "hn_uniform_instead_of_normal": {"he_normal.support", "he_normal.distribution"},
    "hn_np_random_randn": {"he_normal.reproducible"},
    "vs_uniform_shifted": {"variance_scaling.mean", "variance_scaling.support"},
    "vs_global_state_for_normal": {"variance_scaling.reproducible"},
}

# broken implementation -> a phrase the hint of one of its failed checks must contain
HINTS = {
    "xu_missing_sqrt3": "√3",
    "hu_fans_swapped": "swapped",
    "hu_receptive_field_ignored": "receptive field",
    "hu_layout_ignored": "layout",
    "vs_truncated_not_rescaled": "not rescaled",
    "vs_fan_avg_without_half": "/2 missing",
    "hn_xavier_instead_of_he": "gain ignored",
    "xu_normal_instead_of_uniform": "normal",
    "gain_leaky_default_slope_zero": "0.01",
    "fans_swapped": "swapped",
}


def _grade_subset(path, seed: int, kinds: tuple[str, ...]):
    selected = [c for c in all_checks() if c.task == TASK and c.kind in kinds]
    return run(locate(str(path)), selected, RunOptions(seed=seed, tasks=(TASK,), jobs=2))


def _failed(report) -> dict[str, str]:
    return {c.id.split(".", 1)[1]: c for c in report.checks if c.status != "passed"}


# ------------------------------------------------------------------ correct code
@pytest.mark.parametrize("seed", range(5))
def test_reference_full_marks(seed):
    report = grade(REFERENCE, tasks=(TASK,), seed=seed)
    bad = {c.id: (c.status, c.message[:300]) for c in report.checks if c.status != "passed"}
    assert not bad
    assert {c.id for c in report.checks} >= OWN_IDS


@pytest.mark.parametrize("seed", range(5, 20))
def test_reference_statistical_checks_pass_for_seeds_5_to_19(seed):
    report = _grade_subset(REFERENCE, seed, ("statistical", "parity"))
    assert report.checks
    bad = {c.id: (c.status, c.message[:300]) for c in report.checks if c.status != "passed"}
    assert not bad


@pytest.mark.parametrize("seed", range(3))
def test_correct_variant_full_marks(broken, seed):
    report = broken(TASK, CORRECT, seed=seed)
    bad = {c.id: (c.status, c.message[:300]) for c in report.checks if c.status != "passed"}
    assert not bad


def test_float32_output_full_marks(broken):
    report = broken(TASK, FLOAT32)
    bad = {c.id: (c.status, c.message[:300]) for c in report.checks if c.status != "passed"}
    assert not bad


def test_stubs_not_attempted():
    report = grade(STUBS, tasks=(TASK,))
    own = [c for c in report.checks if c.id in OWN_IDS]
    assert own
    assert {c.status for c in own} <= {"not_attempted", "skipped"}
    assert any(c.status == "not_attempted" for c in own)


# ------------------------------------------------------------------ broken code
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_loses_points_in_its_function_only(broken, name):
    function, source = BROKEN[name]
    report = broken(TASK, source)
    assert_only(report, function)
    failed = _failed(report)
    missing = MUST_FAIL[name] - set(failed)
    assert not missing, f"{name} passed {sorted(missing)}"
    for c in failed.values():
        assert c.message, c.id
    if name in HINTS:
        hints = " ".join(c.hint for c in failed.values())
        assert HINTS[name] in hints, hints


def test_every_check_is_caught_by_some_broken_implementation():
    caught = set().union(*MUST_FAIL.values())
    own = {i.split(".", 1)[1] for i in OWN_IDS}
    assert own - caught == set()
    assert set(MUST_FAIL) == set(BROKEN)
    assert len(BROKEN) >= 25


# ------------------------------------------------------------------ the design
def test_every_statistical_check_stays_within_its_false_failure_budget():
    for function, cases in checks.CASES.items():
        variance = sum(stats.variance_false_failure(c.size, c.target.family) for c in cases)
        support = sum(stats.support_false_failure(c.size, c.target.family) for c in cases)
        unique = sum(stats.unique_false_failure(c.size) for c in cases)
        assert variance <= 1e-18 and support <= 2e-9 and unique <= 1e-100, function
        n_axes = sum(len(checks._axes(c.shape)) for c in cases)
        assert n_axes * 2 * math.exp(-stats.sign_threshold(
            (checks.CHECK_ALPHA - unique) / n_axes) ** 2 / 2) <= 2e-9 * (1 + 1e-12)
        assert all(c.size >= checks.MIN_SAMPLES for c in cases)
        assert checks.KS_ALPHA <= checks.CHECK_ALPHA


def test_cases_have_unequal_fans_in_both_layouts_and_conv_shapes():
    for function, cases in checks.CASES.items():
        layouts, conv = set(), False
        for c in cases:
            layout = {**checks.DEFAULTS[function], **c.kw}["layout"]
            layouts.add(layout)
            fan_in, fan_out = checks.ref.compute_fans(c.shape, layout)
            assert max(fan_in, fan_out) >= 4 * min(fan_in, fan_out)
            conv |= len(c.shape) > 2
        assert layouts == {"torch", "keras"} and conv, function


def test_stated_numbers():
    assert stats.ks_threshold(16384, 1e-9) == pytest.approx(0.02557, abs=1e-5)
    assert stats.support_false_failure(16384, "uniform") == pytest.approx(math.exp(-32.8),
                                                                          rel=0.05)
    assert stats.variance_false_failure(16384, "normal") < 1e-18
    assert stats.variance_false_failure(16384, "uniform") < 1e-18
    assert stats.variance_false_failure(16384, "truncated_normal") < 1e-18
    for family in stats.FAMILIES:
        for rho in (1.25, 1.5, 2.0, 3.0, 1 / 3, 0.774):
            assert stats.variance_miss(32768, family, rho) < 1e-27, (family, rho)
    assert stats.sign_threshold(2e-9) == pytest.approx(6.44, abs=0.01)
    assert stats.standard("truncated_normal").std() == pytest.approx(1.0, abs=1e-12)
    assert stats.TRUNCATED_STD == checks.ref.TRUNCATED_NORMAL_STD


def test_variance_hint_names_known_mistakes():
    case = checks.CASES["he_normal"][0]  # (512, 64), fan_in 64, fan_out 512
    assert "swapped" in checks._variance_hint(case, 64 / 512)
    assert "gain ignored" in checks._variance_hint(case, 0.5)
    uniform = checks.CASES["xavier_uniform"][1]
    assert "√3" in checks._variance_hint(uniform, 1 / 3)
    truncated = checks.CASES["variance_scaling"][0]
    assert "not rescaled" in checks._variance_hint(truncated, 0.774)
    assert "clipped" in checks._variance_hint(truncated, 1.19)



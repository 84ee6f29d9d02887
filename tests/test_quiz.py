"""The quiz checks: right, kindly-written, wrong, partly right and mistyped answers
get the documented points, and no answer appears in plain text in grader/."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

import reference.quiz as ref
from conftest import REFERENCE, ROOT, STUBS, assert_only, grade, lost, make_submission
from grader import quiz_format, quiz_key
from grader.checks import quiz
from leaks import forbidden_strings, leaks
from grader.contract import POINTS, QUIZ_QUESTIONS


def _answers_source(**answers) -> str:
    """Source that reassigns some entries of ANSWERS (appended to the reference)."""
    lines = ["import math", "ANSWERS = dict(ANSWERS)"]
    lines += [f"ANSWERS[{q!r}] = {src}" for q, src in answers.items()]
    return "\n".join(lines)


def _grade_quiz(tmp_path, **answers):
    sub = make_submission(tmp_path / "sub", overrides={"quiz": _answers_source(**answers)})
    return grade(sub, tasks=("quiz",))


def _by_q(report) -> dict:
    return {c.function: c for c in report.checks}


@pytest.mark.parametrize("seed", range(5))
def test_reference_gets_full_marks(seed):
    report = grade(REFERENCE, tasks=("quiz",), seed=seed)
    assert not lost(report)
    assert report.tasks[0].score == sum(POINTS["quiz"].values())


def test_stubs_are_not_attempted():
    report = grade(STUBS, tasks=("quiz",))
    assert {c.status for c in report.checks} == {"not_attempted"}
    assert all("not answered yet" in c.message for c in report.checks)


def test_key_matches_the_questions_and_the_reference_answers():
    assert tuple(quiz_format.KIND) == QUIZ_QUESTIONS == tuple(ref.QUESTIONS)
    assert quiz_format.TOLERANCE == ref.NUMERIC_TOLERANCE
    for q, spec in ref.QUESTIONS.items():
        assert quiz_format.KIND[q] == spec["kind"]
        if "choices" in spec:
            assert sorted(quiz_format.OPTIONS[q]) == sorted(spec["choices"])
        answer = ref.ANSWERS[q]
        if spec["kind"] == "single_choice":
            assert [x for x in quiz_format.OPTIONS[q] if quiz_key.choice_is(q, x)] == [answer]
        elif spec["kind"] == "multi_select":
            assert {x for x in quiz_format.OPTIONS[q]
                    if quiz_key.option_is_selected(q, x)} == answer
        else:
            assert quiz_key.numeric_value(q) == pytest.approx(answer, rel=1e-12)


def test_kindly_written_right_answers_pass(tmp_path):
    report = _grade_quiz(
        tmp_path,
        q1='" (B) "',
        q2="0.00625",
        q3='["Tanh", "sigmoid ", "tanh"]',
        q4="2 ** 50",
        q5='"d)"',
        q6='("per_channel", "Unbiased running var", "scale-invariant")',
        q7="math.sqrt(0.02) * (1 + 9e-4)",
    )
    assert not lost(report), {c.function: c.message for c in report.checks}


def test_wrong_answers_fail_and_point_to_the_reference(tmp_path):
    report = _grade_quiz(
        tmp_path,
        q1='"a"',
        q2="math.sqrt(2 / 320)",          # the standard deviation, not the variance
        q4="2 ** 49",
        q5='"A"',
        q7="math.sqrt(2 / 64)",           # the wrong fan
    )
    checks = _by_q(report)
    for q in ("q1", "q2", "q4", "q5", "q7"):
        assert checks[q].status == "failed" and checks[q].score == 0.0
        assert checks[q].hint.startswith("Read the ") and "reference" not in checks[q].hint
    for q in ("q3", "q6"):
        assert checks[q].status == "passed"
    assert "(a) is not the right answer" in checks["q1"].message
    assert "relative tolerance of 0.001" in checks["q2"].message


def test_numeric_tolerance_is_relative_1e_3(tmp_path):
    report = _grade_quiz(tmp_path, q2="2 / 320 * (1 - 9.9e-4)", q4="2.0 ** 50 * (1 + 1.1e-3)",
                         q7="math.sqrt(0.02) * (1 - 2e-3)")
    checks = _by_q(report)
    assert checks["q2"].status == "passed"
    assert checks["q4"].status == "failed" and checks["q7"].status == "failed"


def test_multi_select_is_all_or_nothing_and_counts_wrong_options(tmp_path):
    report = _grade_quiz(
        tmp_path,
        q3='{"sigmoid", "tanh", "relu"}',                         # one too many
        q6='{"per_channel", "constant_init_ok"}',                 # two missing, one wrong
    )
    checks = _by_q(report)
    assert checks["q3"].status == "failed" and checks["q3"].score == 0.0
    assert "1 of the 5 options is classified wrongly" in checks["q3"].message
    assert "all or nothing" in checks["q3"].message
    assert checks["q6"].status == "failed" and checks["q6"].score == 0.0
    assert "3 of the 6 options are classified wrongly" in checks["q6"].message
    for name in ("relu", "sigmoid", "tanh"):  # never says which
        assert name not in checks["q3"].message
    assert set(lost(report)) == {"q3", "q6"}


def test_mistyped_answers_name_the_kind_expected(tmp_path):
    report = _grade_quiz(
        tmp_path,
        q1='{"b"}',
        q2='"2/320"',
        q3='"sigmoid, tanh"',
        q4='"2**50"',
        q5="4",
        q6='{"per_channel", "batch_axis"}',
        q7="[0.1414]",
    )
    checks = _by_q(report)
    assert all(c.status == "failed" and c.score == 0.0 for c in checks.values())
    assert "single choice: one letter" in checks["q1"].message
    assert "single choice: one letter" in checks["q5"].message
    assert "numeric: a number" in checks["q2"].message
    assert "without quotes" in checks["q4"].message
    assert "without quotes" in checks["q2"].message
    assert "numeric: a number" in checks["q7"].message
    assert "multi-select: a set of option names" in checks["q3"].message
    assert "'batch_axis' is not an option" in checks["q6"].message


def test_one_wrong_answer_costs_only_its_question(tmp_path):
    report = _grade_quiz(tmp_path, q6='{"per_channel"}')
    assert_only(report, "q6")


def test_unanswered_question_is_not_attempted(tmp_path):
    report = _grade_quiz(tmp_path, q2="None")
    assert _by_q(report)["q2"].status == "not_attempted"
    assert set(lost(report)) == {"q2"}
    source = "ANSWERS = {k: v for k, v in ANSWERS.items() if k != 'q5'}"
    sub = make_submission(tmp_path / "missing", overrides={"quiz": source})
    report = grade(sub, tasks=("quiz",))
    assert _by_q(report)["q5"].status == "not_attempted" and set(lost(report)) == {"q5"}


def test_answers_that_are_not_a_dict_fail_with_a_message(tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={"quiz": "ANSWERS = ['b', 0.1]"})
    report = grade(sub, tasks=("quiz",))
    assert {c.status for c in report.checks} == {"failed"}
    assert all("ANSWERS should be a dict" in c.message for c in report.checks)


def test_whole_module_replaced(tmp_path):
    sub = make_submission(tmp_path / "sub", replace={"quiz": """
        ANSWERS = {"q1": "b", "q2": 0.00625, "q3": {"sigmoid", "tanh"}, "q4": 1.1259e15,
                   "q5": "d", "q6": {"per_channel", "unbiased_running_var", "scale_invariant"},
                   "q7": 0.14142}
        """})
    assert not lost(grade(sub, tasks=("quiz",)))


@pytest.mark.parametrize("value, expected", [
    (" (B) ", "b"), ("b)", "b"), ("B.", "b"), ("[c]", "c"), ("e", "e"),
])
def test_normalise_letter(value, expected):
    assert quiz.normalise_letter(value) == expected


def test_normalise_names_and_numbers():
    assert quiz.normalise_names(["Leaky ReLU", "leaky-relu", " TANH "]) == {"leaky_relu", "tanh"}
    assert quiz.parse_number(1e-3) == 1e-3 and quiz.parse_number(7) == 7.0
    for bad in ("2**50", " 1e-3 ", "0.1414", True, [1.0], {"x": 1}):
        with pytest.raises(Exception):
            quiz.parse_number(bad)


def test_numeric_answers_from_formulas():
    assert math.isclose(quiz_key.numeric_value("q4"), 2.0 ** 50)
    assert set(quiz_format.OPTIONS) == {"q1", "q3", "q5", "q6"}
    assert Path(quiz_key.__file__).name == "quiz_key.py"


def test_a_number_written_as_a_string_is_not_a_number(tmp_path):
    """The stub asks for a number; "0.1414" is the right digits in the wrong kind."""
    report = _grade_quiz(tmp_path, q7='"0.1414"')
    check = _by_q(report)["q7"]
    assert check.status == "failed" and "without quotes" in check.message
    assert set(lost(report)) == {"q7"}


def test_the_scan_finds_planted_answers():
    forbidden = forbidden_strings()
    assert leaks("x = 0.00625", forbidden) == ["0.00625"]
    assert leaks("KEY = {'tanh', 'sigmoid'}", forbidden)
    assert leaks("per_channel, scale_invariant, unbiased_running_var", forbidden)
    assert leaks("q4 = 1125899906842624.0", forbidden)
    assert leaks('ANSWERS = {"q1": "b"}', forbidden)
    assert not leaks("x = 10.006251; names = ('sigmoid', 'tanh', 'relu')", forbidden)


def test_no_answer_appears_in_plain_text_in_the_grader():
    forbidden = forbidden_strings()
    files = [p for p in (ROOT / "grader").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.name == "quiz_key.py" for p in files)
    for path in files:
        found = leaks(path.read_text(encoding="utf-8", errors="replace"), forbidden)
        assert not found, f"{path.relative_to(ROOT)} holds the answer text {found}"


def test_without_the_key_well_formed_answers_wait_for_submission(tmp_path):
    from grader.checks.quiz import battery
    from grader.runner import RunOptions, run
    from grader.submission import locate
    from standin import InProcessPool

    sub = make_submission(tmp_path / "sub", overrides={"quiz": _answers_source(q1='"zz"')})
    report = run(locate(str(sub)), (battery(None),), RunOptions(tasks=("quiz",), jobs=1),
                 InProcessPool())
    checks = _by_q(report)
    assert checks["q1"].status == "failed" and "one of the letters" in checks["q1"].message
    for q in ("q2", "q3", "q4", "q5", "q6", "q7"):
        assert checks[q].status == "skipped" and checks[q].pending
        assert "graded when you submit" in checks[q].message
    assert report.score == 0 and report.pending_units == 13 * 10000


"""Rules: the safe expression parser, its messages, and vectorised evaluation on hand-made frames."""
from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

import churnlab.decide.rules as rules_module
from churnlab.decide.rules import (RuleError, check_rules, evaluate_rules, load_rules, parse_rules, render_markdown,
                            rule_counts, rules_not_evaluated)
from churnlab.settings import Settings

NA = pd.NA


def rule(name: str, when: str, kind: str = "risk_factor", severity: str = "recapitulative",
         message: str | None = None, **extra) -> dict:
    return {"name": name, "kind": kind, "severity": severity, "when": when, "message": message or name, **extra}


def ruleset(*rules: dict, alerts: tuple[dict, ...] = ()):
    return parse_rules(yaml.safe_dump({"rules": list(rules), "alerts": list(alerts)}, sort_keys=False),
                       source="test.yaml")


def fired(result: pd.DataFrame, name: str) -> list:
    """A rule column as a plain list (pd.NA where not evaluated)."""
    return [NA if pd.isna(v) else bool(v) for v in result[name]]


def problem_texts(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --- parsing: valid files -----------------------------------------------------------------------

def test_a_valid_file_keeps_rules_and_alerts_in_file_order():
    rs = ruleset(rule("b_rule", "last_nps <= 6"), rule("a_rule", "events_30d == 0"),
                 alerts=({"name": "both", "min": 2, "of": ["b_rule", "a_rule"], "message": "both"},))
    assert rs.names == ["b_rule", "a_rule", "both"]
    assert rs.feature_names() == ["events_30d", "last_nps"]


def test_the_starter_rules_load_and_every_expression_reads_real_features():
    from churnlab.features.catalogue import feature_names

    rs = load_rules()
    check_rules(rs, feature_names())  # raises on any unknown name
    assert {r.kind for r in rs.rules} == {"risk_factor", "symptom"}
    assert {r.severity for r in rs.rules} == {"critical", "recapitulative"}
    assert rs.alerts


def test_settings_point_to_another_rules_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule("quiet", "events_30d == 0")]}))
    settings = Settings.model_validate({"rules": {"path": str(path)}})
    rs = load_rules(settings.rules.path)
    assert rs.names == ["quiet"] and rs.source == str(path)


def test_a_missing_rules_file_is_named():
    with pytest.raises(RuleError, match=r"nowhere\.yaml: no such rules file"):
        load_rules("nowhere.yaml")


# --- parsing: invalid rules and their messages --------------------------------------------------

BAD_NAME_FILE = """\
rules:
  - name: renewal_risk
    kind: risk_factor
    severity: critical
    when: is_annual == 1 and usage_chnge_60d_pct <= -30
    message: "usage {usage_change_60d_pct}"
"""


def test_an_unknown_feature_is_reported_with_rule_line_column_and_the_closest_name():
    rs = parse_rules(BAD_NAME_FILE, source="mine.yaml")
    with pytest.raises(RuleError) as exc:
        check_rules(rs, ["is_annual", "usage_change_60d_pct"])
    assert problem_texts(exc) == [
        "mine.yaml line 5, rule 'renewal_risk', when column 20: unknown feature 'usage_chnge_60d_pct'; "
        "did you mean 'usage_change_60d_pct'?\n"
        "      is_annual == 1 and usage_chnge_60d_pct <= -30\n"
        "                         ^"
    ]


def test_an_unknown_previous_feature_and_message_placeholder_are_reported_too():
    rs = ruleset(rule("dropped", "last_nps < prev.last_nsp", message="NPS was {prev.lst_nps}"))
    with pytest.raises(RuleError) as exc:
        check_rules(rs, ["last_nps"])
    assert [p.message for p in exc.value.problems] == [
        "unknown feature 'prev.last_nsp'; did you mean 'last_nps'?",
        "unknown feature 'prev.lst_nps' in {prev.lst_nps}; did you mean 'last_nps'?",
    ]
    assert exc.value.problems[0].column == 12  # where prev.last_nsp starts


def test_a_name_with_nothing_close_gets_no_suggestion():
    with pytest.raises(RuleError) as exc:
        check_rules(ruleset(rule("x", "zebra > 1")), ["last_nps"])
    assert exc.value.problems[0].message == "unknown feature 'zebra'"


def test_bad_syntax_is_reported_with_the_column_where_the_expression_breaks():
    text = ("rules:\n  - name: broken\n    kind: symptom\n    severity: critical\n"
            "    when: last_nps >= >= 3\n    message: m\n")
    with pytest.raises(RuleError) as exc:
        parse_rules(text, source="mine.yaml")
    assert problem_texts(exc) == [
        "mine.yaml line 5, rule 'broken', when column 13: syntax error: invalid syntax\n"
        "      last_nps >= >= 3\n"
        "                  ^"
    ]


def test_an_expression_that_ends_too_early_points_past_its_end():
    with pytest.raises(RuleError) as exc:
        ruleset(rule("short", "last_nps >= 3 and"))
    p = exc.value.problems[0]
    assert (p.message, p.column) == ("syntax error: the expression ends too early", len("last_nps >= 3 and") + 1)


@pytest.mark.parametrize("when, column, message", [
    ("last_nps.real > 1", 1, "attribute access is not allowed (only prev.<feature>)"),
    ("__import__('os') == 1", 1,
     "function '__import__' is not allowed; allowed: abs, coalesce, is_missing, max, min"),
    ("__import__('os').system('ls') == 0", 1,
     "calling a method ('.system(...)') is not allowed; the functions are abs, coalesce, is_missing, max, min"),
    ("(lambda: 1)() == 1", 2, "lambda is not allowed"),
    ("eval('1') == 1", 1, "function 'eval' is not allowed; allowed: abs, coalesce, is_missing, max, min"),
    ("plan[0] == 'p'", 1, "indexing with [...] is not allowed"),
    ("last_nps ** 2 > 10", 1, "operator '**' is not allowed (only + - * /)"),
    ("(1 if last_nps else 0) == 1", 2, "'... if ... else ...' is not allowed; combine conditions with and/or"),
    ("[x for x in plan] == 1", 1, "comprehensions are not allowed"),
    ("last_nps is None", 1, "'is' is not allowed; use is_missing(x) or =="),
    ("last_nps == None", 13, "the constant None is not allowed; use is_missing(x) for missing values"),
    ("vocal_detractor and last_nps > 3", 1,
     "'and/or' combines conditions: compare the value, e.g. 'vocal_detractor == 1'"),
    ("last_nps + 1", 1, "the condition must be true or false: compare the value, e.g. 'last_nps + 1 == 1'"),
    ("plan in 'pro'", 9, "'in' needs a list of values, e.g. plan in [\"pro\", \"enterprise\"]"),
    ("prev == 1", 1, "prev needs a feature: prev.<feature>"),
    ("min(last_nps) > 1", 1, "min() takes 2 or more arguments, got 1"),
])
def test_forbidden_constructs_are_refused_with_their_position(when, column, message):
    with pytest.raises(RuleError) as exc:
        ruleset(rule("sneaky", when))
    [p] = exc.value.problems
    assert (p.rule, p.field, p.column, p.message) == ("sneaky", "when", column, message)


def test_every_problem_of_a_file_is_reported_at_once():
    text = """\
rules:
  - name: one
    kind: risk_factor
    severity: sometimes
    when: last_nps.real > 1
    message: m
  - name: two
    kind: symptom
    severity: critical
    when: "last_nps >="
    message: "NPS {last_nps"
  - name: one
    kind: symptom
    severity: critical
    when: last_nps > 1
    message: "a; b"
alerts:
  - name: many
    min: 3
    of: [one, tow]
    message: m
"""
    with pytest.raises(RuleError) as exc:
        parse_rules(text, source="mine.yaml")
    found = [(p.line, p.rule, p.field, p.message) for p in exc.value.problems]
    assert found == [
        (4, "one", "severity", "Input should be 'critical' or 'recapitulative' (got 'sometimes')"),
        (5, "one", "when", "attribute access is not allowed (only prev.<feature>)"),
        (10, "two", "when", "syntax error: the expression ends too early"),
        (11, "two", "message", "expected '}' before end of string"),
        (12, "one", "name", "the name is used twice (first on line 2)"),
        (16, "one", "message", "a message may not contain ';' (it separates the messages in symptom_text)"),
        (20, "many", "of", "'tow' is not a rule of this file; did you mean 'two'?"),
        (20, "many", "min", "min is 3 but only 2 rules are named"),
    ]
    assert str(exc.value).startswith("8 problems in mine.yaml:\n  - mine.yaml line 4, rule 'one', severity:")


def test_an_alert_naming_a_rule_with_another_mistake_reports_only_that_mistake():
    with pytest.raises(RuleError) as exc:
        ruleset(rule("a", "x >= 1", severity="sometimes"), rule("b", "x >= 2"),
                alerts=({"name": "both", "min": 2, "of": ["a", "b"], "message": "m"},))
    assert [(p.rule, p.field) for p in exc.value.problems] == [("a", "severity")]


def test_unknown_keys_and_missing_keys_are_named():
    with pytest.raises(RuleError) as exc:
        parse_rules(yaml.safe_dump({"rules": [{"name": "x", "kind": "symptom", "severity": "critical",
                                               "when": "a > 1", "mesage": "m"}], "extra": 1}), source="f.yaml")
    assert sorted((p.field or "", p.message) for p in exc.value.problems) == [
        ("", "unknown key 'extra' (a rules file has 'rules' and 'alerts')"),
        ("mesage", "unknown key"),
        ("message", "this key is required"),
    ]


def test_without_previous_cannot_read_previous_values():
    with pytest.raises(RuleError) as exc:
        ruleset(rule("x", "last_nps < prev.last_nps", without_previous="last_nps < prev.last_nps - 1"))
    assert exc.value.problems[0].message == ("without_previous is used when there is no previous frame: "
                                             "it cannot read prev.<feature>")


def test_invalid_yaml_says_where():
    with pytest.raises(RuleError) as exc:
        parse_rules("rules:\n  - name: x\n    when: (lambda: 1)() == 1\n", source="f.yaml")
    assert exc.value.problems[0].line == 3  # the ':' after lambda, column 18 of that line
    assert exc.value.problems[0].message.startswith("not valid YAML (column 18): mapping values are not allowed here")


# --- evaluation ---------------------------------------------------------------------------------

def customers(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(1, n + 1)], **columns})


def test_comparisons_arithmetic_and_logic_evaluate_per_customer():
    feats = customers(events_30d=[0.0, 5.0, 12.0], events_prior_30d=[10.0, 20.0, 6.0], plan=["pro", "starter", "pro"])
    rs = ruleset(
        rule("halved", "events_30d <= events_prior_30d / 2"),          # 0<=5 T, 5<=10 T, 12<=3 F
        rule("pro_and_busy", "plan == 'pro' and events_30d > 10"),     # F, F, T
        rule("not_starter", "not (plan in ['starter', 'growth'])"),    # T, F, T
        rule("band", "1 <= events_30d < 12 or plan != 'pro'"),         # F, T, F
    )
    result = evaluate_rules(rs, feats)
    assert fired(result, "halved") == [True, True, False]
    assert fired(result, "pro_and_busy") == [False, False, True]
    assert fired(result, "not_starter") == [True, False, True]
    assert fired(result, "band") == [False, True, False]


def test_a_comparison_with_a_missing_value_does_not_fire_even_under_not():
    feats = customers(last_nps=[3.0, None, 9.0], vocal_detractor=[0.0, 1.0, 0.0])
    rs = ruleset(
        rule("detractor", "last_nps <= 6"),                            # T, F (missing), F
        rule("not_happy", "not (last_nps >= 7)"),                      # T, F (unknown stays unknown), F
        rule("no_answer", "is_missing(last_nps)"),                     # F, T, F
        rule("either", "last_nps <= 6 or vocal_detractor == 1"),       # T, T (unknown or true), F
        rule("filled", "coalesce(last_nps, 0) <= 6"),                  # T, T, F
    )
    result = evaluate_rules(rs, feats)
    assert fired(result, "detractor") == [True, False, False]
    assert fired(result, "not_happy") == [True, False, False]
    assert fired(result, "no_answer") == [False, True, False]
    assert fired(result, "either") == [True, True, False]
    assert fired(result, "filled") == [True, True, False]


def test_division_by_zero_is_missing_and_does_not_fire():
    feats = customers(events_30d=[1.0, 3.0], events_prior_30d=[0.0, 2.0])
    with pytest.warns(UserWarning):
        result = evaluate_rules(ruleset(rule("ratio", "events_30d / events_prior_30d > 1")), feats)
    assert fired(result, "ratio") == [False, True]  # 1/0 is missing, 3/2 = 1.5


def test_a_division_by_zero_is_counted_and_said_not_silently_false():
    """Missing inputs are unknown by design; a division by zero is an error the analyst must see."""
    feats = customers(events_30d=[1.0, 3.0, None, 0.0, 5.0], events_prior_30d=[0.0, 2.0, 4.0, 0.0, 0.0],
                      overdue_invoices=[0.0, 0.0, 0.0, 0.0, 1.0])
    rs = ruleset(rule("ratio", "events_30d / events_prior_30d > 1"),                       # 1/0, 0/0 errored
                 rule("ratio_or_overdue", "events_30d / events_prior_30d > 1 or overdue_invoices >= 1"),
                 rule("guarded", "events_prior_30d > 0 and events_30d / events_prior_30d > 1"),
                 rule("plain", "overdue_invoices >= 1"))
    with pytest.warns(UserWarning) as caught:
        result = evaluate_rules(rs, feats)
    assert fired(result, "ratio") == [False, True, False, False, False]
    # row 3 (missing events_30d) is unknown by design, not an error; row 5 fires through the "or"
    assert result.attrs["errored"] == {"ratio": 3, "ratio_or_overdue": 2, "guarded": 0, "plain": 0}
    texts = [str(w.message) for w in caught]
    assert len(texts) == 2, texts
    assert all(issubclass(w.category, rules_module.RuleWarning) for w in caught)
    assert texts[0].startswith("rule ratio (test.yaml, line ") and "3 of 5 customers could not be evaluated" in texts[0]
    assert "division by zero" in texts[0] and "events_30d / events_prior_30d > 1" in texts[0]
    assert "rule ratio_or_overdue" in texts[1] and "2 of 5 customers" in texts[1]
    counts = rule_counts(result, rs).set_index("rule")["errored"].to_dict()
    assert counts == {"ratio": 3, "ratio_or_overdue": 2, "guarded": 0, "plain": 0}


@pytest.mark.parametrize("when, errored", [("events_30d * 1e308 * 10 > 1", 2), ("events_30d * 1e308 > 1", 1),
                                           ("events_30d > 1 / 0", 2), ("events_30d / 0 > 1", 2),
                                           ("abs(events_30d / events_prior_30d) > 1", 1),
                                           ("coalesce(events_30d, 0) / 2 > 1", 0)])
def test_other_arithmetic_errors_from_finite_numbers_are_counted_too(when, errored):
    feats = customers(events_30d=[1.0, 3.0], events_prior_30d=[0.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate_rules(ruleset(rule("r", when)), feats)
    assert result.attrs["errored"]["r"] == errored
    assert len([w for w in caught if "could not be evaluated" in str(w.message)]) == (1 if errored else 0)


def test_a_rule_without_arithmetic_errors_gives_no_warning():
    feats = customers(events_30d=[1.0, None], events_prior_30d=[2.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = evaluate_rules(ruleset(rule("ratio", "events_30d / events_prior_30d > 0.4")), feats)
    assert result.attrs["errored"] == {"ratio": 0}


def test_min_max_abs_work_elementwise():
    feats = customers(a=[-5.0, 2.0, None], b=[1.0, 8.0, 1.0])
    rs = ruleset(rule("small", "max(a, b) < 3"), rule("far", "abs(a) >= 5"), rule("low", "min(a, b, 4) == 1"))
    result = evaluate_rules(rs, feats)
    assert fired(result, "small") == [True, False, False]  # max(-5,1)=1; 8; missing
    assert fired(result, "far") == [True, False, False]
    assert fired(result, "low") == [False, False, False]   # -5; 2; missing


def test_text_compared_with_a_number_is_refused_with_the_rule_name():
    feats = customers(plan=["pro", "starter"])
    with pytest.raises(RuleError) as exc:
        evaluate_rules(ruleset(rule("odd", "plan > 3")), feats)
    p = exc.value.problems[0]
    assert (p.rule, p.column, p.message) == ("odd", 8, "compares text ('plan') with the number 3")


def test_evaluating_checks_feature_names_first():
    with pytest.raises(RuleError, match="unknown feature 'last_nsp'; did you mean 'last_nps'"):
        evaluate_rules(ruleset(rule("x", "last_nsp > 1")), customers(last_nps=[1.0]))


def test_evaluation_does_not_change_the_features_and_keeps_their_order():
    feats = customers(last_nps=[3.0, None, 9.0]).iloc[::-1]
    before = feats.copy()
    result = evaluate_rules(ruleset(rule("detractor", "last_nps <= 6")), feats)
    pd.testing.assert_frame_equal(feats, before)
    assert list(result["customer_id"]) == ["C3", "C2", "C1"]
    assert fired(result, "detractor") == [False, False, True]


# --- previous values ----------------------------------------------------------------------------

NPS_DROP = rule("promoter_to_detractor", "prev.nps_promoter == 1 and nps_detractor == 1", kind="symptom",
                severity="critical", without_previous="nps_detractor == 1 and last_nps - nps_change >= 9",
                message="NPS fell from {prev.last_nps} to {last_nps}")


def test_a_previous_value_symptom_fires_on_change_since_the_previous_run():
    now = customers(last_nps=[4.0, 5.0, 6.0, 3.0], nps_change=[-6.0, -5.0, 0.0, -7.0],
                    nps_detractor=[1.0, 1.0, 1.0, 1.0], nps_promoter=[0.0, 0.0, 0.0, 0.0])
    # previous frame in another order; C4 is new (no previous row)
    before = pd.DataFrame({"customer_id": ["C3", "C2", "C1"], "last_nps": [6.0, 8.0, 10.0],
                           "nps_change": [0.0, 0.0, 0.0], "nps_detractor": [1.0, 0.0, 0.0],
                           "nps_promoter": [0.0, 0.0, 1.0]})
    result = evaluate_rules(ruleset(NPS_DROP), now, previous=before)
    assert fired(result, "promoter_to_detractor") == [True, False, False, False]
    assert result["symptom_text"][0] == "NPS fell from 10 to 4"
    assert result.attrs["basis"] == {"promoter_to_detractor": "previous"}


def test_without_a_previous_frame_the_window_condition_is_used():
    now = customers(last_nps=[4.0, 5.0, 6.0], nps_change=[-6.0, -3.0, None],
                    nps_detractor=[1.0, 1.0, 1.0], nps_promoter=[0.0, 0.0, 0.0])
    result = evaluate_rules(ruleset(NPS_DROP), now)
    # answers before the latest: 4+6 = 10 (promoter), 5+3 = 8, unknown
    assert fired(result, "promoter_to_detractor") == [True, False, False]
    assert result["symptom_text"][0] == "NPS fell from unknown to 4"
    assert rules_not_evaluated(result) == []
    assert result.attrs["basis"] == {"promoter_to_detractor": "window"}


def test_a_previous_value_rule_without_a_window_is_reported_not_evaluated_not_false():
    rs = ruleset(rule("payment_failed", "failed_payments_180d > prev.failed_payments_180d", kind="symptom"),
                 rule("overdue", "overdue_invoices >= 1"))
    result = evaluate_rules(rs, customers(failed_payments_180d=[1.0, 0.0], overdue_invoices=[1.0, 0.0]))
    assert fired(result, "payment_failed") == [NA, NA]
    assert rules_not_evaluated(result) == ["payment_failed"]
    assert rules_not_evaluated(result.drop(columns=[]).copy()) == ["payment_failed"]
    counts = rule_counts(result, rs)
    assert counts.to_dict("records") == [
        {"rule": "payment_failed", "kind": "symptom", "severity": "recapitulative", "fired": 0, "share": 0.0,
         "basis": "not evaluated", "errored": 0},
        {"rule": "overdue", "kind": "risk_factor", "severity": "recapitulative", "fired": 1, "share": 0.5,
         "basis": "current", "errored": 0},
    ]


def test_a_previous_frame_missing_a_needed_feature_is_named():
    rs = ruleset(rule("dropped", "last_nps < prev.last_nps"))
    with pytest.raises(RuleError, match="the previous frame lacks the features last_nps"):
        evaluate_rules(rs, customers(last_nps=[1.0]), previous=pd.DataFrame({"customer_id": ["C1"]}))


# --- alerts, symptoms and messages --------------------------------------------------------------

def test_a_recapitulative_alert_fires_at_exactly_min_co_occurring_rules():
    rs = ruleset(rule("a", "x >= 1"), rule("b", "x >= 2"), rule("c", "x >= 3"),
                 alerts=({"name": "two_of_three", "min": 2, "of": ["a", "b", "c"], "message": "two signs"},))
    result = evaluate_rules(rs, customers(x=[0.0, 1.0, 2.0, 3.0]))  # 0, 1, 2 and 3 rules fire
    assert fired(result, "two_of_three") == [False, False, True, True]
    assert list(result["alerts"]) == ["", "", "two_of_three", "two_of_three"]
    assert list(result["alert_text"]) == ["", "", "two signs", "two signs"]
    assert not result["critical"].any()


def test_an_alert_counts_only_the_members_that_could_be_evaluated():
    rs = ruleset(rule("a", "x >= 1"), rule("b", "x >= 2"), rule("p", "x > prev.x"),
                 alerts=({"name": "two", "min": 2, "of": ["a", "b", "p"], "message": "m"},
                         {"name": "three", "min": 3, "of": ["a", "b", "p"], "message": "m"}))
    result = evaluate_rules(rs, customers(x=[1.0, 2.0]))
    assert fired(result, "two") == [False, True]
    assert fired(result, "three") == [NA, NA]  # only two members could be evaluated
    assert rules_not_evaluated(result) == ["p", "three"]


def test_a_critical_rule_alerts_on_its_own():
    rs = ruleset(rule("failed", "failed_payments_180d >= 1", severity="critical"), rule("quiet", "events_30d == 0"))
    result = evaluate_rules(rs, customers(failed_payments_180d=[1.0, 0.0], events_30d=[0.0, 0.0]))
    assert list(result["alerts"]) == ["failed", ""]
    assert list(result["critical"]) == [True, False]
    assert list(result["symptoms"]) == ["failed;quiet", "quiet"]


def test_symptoms_and_messages_follow_rule_order_and_quote_values():
    rs = ruleset(
        rule("renewal", "days_to_renewal <= 60", message="renews in {days_to_renewal} days"),
        rule("usage", "usage_change_60d_pct <= -30", message="usage {usage_change_60d_pct:+.0f}%"),
        rule("plan", "plan == 'pro'", message="on the {plan} plan, NPS {last_nps}"),
    )
    feats = customers(days_to_renewal=[45.0, 90.0], usage_change_60d_pct=[-42.4, -35.0], plan=["pro", "starter"],
                      last_nps=[None, 8.5])
    result = evaluate_rules(rs, feats)
    assert list(result["symptoms"]) == ["renewal;usage;plan", "usage"]
    assert list(result["symptom_text"]) == ["renews in 45 days; usage -42%; on the pro plan, NPS unknown",
                                            "usage -35%"]
    assert list(result.columns) == ["customer_id", "renewal", "usage", "plan", "symptoms", "alerts", "critical",
                                    "symptom_text", "alert_text", "not_worth_saving"]


# --- docs ---------------------------------------------------------------------------------------

def test_docs_rules_md_is_generated_from_the_starter_rules():
    text = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text()
    # the rules first, then their evidence on the demo (tests/test_rule_evidence.py checks that part)
    assert text.startswith(render_markdown() + "\n## Evidence"), \
        "regenerate: python -m churnlab.decide.rule_evidence data/demo > docs/rules.md"


# --- the starter rules on the demo --------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_features(small_demo):
    from churnlab import build_features, load_data

    data = load_data(small_demo, as_of="2026-06-30")
    return build_features(data, "2026-06-30"), build_features(data, "2026-05-31")


def test_every_starter_rule_evaluates_on_demo_features_a_month_apart(demo_features):
    now, month_before = demo_features
    rs = load_rules()
    result = evaluate_rules(rs, now, previous=month_before)
    assert rules_not_evaluated(result) == []
    counts = rule_counts(result, rs).set_index("rule")["fired"]
    assert counts.sum() > 0
    assert (counts > 0).sum() >= len(counts) // 2, counts.to_dict()   # most rules fire for someone
    assert (counts < 0.5 * len(now)).all(), counts.to_dict()           # none fires for half the customers
    assert 0 < result["critical"].sum() < 0.25 * len(now)


def test_without_previous_the_starter_rules_say_which_rule_was_not_evaluated(demo_features):
    now, _ = demo_features
    result = evaluate_rules(load_rules(), now)
    assert rules_not_evaluated(result) == ["payment_failed"]


def test_rules_reading_features_of_an_absent_table_are_not_evaluated_and_say_why():
    from churnlab.decide.rules import evaluate_rules, parse_rules, rules_not_evaluated

    rules = parse_rules("""
rules:
  - {name: usage_low, kind: risk_factor, severity: recapitulative, when: events_30d < 5, message: "only {events_30d}"}
  - {name: young, kind: risk_factor, severity: recapitulative, when: tenure_days < 90, message: young}
""")
    features = pd.DataFrame({"customer_id": ["A", "B"], "tenure_days": [30.0, 400.0]})   # no usage table
    out = evaluate_rules(rules, features)
    assert out["young"].tolist() == [True, False]
    assert out["usage_low"].isna().all()
    assert rules_not_evaluated(out) == ["usage_low"]
    assert out.attrs["basis"]["usage_low"] == "no data"


def test_a_misspelt_feature_is_still_an_error_when_tables_are_absent():
    from churnlab.decide.rules import RuleError, evaluate_rules, parse_rules

    rules = parse_rules("rules:\n  - {name: r, kind: risk_factor, severity: critical, when: tenure_dayz < 9, message: m}\n")
    with pytest.raises(RuleError, match="did you mean 'tenure_days'"):
        evaluate_rules(rules, pd.DataFrame({"customer_id": ["A"], "tenure_days": [1.0]}))


def test_a_rule_flag_marks_customers_not_worth_saving_and_the_zones_send_them_to_the_dead_zone():
    from churnlab import Settings, assign_zones, zone_frame

    rules = parse_rules("""
rules:
  - name: poor_fit
    kind: risk_factor
    severity: recapitulative
    when: last_nps <= 2
    message: "NPS {last_nps}"
    flag: not_worth_saving
  - name: low_use
    kind: risk_factor
    severity: recapitulative
    when: events_30d < 5
    message: "{events_30d} events"
""")
    features = pd.DataFrame({"customer_id": ["A", "B", "C"], "last_nps": [1.0, 9.0, None],
                             "events_30d": [1.0, 2.0, 50.0], "arr": [12000.0] * 3})
    fired = evaluate_rules(rules, features)
    assert fired["not_worth_saving"].tolist() == [True, False, False]   # only the flagged rule sets it
    scores = pd.DataFrame({"customer_id": ["A", "B", "C"], "churn_probability": [0.6, 0.6, 0.01]})
    value = pd.DataFrame({"customer_id": ["A", "B", "C"], "arr": [12000.0] * 3, "value": [50000.0] * 3})
    from churnlab.settings import ZoneSettings
    settings = Settings(zones=ZoneSettings(risk_threshold=0.5))
    zones = assign_zones(zone_frame(scores, value, features, flags=fired), settings=settings)
    assert zones["zone"].tolist() == ["dead", "red", "healthy"]
    assert "not worth saving by a rule" in zones["zone_reason"].iloc[0]


def test_a_rule_flag_must_be_a_known_one():
    with pytest.raises(RuleError, match="flag"):
        parse_rules("""
rules:
  - name: poor_fit
    kind: risk_factor
    severity: recapitulative
    when: last_nps <= 2
    message: "x"
    flag: vip
""")

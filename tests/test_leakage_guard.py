"""The leakage guard: features that give the label away are named and left out of the models;
honest strong ones stay."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from churnlab.models.leakage import (check_leakage, feature_auc, leakage_note, leakage_warnings, named_like_outcome,
                                     too_good)

T = pd.Timestamp


def flat(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One labelled snapshot of ``n`` customers, a fifth of them churners, with a planted copy of
    the label, a planted post-churn column, an honest feature of ROC AUC about 0.9 and a name
    column (every level seen once)."""
    rng = np.random.default_rng(seed)
    churned = (rng.random(n) < 0.2).astype(int)
    # two normals one shift apart: AUC = Phi(shift / sqrt 2); a shift of 1.8 gives 0.90
    honest = churned * 1.8 + rng.normal(size=n)
    return pd.DataFrame({
        "snapshot": T("2026-03-31"), "customer_id": [f"C{i:05d}" for i in range(n)],
        "honest": honest,
        "answer": np.where(churned == 1, "gone", "here"),                # the label as text
        "remark": np.where(churned == 1, rng.choice(["price", "moved"], n), None),  # only for churners
        "surname": [f"S{i}" for i in range(n)],
        "duration_days": np.where(churned == 1, 30, 90), "event": churned, "label_observed": True,
        "churned": pd.array(churned, dtype="Int64"),
    })


def test_an_honest_feature_of_auc_09_measures_09_and_is_not_reported():
    rows = flat()
    y = rows["churned"].to_numpy(dtype=int)
    assert feature_auc(rows["honest"], y) == pytest.approx(norm.cdf(1.8 / np.sqrt(2)), abs=0.03)
    found = check_leakage(rows, "2026-06-30", 90, kind="cross_section")
    assert "honest" not in set(found["feature"])


def test_a_planted_copy_of_the_label_is_caught_with_its_figure():
    found = check_leakage(flat(), "2026-06-30", 90, kind="cross_section").set_index("feature")
    assert found.loc["answer", "auc"] == 1.0
    assert "separates the label alone (ROC AUC 1.000)" in found.loc["answer", "reasons"]
    assert found.loc["answer", "action"] == "left out"


def test_a_column_filled_in_only_for_churners_is_caught_whatever_its_name():
    found = check_leakage(flat(), "2026-06-30", 90, kind="cross_section").set_index("feature")
    assert found.loc["remark", "filled_others"] == 0.0 and found.loc["remark", "filled_churners"] == 1.0
    assert "filled in for 100% of churners" in found.loc["remark", "reasons"]


def test_a_negated_label_is_caught_too():
    rows = flat()
    rows["stayed"] = 1 - rows["churned"].astype(float)
    found = check_leakage(rows, "2026-06-30", 90, kind="cross_section")
    assert "stayed" in set(found["feature"])


def test_a_column_of_names_is_not_a_perfect_separator():
    """Each level is seen once: its churn rate learnt in-sample would be the label itself."""
    rows = flat()
    assert feature_auc(rows["surname"], rows["churned"].to_numpy(dtype=int)) < 0.6


@pytest.mark.parametrize("name", ["churn_reason", "ChurnDate", "Churn Score", "cancellation_date", "Exited",
                                  "exit_status", "Attrition", "termination reason"])
def test_names_of_churn_outcomes_are_recognised(name):
    assert named_like_outcome(name)


@pytest.mark.parametrize("name", ["Contract", "tenure", "MonthlyCharges", "PaymentMethod", "SeniorCitizen",
                                  "industry", "exit_interviews_offered", "days_since_last_use"])
def test_honest_names_are_not(name):
    assert not named_like_outcome(name)


def test_a_column_named_like_a_churn_date_is_caught_even_when_it_says_little():
    rows = flat()
    rows["ChurnDate"] = np.random.default_rng(1).choice(["2026-01-01", None], len(rows))
    found = check_leakage(rows, "2026-06-30", 90, kind="cross_section").set_index("feature")
    assert found.loc["ChurnDate", "reasons"] == "named like a churn outcome"


def test_a_feature_kept_on_purpose_is_reported_but_not_left_out():
    found = check_leakage(flat(), "2026-06-30", 90, kind="cross_section", keep=["answer"]).set_index("feature")
    assert found.loc["answer", "action"] == "kept on purpose"
    assert found.loc["remark", "action"] == "left out"


def test_the_guard_judges_the_backtests_training_part_only():
    """Cross-section with 3 folds splits into 5 parts and tests 3: two fifths are judged."""
    found = check_leakage(flat(), "2026-06-30", 90, kind="cross_section", folds=3)
    assert found.attrs["rows"] == pytest.approx(2000 * 2 / 5, abs=5)


def test_too_good_folds_are_named_and_baselines_are_not():
    metrics = pd.DataFrame({"model": ["logistic", "logistic", "arr_baseline"], "family": ["classifier"] * 2 + ["baseline"],
                            "fold": ["2026-01-31", "2026-02-28", "2026-01-31"], "roc_auc": [0.97, 0.991, 0.999]})
    assert too_good(metrics) == [{"model": "logistic", "fold": "2026-02-28", "roc_auc": 0.991}]
    words = leakage_warnings({"leakage": {"too_good": too_good(metrics)}})
    assert words == ["backtest: logistic reaches ROC AUC 0.991 on fold 2026-02-28: too good to be true for churn; "
                     "look for a feature that gives the answer away (notebook 02)"]


# -- through fit_models on the small demo ------------------------------------------------------

@pytest.fixture(scope="module")
def planted(small_demo):
    """The small demo's training set with a copy of the label, a post-churn reason and an honest
    feature of AUC about 0.9 planted among the customer columns."""
    from churnlab.data.loading import load_data
    from churnlab.features.engine import build_training_set

    as_of = "2026-03-31"
    train = build_training_set(load_data(small_demo, as_of=as_of), as_of, snapshots=8)
    rng = np.random.default_rng(3)
    churned = train["churned"].fillna(0).to_numpy(dtype=int)
    train["label_copy"] = churned.astype(float)
    train["churn_reason_code"] = np.where(train["event"] == 1, rng.choice(["price", "service"], len(train)), None)
    train["honest_signal"] = churned * 1.8 + rng.normal(size=len(train))
    return as_of, train


def _fit(as_of, train, **models):
    from churnlab.models.fit import fit_models
    from churnlab.settings import Settings

    settings = Settings(models={"snapshots": 8, "survival": ["cox"], "classifiers": ["logistic"], "n_jobs": 1,
                                **models})
    bundle, _ = fit_models(None, as_of, settings=settings, training_set=train)
    return bundle


def test_fit_models_leaves_the_planted_columns_out_and_says_so(planted):
    as_of, train = planted
    bundle = _fit(as_of, train)
    assert "label_copy" not in bundle.features and "churn_reason_code" not in bundle.features
    assert "honest_signal" in bundle.features and "days_since_last_use" in bundle.features
    leakage = bundle.metrics["leakage"]
    left = {r["feature"]: r for r in leakage["left_out"]}
    assert set(left) == {"label_copy", "churn_reason_code"}
    assert left["label_copy"]["auc"] == 1.0
    assert "named like a churn outcome" in left["churn_reason_code"]["reasons"]
    assert any(w.startswith("feature 'label_copy' left out of the models: it separates the label alone (ROC AUC 1.000)")
               for w in leakage["warnings"])
    # with the copy out, no fold looks too good
    assert leakage["too_good"] == []


def test_a_label_copy_kept_on_purpose_makes_the_backtest_too_good_and_says_so(planted):
    as_of, train = planted
    bundle = _fit(as_of, train.drop(columns="churn_reason_code"), keep_features=["label_copy"])
    assert "label_copy" in bundle.features
    leakage = bundle.metrics["leakage"]
    assert [r["feature"] for r in leakage["kept_on_purpose"]] == ["label_copy"]
    assert "logistic" in {r["model"] for r in leakage["too_good"]}
    assert any("too good to be true" in w for w in leakage["warnings"])


def test_the_note_says_when_nothing_leaks_and_names_what_does():
    clean = check_leakage(flat().drop(columns=["answer", "remark"]), "2026-06-30", 90, kind="cross_section")
    assert leakage_note(clean).startswith("no feature gives the label away: none reaches ROC AUC 0.98 alone on the 800 rows")
    leaky = check_leakage(flat(), "2026-06-30", 90, kind="cross_section")
    lines = leakage_note(leaky).splitlines()
    assert [line.split("'")[1] for line in lines] == ["answer", "remark"]
    assert all(line.startswith("warning: feature '") for line in lines)


def test_the_run_logs_the_guards_findings_from_model_metrics(tmp_path, planted):
    import json

    from churnlab.report.run import model_warnings

    assert model_warnings(tmp_path) == []
    as_of, train = planted
    metrics = _fit(as_of, train).metrics
    (tmp_path / "model_metrics.json").write_text(json.dumps(metrics))
    said = model_warnings(tmp_path)
    assert said == metrics["leakage"]["warnings"] and len(said) == 2
    assert "'churn_reason_code' left out" in said[0] + said[1]


def test_a_text_column_the_engine_filled_with_unknown_counts_as_empty():
    """The feature engine gives an empty text cell of a customer column the level 'unknown'."""
    rows = flat()
    rows["remark"] = rows["remark"].fillna("unknown").astype("category")
    found = check_leakage(rows, "2026-06-30", 90, kind="cross_section").set_index("feature")
    assert found.loc["remark", "filled_others"] == 0.0
    assert "filled in for 100% of churners" in found.loc["remark", "reasons"]

"""The pieces of the churn models, each on a small hand-made example."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from churnlab.models.backtest import as_known_on, rolling_folds, rule_baseline_score
import churnlab.models.bundle as bundle_module
from churnlab.models.bundle import BundleError, ModelBundle, load_bundle, save_bundle
from churnlab.models.classify import ChurnClassifier
from churnlab.features.catalogue import split_columns
from churnlab.models.design import make_preprocessor, source_feature, training_medians
from churnlab.models.reasons import MAX_REASON_CHARS, explain, phrase
from churnlab.models.sampling import sample_training_set
from churnlab.models.survival import SurvivalModel

T = pd.Timestamp


# -- a synthetic training set where one feature drives churn ------------------------------------

def synthetic(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Customers whose hazard grows with ``tickets`` and shrinks with ``logins``; ``noise`` does
    nothing. Exponential lifetimes, censored at 200 days; horizon 90 days."""
    rng = np.random.default_rng(seed)
    tickets = rng.poisson(1.0, n).astype(float)
    logins = rng.gamma(2.0, 5.0, n)
    noise = rng.normal(size=n)
    rate = 0.002 * np.exp(0.8 * tickets - 0.08 * logins)
    life = rng.exponential(1 / rate)
    duration = np.minimum(np.ceil(life), 200).astype(int)
    event = (life <= 200).astype(int)
    return pd.DataFrame({
        "snapshot": T("2024-01-31"), "customer_id": [f"C{i:05d}" for i in range(n)],
        "tickets": tickets, "logins": logins, "noise": noise,
        "plan": rng.choice(["basic", "pro"], n),
        "duration_days": duration, "event": event, "label_observed": True,
        "churned": pd.array((event == 1) & (duration <= 90), dtype="Int64").astype("Int64"),
    })


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return synthetic()


# -- design ------------------------------------------------------------------------------------

def test_split_columns_leaves_out_bookkeeping_columns(train):
    numeric, categorical = split_columns(train)
    assert numeric == ["tickets", "logins", "noise"] and categorical == ["plan"]


def test_preprocessor_imputes_flags_missing_and_one_hot_encodes():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 5.0], "c": ["a", "b", "a", None]})
    design = make_preprocessor(["x"], ["c"]).fit(frame)
    out = design.transform(pd.DataFrame({"x": [np.nan], "c": ["never seen"]}))
    assert {"x", "missingindicator_x", "c=a", "c=b", "c=missing"} <= set(out.columns)
    # a missing x takes the training median (3 → signed log1p, standardised) and is flagged
    assert out["missingindicator_x"].iloc[0] > 0
    # an unseen level sets no known level
    assert out[["c=a", "c=b", "c=missing"]].iloc[0].tolist() == [0.0, 0.0, 0.0]


def test_source_feature_maps_design_columns_back():
    feats = ["plan", "x"]
    assert [source_feature(c, feats) for c in ["plan=pro", "x", "missingindicator_x"]] == ["plan", "x", "x"]


# -- survival ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["cox", "weibull_aft"])
def test_survival_model_finds_the_drivers_of_churn(train, kind):
    model = SurvivalModel(kind, horizon_days=90).fit(train)
    coef = model.coefficients()["coef"]
    assert coef["tickets"] > 0.3 and coef["logins"] < -0.3 and abs(coef["noise"]) < 0.1
    pred = model.predict(train)
    assert pred["churn_probability"].between(0, 1).all()
    assert (pred["expected_lifetime_days"] <= model.time_range_days_ + 1e-9).all()
    # the predicted share churning within 90 days matches the observed share
    assert pred["churn_probability"].mean() == pytest.approx(train["churned"].mean(), abs=0.02)


@pytest.mark.parametrize("kind", ["cox", "weibull_aft"])
def test_a_weighted_survival_fit_equals_the_fit_on_the_rows_it_stands_for(kind):
    """Each row weighted 3 must give the model of each row present 3 times (the penalty
    included: lifelines scales the Cox penalty with the row count, not with the weights)."""
    rows = synthetic(600, seed=4)
    tripled = pd.concat([rows] * 3, ignore_index=True)
    weighted = rows.assign(sample_weight=3.0)
    full = SurvivalModel(kind, penalizer=0.5).fit(tripled).coefficients()
    sampled = SurvivalModel(kind, penalizer=0.5).fit(weighted).coefficients()
    # within 1%: Efron's tie correction and the design's standard deviations see 600 rows, not
    # 1,800 (raw weights, without the rescaling, gave 0.50 for tickets against 0.29)
    pd.testing.assert_frame_equal(sampled.sort_index(), full.sort_index(), rtol=0.01, check_exact=False)


def test_survival_contributions_add_up_to_the_risk_score(train):
    model = SurvivalModel("cox").fit(train)
    terms = model.contributions(train.head(50))
    assert list(terms.columns) == model.features_
    np.testing.assert_allclose(terms.sum(axis=1), model.risk(train.head(50)), atol=1e-9)


def test_more_tickets_mean_a_shorter_expected_lifetime(train):
    model = SurvivalModel("cox").fit(train)
    calm, stormy = train.head(1).copy(), train.head(1).copy()
    calm["tickets"], stormy["tickets"] = 0.0, 4.0
    assert model.predict(stormy)["expected_lifetime_days"].iloc[0] < model.predict(calm)["expected_lifetime_days"].iloc[0]


def test_proportional_hazards_check_reads_as_a_table(train):
    table = SurvivalModel("cox").fit(train).check_proportional_hazards(train, max_rows=1000)
    assert {"feature", "test_statistic", "p", "violated", "advice"} <= set(table.columns)
    assert set(table["feature"]) >= {"tickets", "logins"}


def test_survival_model_refuses_a_set_without_events(train):
    with pytest.raises(ValueError, match="no churn event"):
        SurvivalModel("cox").fit(train.assign(event=0))


# -- classifier --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["logistic", "boosting"])
def test_classifier_is_calibrated_on_the_later_fold(train, kind):
    fit, cal = train.iloc[:2000], train.iloc[2000:]
    model = ChurnClassifier(kind).fit(fit, calibrate_on=cal)
    p = model.predict_proba(cal)[:, 1]
    assert p.mean() == pytest.approx(cal["churned"].astype(float).mean(), abs=0.01)
    assert model.calibrated_on_ == len(cal)


def test_logistic_contributions_point_the_right_way(train):
    model = ChurnClassifier("logistic", C=1.0).fit(train)
    row = train.head(1).assign(tickets=5.0)
    assert model.contributions(row)["tickets"].iloc[0] > 0


def test_classifier_refuses_a_single_class(train):
    with pytest.raises(ValueError, match="all of one class"):
        ChurnClassifier().fit(train.assign(churned=pd.array([0] * len(train), dtype="Int64")))


def test_classifier_predict_proba_has_a_column_per_class(train):
    model = ChurnClassifier("logistic").fit(train.iloc[:2000], calibrate_on=train.iloc[2000:])
    p = model.predict_proba(train.head(40))
    assert p.shape == (40, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert list(model.classes_) == [0, 1]
    assert model.predict(train.head(40)).tolist() == (p[:, 1] > p[:, 0]).astype(int).tolist()
    assert model.predict_proba(train.head(0)).shape == (0, 2)


# -- scikit-learn conventions ------------------------------------------------------------------

ESTIMATORS = [
    pytest.param(lambda: SurvivalModel("weibull_aft", penalizer=0.2, horizon_days=60, exclude=["noise"]),
                 id="survival"),
    pytest.param(lambda: ChurnClassifier("boosting", C=0.5, calibration="isotonic", seed=3, exclude=["noise"]),
                 id="classifier"),
]


@pytest.mark.parametrize("make", ESTIMATORS)
def test_get_params_round_trips(make):
    model = make()
    params = model.get_params()
    assert params["exclude"] == ["noise"]  # stored as given, converted in fit
    again = type(model)().set_params(**params)
    assert again.get_params() == params


@pytest.mark.parametrize("make", ESTIMATORS)
def test_clone_is_unfitted_with_the_same_params(train, make):
    fitted = make().fit(train)
    copy = clone(fitted)
    assert copy is not fitted and copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert "noise" not in fitted.features_


def test_survival_model_refuses_to_predict_before_fit(train):
    model = SurvivalModel("cox")
    for call in (lambda: model.predict(train), lambda: model.risk(train), lambda: model.contributions(train),
                 lambda: model.survival_function(train, [30.0]), model.coefficients,
                 lambda: model.check_proportional_hazards(train)):
        with pytest.raises(NotFittedError):
            call()


def test_classifier_refuses_to_predict_before_fit(train):
    model = ChurnClassifier("logistic")
    for call in (lambda: model.predict_proba(train), lambda: model.predict(train),
                 lambda: model.contributions(train)):
        with pytest.raises(NotFittedError):
            call()


def test_scoring_names_the_missing_features(train):
    survival, classifier = SurvivalModel("cox").fit(train), ChurnClassifier().fit(train)
    lacking = train.drop(columns=["tickets"])
    for call in (survival.predict, survival.contributions, classifier.predict_proba, classifier.contributions):
        with pytest.raises(ValueError, match="features missing from the frame to score: tickets"):
            call(lacking)


# -- sampling ----------------------------------------------------------------------------------

def test_sampling_keeps_every_churner_and_reweights_the_rest():
    frame = pd.DataFrame({"event": [1] * 10 + [0] * 990, "x": range(1000)})
    out = sample_training_set(frame, max_rows=110, seed=1)
    assert (out["event"] == 1).sum() == 10 and len(out) == 110
    # 990 non-churners stand behind the 100 kept: weight 9.9 each, churners weight 1
    assert out.loc[out["event"] == 0, "sample_weight"].unique().tolist() == [9.9]
    assert out["sample_weight"].sum() == pytest.approx(1000)


@pytest.mark.parametrize("max_rows", [100, 10_000])
def test_sampling_where_a_mask_holds_equals_sampling_the_masked_rows(max_rows):
    frame = synthetic(3000, seed=2).assign(sample_weight=2.0)
    mask = (frame["tickets"] > 0).to_numpy()
    pd.testing.assert_frame_equal(sample_training_set(frame, max_rows, seed=5, where=mask),
                                  sample_training_set(frame[mask], max_rows, seed=5))


def test_sampling_leaves_a_small_set_alone():
    frame = pd.DataFrame({"event": [1, 0, 0]})
    assert sample_training_set(frame, max_rows=10)["sample_weight"].tolist() == [1.0, 1.0, 1.0]


# -- backtest bookkeeping ----------------------------------------------------------------------

def test_as_known_on_censors_later_churn_and_hides_unfinished_labels():
    train = pd.DataFrame({
        "snapshot": [T("2024-01-31"), T("2024-01-31"), T("2024-03-31"), T("2024-05-31")],
        "customer_id": ["A", "B", "A", "A"],
        "duration_days": [30, 150, 100, 10], "event": [1, 1, 1, 1],
    })
    known = as_known_on(train, "2024-05-31", horizon_days=90).set_index(["snapshot", "customer_id"])
    # B churned 150 days after 2024-01-31 (2024-06-29): not known on 2024-05-31, censored at 121 days
    b = known.loc[(T("2024-01-31"), "B")]
    assert (b.duration_days, b.event, b.churned) == (121, 0, 0)
    # A's churn 30 days after January is known and within the horizon
    assert known.loc[(T("2024-01-31"), "A"), "churned"] == 1
    # the March snapshot's horizon ends 2024-06-29: after 2024-05-31, so no label yet
    assert pd.isna(known.loc[(T("2024-03-31"), "A"), "churned"])
    # snapshots on or after the date are gone
    assert T("2024-05-31") not in known.index.get_level_values(0)


def test_rolling_folds_train_only_on_finished_horizons():
    snaps = pd.date_range("2024-01-31", periods=8, freq="ME")
    folds = rolling_folds(snaps, horizon_days=60, as_of="2024-09-30", folds=2)
    # labelled test snapshots end by 2024-09-30 - 60 days: June (2024-06-30) and July
    assert [f.test_snapshot for f in folds] == [T("2024-06-30"), T("2024-07-31")]
    june = folds[0]
    # a snapshot may train when its 60-day horizon ended by June 30: up to April 30
    assert june.calibration_snapshot == T("2024-04-30")
    assert june.fit_snapshots == (T("2024-01-31"), T("2024-02-29"), T("2024-03-31"))


def test_rule_baseline_counts_warning_signs():
    features = pd.DataFrame({"days_since_last_use": [45, 2], "usage_change_60d_pct": [-50, 10],
                             "open_high_critical_tickets": [1, 0], "nps_detractor": [1, 0],
                             "failed_payments_180d": [0, 0], "overdue_invoices": [2, 0]})
    assert rule_baseline_score(features).tolist() == [5.0, 0.0]


# -- reasons -----------------------------------------------------------------------------------

def test_phrases_use_the_customers_numbers():
    assert phrase("usage_change_60d_pct", -48.0) == "usage down 48% vs the prior 60 days"
    assert phrase("critical_open_over_14d", 2) == "2 critical tickets open for more than 14 days"
    assert phrase("last_nps", 3) == "NPS 3: detractor"
    assert phrase("days_since_success_touch", 180) == "no contact with customer success for 180 days"
    assert phrase("tenure_days", 61) == "customer for only 2 months"


def test_columns_outside_the_catalogue_are_worded_from_their_name():
    assert phrase("Contract", "Month-to-month") == "contract: Month-to-month"
    assert phrase("PaymentMethod", "Electronic check") == "payment method: Electronic check"
    assert phrase("MonthlyCharges", 95.65) == "monthly charges 95.7"
    assert phrase("tenure", 2) == "tenure 2"


def test_a_phrase_is_short_even_for_a_missing_value_or_a_long_category():
    assert phrase("satisfaction_mean", float("nan")) == "satisfaction mean: unknown"
    long = phrase("PaymentMethod", "x" * 200)
    assert long.startswith("payment method: xxx") and len(long) < MAX_REASON_CHARS


def test_explain_gives_one_reason_per_topic_ranked_by_contribution():
    features = pd.DataFrame({"usage_change_60d_pct": [-48.0], "events_30d": [2.0], "last_nps": [3.0],
                             "failed_payments_180d": [1.0]})
    contributions = pd.DataFrame({"usage_change_60d_pct": [0.9], "events_30d": [0.4], "last_nps": [0.5],
                                  "failed_payments_180d": [-0.2]})
    # usage (0.9 + 0.4) outranks feedback (0.5); billing lowers risk
    assert explain(contributions, features).iloc[0] == "usage down 48% vs the prior 60 days; NPS 3: detractor"


def test_explain_says_so_when_nothing_raises_the_risk():
    features = pd.DataFrame({"usage_change_60d_pct": [20.0], "last_nps": [9.0]})
    contributions = pd.DataFrame({"usage_change_60d_pct": [-0.4], "last_nps": [0.05]})
    assert explain(contributions, features).iloc[0] == "no risk driver stands out"


def test_a_missing_value_is_never_a_reason():
    # no NPS on record: the model's missing indicator raises the risk (0.8), yet "no NPS" is no
    # reason to call; the next driver, usage, is
    features = pd.DataFrame({"last_nps": [np.nan], "events_30d": [1.0], "industry": [np.nan]})
    contributions = pd.DataFrame({"last_nps": [0.8], "events_30d": [0.3], "industry": [0.5]})
    assert explain(contributions, features).iloc[0] == "1 usage event in the last 30 days"


def test_a_reason_is_a_value_worse_than_typical():
    # satisfaction lowers the risk (contribution falls as the value rises); the survey's missing
    # indicator shifts every known value's term up by 0.3, so the customer at 0.6 has a positive
    # term although 0.6 is better than the typical 0.5: not a reason. The one at 0.2 is.
    x = np.array([0.6, 0.2, 0.9])
    features = pd.DataFrame({"satisfaction_mean": x})
    contributions = pd.DataFrame({"satisfaction_mean": 0.3 - 2.0 * (x - 0.5)})
    assert contributions["satisfaction_mean"].iloc[0] > 0.1
    reasons = explain(contributions, features, typical=pd.Series({"satisfaction_mean": 0.5}))
    assert reasons.tolist() == ["no risk driver stands out", "surveys average 20 of 100 over time",
                                "no risk driver stands out"]


def test_a_topic_nets_its_features_before_it_is_a_reason():
    # two views of one MRR move pull opposite ways: the contract topic adds 0.2 - 0.5 < 0.1
    features = pd.DataFrame({"mrr_change_90d": [500.0, -300.0], "mrr_change_90d_pct": [10.0, -5.0]})
    contributions = pd.DataFrame({"mrr_change_90d": [0.2, -0.1], "mrr_change_90d_pct": [-0.5, 0.3]})
    assert explain(contributions, features).tolist() == ["no risk driver stands out", "MRR down 5% vs 90 days ago"]


def test_a_flat_tables_own_columns_are_reasons_one_per_column():
    # a Telco-like frame: no catalogue feature but tenure; the contributions arrive per one-hot
    # level, as a design matrix names them, and read as one reason per source column
    features = pd.DataFrame({
        "tenure_days": [61.0, 2000.0, 900.0],
        "Contract": pd.Categorical(["Month-to-month", "Two year", "One year"]),
        "PaymentMethod": pd.Categorical(["Electronic check", "Mailed check", "Electronic check"]),
        "SeniorCitizen": [1.0, 0.0, 0.0],
    })
    contributions = pd.DataFrame({
        "tenure_days": [0.5, -0.6, -0.2],
        "Contract=Month-to-month": [0.6, -0.4, -0.4], "Contract=Two year": [0.1, -0.5, 0.1],
        "PaymentMethod=Electronic check": [0.3, -0.1, 0.3],
        "SeniorCitizen": [0.15, -0.02, -0.02],
    })
    assert explain(contributions, features, top=4).tolist() == [
        # the catalogue's tenure first, then the attributes by contribution
        "customer for only 2 months; contract: Month-to-month; payment method: Electronic check; senior citizen: yes",
        "no risk driver stands out",
        "payment method: Electronic check",
    ]


def test_where_the_data_shows_behaviour_the_customers_attributes_are_not_reasons():
    # the demo's region is random, yet a model gives it some pull: "region: asia pacific" is noise
    # read out as a reason; only a flat table (nothing but who the customer is) speaks of attributes
    features = pd.DataFrame({"events_30d": [1.0, 40.0], "industry": ["retail", "media"], "tenure_days": [50.0, 50.0]})
    contributions = pd.DataFrame({"events_30d": [0.2, -0.3], "industry": [0.9, 0.9], "tenure_days": [0.0, 0.0]})
    assert explain(contributions, features).tolist() == ["1 usage event in the last 30 days", "no risk driver stands out"]
    flat = explain(contributions.drop(columns="events_30d"), features.drop(columns="events_30d"))
    assert flat.tolist() == ["industry: retail", "industry: media"]


def test_training_medians_are_the_typical_customer_reasons_compare_with(train):
    design = make_preprocessor(["tickets", "logins"], ["plan"]).fit(train[["tickets", "logins", "plan"]])
    medians = training_medians(design)
    assert medians.to_dict() == {"tickets": train["tickets"].median(), "logins": train["logins"].median()}


# -- bundle ------------------------------------------------------------------------------------

@pytest.fixture()
def saved(tmp_path, train):
    bundle = ModelBundle(survival=SurvivalModel("cox").fit(train), classifier=ChurnClassifier().fit(train),
                         features=["tickets", "logins", "noise", "plan"], horizon_days=90, as_of="2024-06-30",
                         training_window={"rows": len(train)}, chosen={"survival": "cox"}, fingerprint="abc123")
    return save_bundle(bundle, tmp_path / "models")


def test_bundle_round_trip(saved, train):
    bundle = load_bundle(saved, fingerprint="abc123", features=train)
    assert bundle.chosen == {"survival": "cox"} and bundle.horizon_days == 90
    assert bundle.survival.predict(train.head(3))["churn_probability"].between(0, 1).all()


def test_bundle_with_changed_models_file_is_refused(saved):
    with open(saved / "models.joblib", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(BundleError, match="sha256 differs"):
        load_bundle(saved)


def rewrite_meta(folder, change) -> None:
    """Change bundle.json with ``change(meta)`` as a bundle written that way would read (its
    checksum recomputed): what the checks after the checksum see."""
    meta = json.loads((folder / "bundle.json").read_text())
    change(meta)
    if "bundle_sha256" in meta:
        meta["bundle_sha256"] = bundle_module.metadata_sha256(meta)
    (folder / "bundle.json").write_text(json.dumps(meta))


def test_bundle_from_other_package_versions_is_refused(saved):
    rewrite_meta(saved, lambda meta: meta["versions"].update({"scikit-learn": "0.1"}))
    with pytest.raises(BundleError, match=r"scikit-learn 0\.1 \(installed"):
        load_bundle(saved)


def test_bundle_fitted_on_other_data_is_refused(saved):
    with pytest.raises(BundleError, match="fitted on other data"):
        load_bundle(saved, fingerprint="fff000")


def test_bundle_refuses_features_that_lack_a_model_input(saved, train):
    with pytest.raises(BundleError, match="lacks 1 feature"):
        load_bundle(saved, features=train.drop(columns="noise"))


def test_bundle_metadata_carries_a_checksum_of_both_files(saved):
    meta = json.loads((saved / "bundle.json").read_text())
    assert meta["format_version"] == bundle_module.FORMAT_VERSION == 2
    assert meta["bundle_sha256"] == bundle_module.metadata_sha256(meta)
    assert len(meta["models_sha256"]) == 64


def refit_error(folder, file: str) -> str:
    """The pattern of the one message a damaged bundle gives: the file, and refit."""
    return rf"{folder / file}.*refit the models"


@pytest.mark.parametrize("field, value", [("horizon_days", 30), ("features", ["tickets", "logins"]),
                                          ("fingerprint", "fff000"), ("as_of", "2025-06-30")])
def test_bundle_with_edited_metadata_is_refused(saved, field, value):
    """bundle.json is covered by the checksum: an edited horizon or feature list does not load."""
    meta = json.loads((saved / "bundle.json").read_text())
    meta[field] = value
    (saved / "bundle.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    with pytest.raises(BundleError, match=refit_error(saved, "bundle.json")) as err:
        load_bundle(saved)
    assert "bundle_sha256 differs" in str(err.value)


def test_bundle_of_the_old_format_asks_for_a_refit(saved):
    """A format 1 bundle (no checksum over bundle.json) is refused, not trusted."""
    meta = json.loads((saved / "bundle.json").read_text())
    meta.pop("bundle_sha256", None)
    meta["format_version"] = 1
    (saved / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=r"bundle format 1 is older.*refit the models"):
        load_bundle(saved)


@pytest.mark.parametrize("text", ['{"format_version": 2, "features": [', "", "\x00\x01 not json",
                                  '["a", "list"]', '"text"', "null", "42"])
def test_bundle_with_malformed_metadata_gives_one_clear_error(saved, text):
    (saved / "bundle.json").write_text(text)
    with pytest.raises(BundleError, match=refit_error(saved, "bundle.json")):
        load_bundle(saved)


@pytest.mark.parametrize("field", ["features", "horizon_days", "versions", "models_sha256"])
def test_bundle_metadata_missing_a_field_gives_one_clear_error(saved, train, field):
    rewrite_meta(saved, lambda meta: meta.pop(field))
    with pytest.raises(BundleError, match=refit_error(saved, "bundle.json")):
        load_bundle(saved, features=train)


@pytest.mark.parametrize("field, value", [("horizon_days", "ninety"), ("features", "tickets"),
                                          ("training_window", [1]), ("features", [1, 2])])
def test_bundle_metadata_of_the_wrong_type_gives_one_clear_error(saved, field, value):
    rewrite_meta(saved, lambda meta: meta.update({field: value}))
    with pytest.raises(BundleError, match=refit_error(saved, "bundle.json")):
        load_bundle(saved)


def _replace_models_file(folder, data: bytes) -> None:
    """models.joblib replaced by ``data``, bundle.json updated to describe it (as if written so)."""
    import hashlib
    (folder / "models.joblib").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    rewrite_meta(folder, lambda meta: meta.update({"models_sha256": sha}))


def test_bundle_with_a_truncated_pickle_gives_one_clear_error(saved):
    data = (saved / "models.joblib").read_bytes()
    _replace_models_file(saved, data[: len(data) // 2])
    with pytest.raises(BundleError, match=refit_error(saved, "models.joblib")):
        load_bundle(saved)


@pytest.mark.parametrize("obj", [[1, 2, 3], {"survival": None}, {"survival": "cox", "classifier": "logistic"}])
def test_bundle_with_a_pickle_of_the_wrong_object_gives_one_clear_error(saved, tmp_path, obj):
    import joblib
    joblib.dump(obj, tmp_path / "other.joblib")
    _replace_models_file(saved, (tmp_path / "other.joblib").read_bytes())
    with pytest.raises(BundleError, match=refit_error(saved, "models.joblib")):
        load_bundle(saved)


def test_a_model_leaning_on_a_feature_against_its_plain_sense_gives_no_reason_from_it():
    # with the purchase count in, the model's risk rises with the expected spend (collinearity);
    # "spend expected 540" is still no reason to call anyone, while the overdue gap is
    x = np.array([540.0, 80.0, 300.0])
    features = pd.DataFrame({"btyd_expected_value": x, "gap_overdue_ratio": [3.0, 0.5, 1.0]})
    contributions = pd.DataFrame({"btyd_expected_value": 0.004 * (x - 300.0),
                                  "gap_overdue_ratio": [0.6, -0.3, 0.0]})
    reasons = explain(contributions, features, typical=pd.Series({"btyd_expected_value": 300.0,
                                                                   "gap_overdue_ratio": 1.0}))
    assert reasons.tolist() == ["no purchase for 3.0x their usual gap", "no risk driver stands out",
                                "no risk driver stands out"]
    # the same model leaning the plain way: a low expected spend is a reason
    flipped = contributions.assign(btyd_expected_value=-0.004 * (x - 300.0))
    assert explain(flipped, features, typical=pd.Series({"btyd_expected_value": 300.0})).iloc[1] \
        == "spend expected 80 over the value horizon"


def test_every_feature_with_a_risky_side_is_in_the_catalogue():
    from churnlab.features.catalogue import ALL_FEATURES, RISKY_SIDE

    names = {f.name for f in ALL_FEATURES}
    assert set(RISKY_SIDE) <= names, sorted(set(RISKY_SIDE) - names)
    assert set(RISKY_SIDE.values()) == {"high", "low"}

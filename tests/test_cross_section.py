"""The cross-section backtest for flat tables whose churn all falls in one recent month."""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.models.backtest import backtest, cross_section_folds, rolling_can_learn

T = pd.Timestamp
AS_OF = T("2024-05-01")


def flat_training_set(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Four month-end snapshots of the same customers; only the latest labelled one (2024-01-31)
    sees churn within its 90-day horizon, as a flat export that knows one month of churn gives.
    Customers with more ``tickets`` churn more often."""
    rng = np.random.default_rng(seed)
    tickets = rng.poisson(1.0, n).astype(float)
    churns = rng.random(n) < 1 / (1 + np.exp(-(tickets - 2.5)))
    frames = []
    for snap in (T("2023-10-31"), T("2023-11-30"), T("2023-12-31"), T("2024-01-31")):
        churn_at = T("2024-04-15")
        duration = np.where(churns, (churn_at - snap).days, (AS_OF - snap).days)
        frames.append(pd.DataFrame({
            "snapshot": snap, "customer_id": [f"C{i:04d}" for i in range(n)], "tickets": tickets,
            "duration_days": duration, "event": churns.astype(int), "label_observed": True,
            "churned": pd.array(churns & (duration <= 90), dtype="Int64"),
        }))
    return pd.concat(frames, ignore_index=True)


def test_rolling_backtest_cannot_learn_when_earlier_snapshots_have_no_churner():
    train = flat_training_set()
    assert train.groupby("snapshot")["churned"].sum().tolist()[:3] == [0, 0, 0]
    assert not rolling_can_learn(train, AS_OF, horizon_days=90, folds=1)


def test_cross_section_folds_split_the_latest_labelled_snapshot_into_stratified_parts():
    train = flat_training_set()
    plan, rows = cross_section_folds(train, folds=3, seed=1)
    assert [f.label for f in plan] == ["2024-01-31 part 1", "2024-01-31 part 2", "2024-01-31 part 3"]
    assert len(rows) == 1200 and rows["customer_id"].is_unique
    # 3 folds + 2 → five parts of equal size, each holding a fifth of the churners (give or take one)
    sizes = rows.groupby("part").size()
    churners = rows.groupby("part")["churned"].sum()
    assert sizes.tolist() == [240] * 5
    assert churners.max() - churners.min() <= 1


def test_cross_section_backtest_ranks_churners_by_the_feature_that_drives_them():
    train = flat_training_set()
    result = backtest(train, AS_OF, horizon_days=90, folds=2, survival_kinds=("cox",),
                      classifier_kinds=("logistic",), kind="cross_section", seed=1)
    auc = result.summary().set_index("model")["roc_auc_mean"]
    assert auc["logistic"] > 0.7 and auc["cox"] > 0.7
    test_customers = result.predictions[result.predictions["model"] == "logistic"].groupby("fold")["customer_id"]
    first, second = (set(ids) for _, ids in test_customers)
    assert not first & second  # each fold tests on other customers


def monthly_training_set(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Twelve month-end snapshots of customers whose churn date comes sooner with more
    ``tickets``; durations run from each snapshot to the churn or to the as-of date 2024-05-01."""
    rng = np.random.default_rng(seed)
    tickets = rng.poisson(1.0, n).astype(float)
    churn_at = T("2023-01-01") + pd.to_timedelta(np.ceil(rng.exponential(300 / np.exp(0.7 * tickets))), unit="D")
    frames = []
    for snap in pd.date_range("2023-01-31", periods=12, freq="ME"):
        alive = churn_at > snap
        event = churn_at[alive] <= AS_OF
        duration = np.where(event, (churn_at[alive] - snap).days, (AS_OF - snap).days)
        observed = snap + pd.Timedelta(days=90) <= AS_OF
        frames.append(pd.DataFrame({
            "snapshot": snap, "customer_id": [f"C{i:04d}" for i in np.flatnonzero(alive)],
            "tickets": tickets[alive], "duration_days": duration, "event": event.astype(int),
            "label_observed": observed,
            "churned": pd.array(np.where(observed, event & (duration <= 90), pd.NA), dtype="Int64"),
        }))
    return pd.concat(frames, ignore_index=True)


def test_backtest_figures_are_the_same_whether_fits_run_one_or_two_at_a_time():
    train = monthly_training_set()
    one, two = (backtest(train, AS_OF, horizon_days=90, folds=3, survival_kinds=("cox",),
                         classifier_kinds=("logistic", "boosting"), seed=1, n_jobs=n) for n in (1, 2))
    assert len(one.metrics) == 3 * 5  # 3 folds x (3 models + 2 baselines)
    assert one.metrics["roc_auc"].notna().all()
    pd.testing.assert_frame_equal(one.metrics, two.metrics)
    pd.testing.assert_frame_equal(one.predictions, two.predictions)

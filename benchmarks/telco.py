"""The churn models on the public IBM Telco table, read through churnlab's own loading path.

The table (``telco-customer-churn.csv``, one flat row per customer) is read with the shipped
``telco`` mapping (:func:`churnlab.load_data` with ``mapping``), as ``churnlab run --mapping
telco`` reads it: ``tenure`` months become a signup date counted back from the as-of date and
``Churn = Yes`` a churn date in the month before it. Then, in 5 stratified folds over customers
(seeded):

* **classification**: the features on the day before the mapped churn dates
  (:func:`churnlab.build_training_set` with that single snapshot and a horizon reaching the
  as-of date, so the label is "left in the following month"); :class:`churnlab.models.classify.ChurnClassifier`
  (logistic and boosting) fitted on four folds and judged on the fifth: ROC AUC;
* **survival**: each customer's lifetime, signup to churn or to the as-of date (the table's
  tenure), with the same features less ``tenure_days`` (it is the duration) and
  ``TotalCharges`` (about tenure x monthly charges: it would give the duration away);
  :class:`churnlab.models.survival.SurvivalModel` (Cox and Weibull AFT): Harrell's concordance on the
  held-out fold.

    .venv/bin/python benchmarks/telco.py [--csv ../shared/data/real/telco-customer-churn.csv]

Targets (issue 4): 5-fold ROC AUC >= 0.84 and concordance >= 0.85.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = "2026-06-30"
DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "telco-customer-churn.csv"


def telco_frames(csv: Path, as_of: str = AS_OF) -> pd.DataFrame:
    """One row per customer active at the snapshot: features, ``churned`` (within 30 days) and the
    lifetime columns ``lifetime_days``/``lifetime_event`` for survival."""
    from churnlab import build_training_set, load_data
    from churnlab.settings import load_mapping

    dataset = load_data(csv, as_of=as_of, mapping=load_mapping("telco"))
    # the day before the mapping's churn dates: everyone is still a customer, and the horizon
    # reaches the as-of date, so the label is "left within the following month"
    snapshot = pd.to_datetime(dataset["customers"]["churn_date"]).min() - pd.Timedelta(days=1)
    horizon = (pd.Timestamp(as_of) - snapshot).days
    frame = build_training_set(dataset, as_of, horizon_days=horizon, snapshots=[snapshot.date()])
    frame = frame[frame["churned"].notna()].reset_index(drop=True)
    customers = dataset["customers"].set_index("customer_id")
    end = pd.to_datetime(customers["churn_date"]).fillna(pd.Timestamp(as_of))
    lifetime = (end - pd.to_datetime(customers["signup_date"])).dt.days
    frame["lifetime_days"] = frame["customer_id"].map(lifetime).astype("float64").clip(lower=1.0)
    frame["lifetime_event"] = frame["customer_id"].map(customers["churn_date"].notna()).astype("int64")
    return frame


def cross_validate(frame: pd.DataFrame, folds: int = 5, seed: int = 7) -> dict:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from churnlab.models.classify import ChurnClassifier
    from churnlab.models.metrics import concordance
    from churnlab.models.survival import SurvivalModel

    y = frame["churned"].astype("int64").to_numpy()
    # TotalCharges is about tenure x MonthlyCharges: beside MonthlyCharges it gives the lifetime
    # away, so the survival model goes without it (the classifier keeps it: it does not say who
    # leaves next month)
    survival = frame.drop(columns=["duration_days", "event", "tenure_days", "TotalCharges"]).rename(
        columns={"lifetime_days": "duration_days", "lifetime_event": "event"})
    classify = frame.drop(columns=["lifetime_days", "lifetime_event"])
    scores: dict[str, list[float]] = {"logistic": [], "boosting": [], "cox": [], "weibull_aft": []}
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in split.split(frame, y):
        for kind in ("logistic", "boosting"):
            model = ChurnClassifier(kind, seed=seed).fit(classify.iloc[train])
            scores[kind].append(roc_auc_score(y[test], model.predict_proba(classify.iloc[test])[:, 1]))
        for kind in ("cox", "weibull_aft"):
            model = SurvivalModel(kind).fit(survival.iloc[train])
            held = survival.iloc[test]
            scores[kind].append(concordance(held["duration_days"].to_numpy(), model.risk(held),
                                            held["event"].to_numpy()))
    return {k: (float(np.mean(v)), [round(x, 4) for x in v]) for k, v in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()
    if not args.csv.is_file():
        raise SystemExit(f"{args.csv} not found: pass --csv with the IBM Telco customer churn table")
    frame = telco_frames(args.csv)
    print(f"{len(frame):,} customers, {int(frame['churned'].sum()):,} churned in the last month")
    result = cross_validate(frame)
    for kind, (mean, per_fold) in result.items():
        figure = "ROC AUC" if kind in ("logistic", "boosting") else "concordance"
        target = 0.84 if figure == "ROC AUC" else 0.85
        print(f"{kind:<12} 5-fold {figure:<12} {mean:.3f}  (target {target})  folds {json.dumps(per_fold)}")


if __name__ == "__main__":
    main()

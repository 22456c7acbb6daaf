"""The churn models against the demo's ground truth, and how long fitting them takes.

For each demo size (generated first when missing), with the as-of date one year before the data
ends and a 90-day horizon:

* fits the models with :func:`churnlab.fit_models` (backtest included) and scores the customers
  active at the as-of date;
* judges the scores against what truly happened next (``<data>-truth/customers.parquet``) and
  beside the **oracle**, the true latent hazard of the demo world
  (``<data>-truth/hazard.parquet``): P(churn within 90 days) = 1 - prod(1 - monthly hazard) over
  the three months after the as-of date, and for concordance the cumulative hazard over the year
  the data still covers;
* prints ROC AUC (model / oracle), expected calibration error, concordance (model / oracle) and
  the fit times.

    .venv/bin/python benchmarks/models.py --sizes 5000 100000 [--data-root data/bench]

Targets (issue 4): AUC >= 0.95 x oracle, ECE <= 0.03, concordance >= 0.95 x oracle.
``--fit-only`` instead times, on each size's training set, the final fit of each model kind
(on the weighted sample of ``models.max_training_rows`` rows) and the whole of
:func:`churnlab.fit_models` (backtest, choice and both final fits).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling helpers, also when loaded by path
from demo_folders import ensure_demo  # noqa: E402

AS_OF = "2025-06-30"
DATA_END = "2026-06-30"



def oracle(truth: Path, customers: pd.Series, as_of: pd.Timestamp, horizon_months: int, months: int) -> tuple:
    """(P(churn within the horizon), cumulative hazard over ``months``) from the true hazard."""
    hazard = pd.read_parquet(truth / "hazard.parquet")
    hazard["month"] = pd.to_datetime(hazard["month"])
    first = (as_of + pd.Timedelta(days=1)).to_period("M").to_timestamp()
    if first <= as_of:
        first = first + pd.offsets.MonthBegin(1)
    ahead = pd.date_range(first, periods=months, freq="MS")
    wide = hazard[hazard["month"].isin(ahead)].pivot(index="customer_id", columns="month", values="hazard")
    wide = wide.reindex(columns=ahead).fillna(0.0)
    p_horizon = 1.0 - (1.0 - wide.iloc[:, :horizon_months]).prod(axis=1)
    cum = -np.log1p(-wide.clip(upper=0.999999)).sum(axis=1)
    return customers.map(p_horizon).fillna(0.0).to_numpy(), customers.map(cum).fillna(0.0).to_numpy()


def judge(folder: Path, seed: int = 7) -> dict:
    from churnlab import build_features, fit_models, score
    from churnlab.metrics import concordance, expected_calibration_error
    from churnlab.settings import Settings
    from sklearn.metrics import roc_auc_score

    truth = folder.with_name(folder.name + "-truth")
    as_of, end = pd.Timestamp(AS_OF), pd.Timestamp(DATA_END)
    settings = Settings(seed=seed)
    t = time.perf_counter()
    bundle, _ = fit_models(folder, as_of, settings)
    fit_s = time.perf_counter() - t
    features = build_features(folder, as_of)
    scores = score(bundle, features)
    true = pd.read_parquet(truth / "customers.parquet").set_index("customer_id")["true_churn_date"]
    churn = pd.to_datetime(scores["customer_id"].map(true))
    y = ((churn > as_of) & (churn <= as_of + pd.Timedelta(days=settings.horizon_days))).astype(int).to_numpy()
    event = ((churn > as_of) & (churn <= end)).astype(int).to_numpy()
    duration = np.where(event == 1, (churn - as_of).dt.days, (end - as_of).days)
    p_oracle, cum_oracle = oracle(truth, scores["customer_id"], as_of, 3, 12)
    auc, auc_o = roc_auc_score(y, scores["churn_probability"]), roc_auc_score(y, p_oracle)
    c, c_o = concordance(duration, scores["risk"], event), concordance(duration, cum_oracle, event)
    return {
        "customers": int(len(scores)), "churned_90d": int(y.sum()), "fit_models_s": round(fit_s, 1),
        "chosen": f"{bundle.chosen['survival']} + {bundle.chosen['classifier']}",
        "auc": auc, "auc_oracle": auc_o, "auc_ratio": auc / auc_o,
        "ece": expected_calibration_error(y, scores["churn_probability"]),
        "mean_p": float(scores["churn_probability"].mean()), "rate": float(y.mean()),
        "concordance": c, "concordance_oracle": c_o, "concordance_ratio": c / c_o,
    }


def fit_only(folder: Path, seed: int = 7) -> dict:
    """Time the final fit of both chosen kinds (Cox and boosting) on a training set."""
    from churnlab.classify import ChurnClassifier, labelled
    from churnlab.features import build_training_set
    from churnlab.sampling import sample_training_set
    from churnlab.settings import Settings
    from churnlab.survival import SurvivalModel

    ms = Settings().models
    t = time.perf_counter()
    train = build_training_set(folder, AS_OF, snapshots=ms.snapshots)
    build_s = time.perf_counter() - t
    out = {"training_rows": int(len(train)), "build_training_set_s": round(build_s, 1)}
    for kind in ("cox", "weibull_aft"):
        t = time.perf_counter()
        SurvivalModel(kind, penalizer=ms.penalizer).fit(sample_training_set(train, ms.max_training_rows, seed))
        out[f"fit_{kind}_s"] = round(time.perf_counter() - t, 1)
    known = labelled(train)
    last = known["snapshot"].max()
    for kind in ("logistic", "boosting"):
        t = time.perf_counter()
        ChurnClassifier(kind, seed=seed).fit(sample_training_set(known[known["snapshot"] < last], ms.max_training_rows, seed),
                                             calibrate_on=known[known["snapshot"] == last])
        out[f"fit_{kind}_s"] = round(time.perf_counter() - t, 1)
    # and the whole of fit_models on the same training set: the rolling backtest of all four
    # kinds (3 folds), the choice, and the two final fits, side by side as in a run
    from churnlab import fit_models
    t = time.perf_counter()
    bundle, _ = fit_models(folder, AS_OF, Settings(seed=seed), training_set=train)
    out["fit_models_s"] = round(time.perf_counter() - t, 1)
    out["chosen"] = f"{bundle.chosen['survival']} + {bundle.chosen['classifier']}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 100_000])
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    parser.add_argument("--fit-only", action="store_true", help="only time fitting on each size's training set")
    args = parser.parse_args()
    for n in args.sizes:
        folder = ensure_demo(args.data_root, n)
        result = fit_only(folder) if args.fit_only else judge(folder)
        print(json.dumps({"size": n, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()}}),
              flush=True)


if __name__ == "__main__":
    main()

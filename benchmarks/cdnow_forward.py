"""CDNOW judged forward: does churnlab's score rank "buys again within 90 days" better than
recency, frequency and a buy-till-you-die model alone?

The run (``churnlab run --config examples/cdnow-settings.yaml --as-of 1998-03-31``) reads the
purchase log up to the as-of date only. This script then reads the following ``--days`` days of
the log, which the run never saw, and asks of every customer whether it bought again in them.
Each score is judged by ROC AUC on that question:

* **churnlab**: ``1 - churn_probability`` of ``scores.csv`` (the run's chosen model);
* **recency**: fewer days since the last purchase ranks higher;
* **frequency**: more days with a purchase (after the first) ranks higher;
* **BG/NBD P(alive)** and **BG/NBD expected purchases** over the next ``--days`` days
  (``lifetimes.BetaGeoFitter`` fitted on the log up to the as-of date), when ``lifetimes`` is installed.

Two populations: the customers the run scored (active on the as-of date by its inactivity rule)
and every customer of the log (a lapsed customer, not scored, ranks below every scored one for
churnlab's score: the run says it has lapsed).

    .venv/bin/python benchmarks/cdnow_forward.py [--scores reports/1998-03-31/scores.csv] [--ceiling]

Without ``--scores`` the run is made first, into a temporary folder (about a minute).

``--ceiling`` asks how far any model of the run's features (and of the whole log) could go: the features of the scored
customers at the as-of date (``churnlab.build_features`` with the run's settings: usage windows,
purchase history, BG/NBD) are fitted *on the forward answer itself*, by 5-fold cross-validation
across customers, with churnlab's logistic and boosted classifiers, and the logistic one fitted
and judged on all of them (in-sample, optimistic). No run can have those models (they learn from
the window they are judged on); their ROC AUC bounds what a better model of the same history can
reach.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LOG = ROOT.parent / "shared" / "data" / "real" / "cdnow-master.txt"
AS_OF = "1998-03-31"


def read_log(path: Path) -> pd.DataFrame:
    """The purchase log: customer_id (text, as churnlab reads it), date, dollar_value."""
    log = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log


def baselines(log: pd.DataFrame, as_of: pd.Timestamp, days: int) -> pd.DataFrame:
    """Per customer who bought by ``as_of``: recency, frequency, BG/NBD scores and the answer
    ``buys_again`` (a purchase in the ``days`` after ``as_of``)."""
    past = log[log["date"] <= as_of]
    future = log[(log["date"] > as_of) & (log["date"] <= as_of + pd.Timedelta(days=days))]
    per_day = past.drop_duplicates(["customer_id", "date"])
    g = per_day.groupby("customer_id")["date"]
    out = pd.DataFrame({"first": g.min(), "last": g.max(), "days_bought": g.size()})
    out["recency_days"] = (as_of - out["last"]).dt.days
    out["frequency"] = out["days_bought"] - 1
    out["buys_again"] = out.index.isin(future["customer_id"]).astype(int)
    try:
        from lifetimes import BetaGeoFitter
    except ImportError:
        print("lifetimes is not installed: no BG/NBD baseline", file=sys.stderr)
        return out
    t = (as_of - out["first"]).dt.days.astype(float)
    recency = (out["last"] - out["first"]).dt.days.astype(float)
    bg = BetaGeoFitter(penalizer_coef=0.0).fit(out["frequency"].astype(float), recency, t)
    out["bgnbd_p_alive"] = bg.conditional_probability_alive(out["frequency"], recency, t)
    out["bgnbd_expected"] = bg.conditional_expected_number_of_purchases_up_to_time(days, out["frequency"], recency, t)
    return out


def judge(table: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """ROC AUC of each score on ``buys_again``, among the scored customers and among all."""
    table = table.join(scores.set_index("customer_id")["churn_probability"])
    scored = table["churn_probability"].notna()
    # a lapsed customer (not scored) ranks below every scored one
    table["churnlab"] = np.where(scored, 1 - table["churn_probability"].fillna(1.0), -1.0)
    candidates = {"churnlab (run's score)": table["churnlab"], "recency": -table["recency_days"],
                  "frequency": table["frequency"]}
    for col, name in (("bgnbd_p_alive", "BG/NBD P(alive)"), ("bgnbd_expected", "BG/NBD expected purchases")):
        if col in table:
            candidates[name] = table[col]
    rows = []
    for name, score in candidates.items():
        rows.append({"score": name,
                     "ROC AUC, scored customers": roc_auc_score(table.loc[scored, "buys_again"], score[scored]),
                     "ROC AUC, all customers": roc_auc_score(table["buys_again"], score)})
    return pd.DataFrame(rows)


def ceiling(log_path: Path, config: Path, as_of: pd.Timestamp, table: pd.DataFrame, scored_ids,
            folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """ROC AUC on ``buys_again`` of churnlab's classifiers fitted on the forward answer itself
    (``folds``-fold cross-validation across the scored customers, features of the as-of date)."""
    from sklearn.model_selection import StratifiedKFold

    from churnlab.features.engine import build_features
    from churnlab.models.classify import ChurnClassifier
    from churnlab.report.handoff import open_data
    from churnlab.settings import load_settings

    settings = load_settings(config)
    features = build_features(open_data(log_path, as_of, settings=settings), as_of)
    features = features[features["customer_id"].astype(str).isin(set(scored_ids))].reset_index(drop=True)
    answer = table["buys_again"].reindex(features["customer_id"].astype(str)).to_numpy()
    rows = features.assign(churned=1 - answer)
    out = []
    for kind in ("logistic", "boosting"):
        p = np.zeros(len(rows))
        for fit, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, rows["churned"]):
            model = ChurnClassifier(kind, C=settings.models.C, seed=seed).fit(rows.iloc[fit])
            p[test] = model.predict_proba(rows.iloc[test])[:, 1]
        out.append({"score": f"{kind}, fitted on the forward answer ({folds}-fold)",
                    "ROC AUC, scored customers": roc_auc_score(answer, 1 - p)})
    # fitted and judged on the same customers: optimistic, yet a few dozen terms barely overfit
    whole = ChurnClassifier("logistic", C=settings.models.C, seed=seed).fit(rows)
    out.append({"score": "logistic, fitted and judged on the forward answer (in-sample)",
                "ROC AUC, scored customers": roc_auc_score(answer, 1 - whole.predict_proba(rows)[:, 1])})
    out += whole_history_ceiling(read_log(log_path), as_of, table, scored_ids, folds, seed)
    return pd.DataFrame(out)


def whole_history_ceiling(log: pd.DataFrame, as_of: pd.Timestamp, table: pd.DataFrame, scored_ids,
                          folds: int = 5, seed: int = 0) -> list[dict]:
    """The same question with all the log holds, not just the run's features: each customer's
    purchase days and spend in each 30-day month before ``as_of`` (the last 14 months, older
    ones together), recency, frequency, age and BG/NBD's scores, fitted on the forward answer by
    ``folds``-fold cross-validation (a regularised logistic model on log counts, and gradient
    boosting)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    past = log[log["date"] <= as_of].copy()
    past["month"] = ((as_of - past["date"]).dt.days // 30).clip(upper=14)
    days = past.drop_duplicates(["customer_id", "date"]).pivot_table(
        index="customer_id", columns="month", values="date", aggfunc="count", fill_value=0).add_prefix("days_m")
    spend = past.pivot_table(index="customer_id", columns="month", values="dollar_value", aggfunc="sum",
                             fill_value=0).add_prefix("spend_m")
    cols = [c for c in ("recency_days", "frequency", "bgnbd_p_alive", "bgnbd_expected") if c in table]
    x = table[cols].assign(age_days=(as_of - table["first"]).dt.days).join(days).join(spend).fillna(0.0)
    x = x[x.index.isin(set(map(str, scored_ids)))]
    y = table.loc[x.index, "buys_again"].to_numpy()
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    out = []
    for name, model, inputs in (
            ("logistic", LogisticRegression(C=0.1, max_iter=2000), np.log1p(x.clip(lower=0))),
            ("boosting", HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                        random_state=seed), x)):
        p = cross_val_predict(model, inputs, y, cv=cv, method="predict_proba")[:, 1]
        out.append({"score": f"{name} on the whole monthly history, fitted on the forward answer ({folds}-fold)",
                    "ROC AUC, scored customers": roc_auc_score(y, p)})
    return out


def markdown(frame: pd.DataFrame) -> str:
    """A README table (figures to three decimals)."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--days", type=int, default=90, help="the forward window judged")
    parser.add_argument("--scores", type=Path, help="scores.csv of a run at --as-of (default: make the run)")
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "cdnow-settings.yaml")
    parser.add_argument("--ceiling", action="store_true",
                        help="also fit churnlab's classifiers on the forward answer itself (what the features allow)")
    args = parser.parse_args()
    as_of = pd.Timestamp(args.as_of)
    scores_path = args.scores
    if scores_path is None:
        out = Path(tempfile.mkdtemp(prefix="cdnow-forward-"))
        subprocess.run([sys.executable, "-m", "churnlab", "run", "--data", str(args.log), "--config", str(args.config),
                        "--as-of", args.as_of, "--out", str(out)], check=True)
        scores_path = out / as_of.date().isoformat() / "scores.csv"
    scores = pd.read_csv(scores_path, dtype={"customer_id": str})
    table = baselines(read_log(args.log), as_of, args.days)
    result = judge(table, scores)
    scored = table.index.isin(scores["customer_id"])
    print(f"CDNOW, as of {as_of.date()}: {scored.sum():,} customers scored of {len(table):,}; "
          f"bought again within {args.days} days: {table.loc[scored, 'buys_again'].mean():.1%} of the scored, "
          f"{table['buys_again'].mean():.1%} of all\n")
    print(markdown(result))
    if args.ceiling:
        print("\nThe most the run's features, and the whole log, allow (models fitted on the forward answer; no run can have them):\n")
        print(markdown(ceiling(args.log, args.config, as_of, table, scores["customer_id"])))


if __name__ == "__main__":
    main()

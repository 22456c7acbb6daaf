"""The churn models against the demo's ground truth, and how long fitting them takes.

For each demo size (generated first when missing), with the as-of date one year before the data
ends and a 90-day horizon:

* fits the models with :func:`churnlab.fit_models` (backtest included) and scores the customers
  active at the as-of date;
* judges the scores against what truly happened next (``<data>-truth/customers.parquet``) and
  beside two oracles, each giving P(churn within the three months after the as-of month) for
  the ROC AUC and a cumulative hazard over the twelve months after it for concordance:

  - the **as-of oracle** (``*_as_of``), :func:`churnlab.demo.oracle.expected_hazard`: the expected
    churn given the complete latent state *as of the as-of month* (traits, episodes begun and
    how far into them, contract and renewal timing, a retention action already taken), with the
    onsets of later episodes and a later retention action integrated out. It is the best
    prediction anyone could make at the as-of date, even knowing every hidden variable, so it is
    **the fair reference** for the issue's "AUC of the true latent hazard": a model that matched
    it would have learnt the world perfectly.
  - the **realised-path oracle** (``*_realised``), the one this benchmark used before: the
    monthly hazard of ``hazard.parquet`` over the months after the as-of date, i.e. of the path
    the world actually took. It peeks at episodes that began after the as-of date (draws no one
    can know then), and since ``hazard.parquet`` ends at each customer's churn month its months
    after a churn count as 0, which understates exactly the customers who churn early. Both
    distort it, in opposite directions; it is printed only for comparison with earlier figures.

* prints ROC AUC, expected calibration error, concordance, both oracles and the model's ratio to
  each, with bootstrap standard errors (customers resampled with replacement; the ratio's 95%
  percentile interval is paired: model and oracle on the same resample), and the fit times.

    nice -n 10 .venv/bin/python benchmarks/models.py --sizes 5000 100000 [--data-root data/bench]

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



ORACLE_DRAWS = 400   # Monte Carlo paths per customer: the as-of oracle's AUC moves < 0.002 between seeds


def realised_oracle(truth: Path, customers: pd.Series, as_of: pd.Timestamp, horizon_months: int, months: int) -> tuple:
    """(P(churn within the horizon), cumulative hazard over ``months``) from the hazard of the
    path the world took (``hazard.parquet``; months after a customer's churn count as 0)."""
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


def as_of_oracle(truth: Path, customers: pd.Series, as_of: pd.Timestamp, horizon_months: int, months: int,
                 draws: int = ORACLE_DRAWS, seed: int = 0) -> tuple:
    """(P(churn within the horizon), cumulative hazard over ``months``) from what the latent
    state knows at the as-of date (:func:`churnlab.demo.oracle.expected_hazard`)."""
    from churnlab.demo.oracle import expected_hazard

    expected = expected_hazard(truth, as_of, months=(horizon_months, months), draws=draws, seed=seed)
    expected = expected.set_index("customer_id")
    missing = ~customers.isin(expected.index)
    if missing.any():
        raise ValueError(f"{truth}: {int(missing.sum())} scored customers are not alive at {as_of.date()} "
                         f"in the ground truth (e.g. {', '.join(customers[missing].head(3))})")
    return (customers.map(expected[f"p_within_{horizon_months}m"]).to_numpy(),
            customers.map(expected["cumulative_hazard"]).to_numpy())


def bootstrap(stat, arrays: dict, reps: int, seed: int = 0) -> np.ndarray:
    """``stat(**resampled arrays)`` on ``reps`` resamples of the customers (with replacement)."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(arrays.values())))
    out = []
    for _ in range(reps):
        take = rng.integers(0, n, n)
        out.append(stat(**{k: v[take] for k, v in arrays.items()}))
    return np.array(out)


def outcomes(truth: Path, customers: pd.Series, as_of: pd.Timestamp, end: pd.Timestamp,
             horizon_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What truly happened to ``customers`` after the as-of date: ``y`` (churn within the
    horizon), ``event`` (churn by the end of the data) and ``duration`` (days to churn or to the
    end of the data), from ``<data>-truth/customers.parquet``."""
    true = pd.read_parquet(truth / "customers.parquet").set_index("customer_id")["true_churn_date"]
    churn = pd.to_datetime(customers.map(true))
    y = ((churn > as_of) & (churn <= as_of + pd.Timedelta(days=horizon_days))).astype(int).to_numpy()
    event = ((churn > as_of) & (churn <= end)).astype(int).to_numpy()
    duration = np.where(event == 1, (churn - as_of).dt.days, (end - as_of).days)
    return y, event, duration


def auc_figures(y: np.ndarray, p: np.ndarray, p_oracle: np.ndarray, reps: int) -> dict:
    """ROC AUC, ECE, the as-of oracle's AUC and the ratio, with paired bootstrap errors."""
    from churnlab.models.metrics import expected_calibration_error
    from sklearn.metrics import roc_auc_score

    out = {"auc": roc_auc_score(y, p), "auc_oracle_as_of": roc_auc_score(y, p_oracle),
           "ece": expected_calibration_error(y, p), "mean_p": float(p.mean()), "rate": float(y.mean())}
    out["auc_ratio_as_of"] = out["auc"] / out["auc_oracle_as_of"]
    if reps:
        boot = bootstrap(lambda y, p, o: (roc_auc_score(y, p), roc_auc_score(y, o)),
                         {"y": y, "p": p, "o": p_oracle}, reps)
        out.update({"auc_se": boot[:, 0].std(ddof=1), "auc_oracle_as_of_se": boot[:, 1].std(ddof=1),
                    "auc_ratio_as_of_se": (boot[:, 0] / boot[:, 1]).std(ddof=1),
                    "auc_ratio_as_of_95": [round(float(q), 3) for q in np.percentile(boot[:, 0] / boot[:, 1], [2.5, 97.5])],
                    "bootstrap_auc": reps})
    return out


def concordance_figures(duration: np.ndarray, event: np.ndarray, risk: np.ndarray, cum_oracle: np.ndarray,
                        reps: int) -> dict:
    """Harrell's concordance of ``risk``, the as-of oracle's and the ratio, with paired bootstrap errors."""
    from churnlab.models.metrics import concordance

    out = {"concordance": concordance(duration, risk, event),
           "concordance_oracle_as_of": concordance(duration, cum_oracle, event)}
    out["concordance_ratio_as_of"] = out["concordance"] / out["concordance_oracle_as_of"]
    if reps:
        boot = bootstrap(lambda d, r, o, e: (concordance(d, r, e), concordance(d, o, e)),
                         {"d": duration, "r": risk, "o": cum_oracle, "e": event}, reps)
        out.update({"concordance_se": boot[:, 0].std(ddof=1),
                    "concordance_ratio_as_of_se": (boot[:, 0] / boot[:, 1]).std(ddof=1),
                    "concordance_ratio_as_of_95": [round(float(q), 3) for q in np.percentile(boot[:, 0] / boot[:, 1], [2.5, 97.5])],
                    "bootstrap_concordance": reps})
    return out


def judge(folder: Path, seed: int = 7, oracle_draws: int = ORACLE_DRAWS, reps_auc: int = 200,
          reps_concordance: int = 50) -> dict:
    from churnlab import build_features, fit_models, score
    from churnlab.models.metrics import concordance
    from churnlab.settings import Settings
    from sklearn.metrics import roc_auc_score

    truth = folder.with_name(folder.name + "-truth")
    as_of, end = pd.Timestamp(AS_OF), pd.Timestamp(DATA_END)
    settings = Settings(seed=seed)
    t = time.perf_counter()
    bundle, _ = fit_models(folder, as_of, settings=settings)
    fit_s = time.perf_counter() - t
    features = build_features(folder, as_of)
    scores = score(bundle, features)
    y, event, duration = outcomes(truth, scores["customer_id"], as_of, end, settings.horizon_days)
    p_real, cum_real = realised_oracle(truth, scores["customer_id"], as_of, 3, 12)
    t = time.perf_counter()
    p_asof, cum_asof = as_of_oracle(truth, scores["customer_id"], as_of, 3, 12, draws=oracle_draws)
    oracle_s = time.perf_counter() - t
    p, risk = scores["churn_probability"].to_numpy(), scores["risk"].to_numpy()

    out = {"customers": int(len(scores)), "churned_90d": int(y.sum()), "fit_models_s": round(fit_s, 1),
           "chosen": f"{bundle.chosen['survival']} + {bundle.chosen['classifier']}"}
    out.update(auc_figures(y, p, p_asof, reps_auc))
    out.update(concordance_figures(duration, event, risk, cum_asof, reps_concordance))
    out["auc_oracle_realised"] = roc_auc_score(y, p_real)
    out["concordance_oracle_realised"] = concordance(duration, cum_real, event)
    out["auc_ratio_realised"] = out["auc"] / out["auc_oracle_realised"]
    out["concordance_ratio_realised"] = out["concordance"] / out["concordance_oracle_realised"]
    out.update({"oracle_draws": oracle_draws, "oracle_s": round(oracle_s, 1)})
    return out


#: the learning curve's sample sizes (None: every row); 60,000 is ``models.max_training_rows``
CURVE_SIZES = (10_000, 30_000, 60_000, 200_000, None)


def _big_boosting(seed: int):
    """A boosted-trees classifier with far more capacity than the shipped one: 4x the leaves,
    2.5x the rounds at half the rate, smaller leaves, no early stopping."""
    from churnlab.models.classify import ChurnClassifier
    from churnlab.models.design import make_preprocessor
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    class BigBoosting(ChurnClassifier):
        def _pipeline(self, numeric, categorical):
            model = HistGradientBoostingClassifier(
                learning_rate=0.05, max_iter=500, max_leaf_nodes=63, min_samples_leaf=20,
                l2_regularization=1.0, early_stopping=False, random_state=self.seed)
            return Pipeline([("design", make_preprocessor(numeric, categorical, scale=False)), ("model", model)])

    return BigBoosting("boosting", seed=seed)


def learning_curve(folder: Path, seed: int = 7, sizes=CURVE_SIZES, oracle_draws: int = ORACLE_DRAWS,
                   reps_auc: int = 200, reps_concordance: int = 20, big: bool = True, extra=None, kinds=None):
    """The model kinds fitted on weighted samples of growing size of one training set, each
    judged against the truth and the as-of oracle as :func:`judge` does. Yields one dict per
    (size, kind); ``kinds``: the model kinds (default: all of ``settings.models``); ``big`` adds
    :func:`_big_boosting` on all rows. ``extra(train, features)`` may add columns to both frames
    (for experiments) and returns them."""
    from churnlab import build_features
    from churnlab.models.classify import ChurnClassifier
    from churnlab.features.engine import build_training_set
    from churnlab.models.sampling import sample_training_set
    from churnlab.settings import Settings
    from churnlab.models.survival import SurvivalModel

    truth = folder.with_name(folder.name + "-truth")
    as_of, end = pd.Timestamp(AS_OF), pd.Timestamp(DATA_END)
    settings = Settings(seed=seed)
    ms, h = settings.models, settings.horizon_days
    t = time.perf_counter()
    train = build_training_set(folder, as_of, horizon_days=h, snapshots=ms.snapshots, churn=ms.churn,
                               inactivity_days=ms.inactivity_days)
    features = build_features(folder, as_of)
    if extra is not None:
        train, features = extra(train, features)
    build_s = time.perf_counter() - t
    y, event, duration = outcomes(truth, features["customer_id"], as_of, end, h)
    p_asof, cum_asof = as_of_oracle(truth, features["customer_id"], as_of, 3, 12, draws=oracle_draws)
    # as fit_models: classifiers on the labelled snapshots before the last, calibrated on the last
    observed = train["churned"].notna().to_numpy()
    snapshot = train["snapshot"].to_numpy()
    last = snapshot[observed].max()
    fit_where = observed & (snapshot < last)
    cal_rows = train[observed & (snapshot == last)]
    base = {"training_rows": int(len(train)), "classifier_rows": int(fit_where.sum()),
            "build_s": round(build_s, 1)}
    available = {"classifier": int(fit_where.sum()), "survival": len(train)}
    plan = []
    for family, family_kinds in (("classifier", ms.classifiers), ("survival", ms.survival)):
        # a sample as large as the rows there are is all of them: measured once, as "all"
        for n in dict.fromkeys(None if n is None or n >= available[family] else n for n in sizes):
            plan += [(n, kind) for kind in family_kinds if kinds is None or kind in kinds]
    plan.sort(key=lambda nk: float("inf") if nk[0] is None else nk[0])
    if big:
        plan.append((None, "boosting_big"))
    for n, kind in plan:
        t = time.perf_counter()
        if kind in ("cox", "weibull_aft"):
            rows = sample_training_set(train, n or len(train), seed)
            model = SurvivalModel(kind, penalizer=ms.penalizer, horizon_days=h).fit(rows)
            figures = concordance_figures(duration, event, model.risk(features), cum_asof, reps_concordance)
        else:
            rows = sample_training_set(train, n or int(fit_where.sum()), seed, where=fit_where)
            model = (_big_boosting(seed) if kind == "boosting_big"
                     else ChurnClassifier(kind, C=ms.C, calibration=ms.calibration, seed=seed))
            model.fit(rows, calibrate_on=cal_rows)
            p = model.predict_proba(features)[:, 1]
            figures = auc_figures(y, p, p_asof, reps_auc)
            # the same probabilities as a ranking over the whole year after (no survival model)
            figures.update({f"p_{k}": v for k, v in concordance_figures(duration, event, p, cum_asof, 0).items()
                            if k in ("concordance", "concordance_ratio_as_of")})
        yield {**base, "sample": n or "all", "rows": int(len(rows)), "kind": kind,
               "fit_s": round(time.perf_counter() - t, 1), **figures}
        del rows, model


def fit_only(folder: Path, seed: int = 7) -> dict:
    """Time the final fit of both chosen kinds (Cox and boosting) on a training set."""
    from churnlab.models.classify import ChurnClassifier, labelled
    from churnlab.features.engine import build_training_set
    from churnlab.models.sampling import sample_training_set
    from churnlab.settings import Settings
    from churnlab.models.survival import SurvivalModel

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
    bundle, _ = fit_models(folder, AS_OF, training_set=train, settings=Settings(seed=seed))
    out["fit_models_s"] = round(time.perf_counter() - t, 1)
    out["chosen"] = f"{bundle.chosen['survival']} + {bundle.chosen['classifier']}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 100_000])
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    parser.add_argument("--fit-only", action="store_true", help="only time fitting on each size's training set")
    parser.add_argument("--learning-curve", action="store_true",
                        help="instead, each model kind fitted on samples of 10k, 30k, 60k, 200k and all training rows, "
                             "judged against the truth (one line per sample size and kind)")
    parser.add_argument("--oracle-draws", type=int, default=ORACLE_DRAWS, help="Monte Carlo paths of the as-of oracle")
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples for the AUC standard errors")
    parser.add_argument("--bootstrap-concordance", type=int, default=50,
                        help="resamples for the concordance standard errors (about 1 s each at 100,000)")
    args = parser.parse_args()
    for n in args.sizes:
        folder = ensure_demo(args.data_root, n)
        if args.learning_curve:
            for row in learning_curve(folder, oracle_draws=args.oracle_draws, reps_auc=args.bootstrap,
                                      reps_concordance=min(args.bootstrap_concordance, 20)):
                print(json.dumps({"size": n, **{k: (round(v, 4) if isinstance(v, float) else v)
                                                for k, v in row.items()}}), flush=True)
            continue
        result = fit_only(folder) if args.fit_only else judge(
            folder, oracle_draws=args.oracle_draws, reps_auc=args.bootstrap,
            reps_concordance=args.bootstrap_concordance)
        print(json.dumps({"size": n, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()}}),
              flush=True)


if __name__ == "__main__":
    main()

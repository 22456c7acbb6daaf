"""How many Monte Carlo paths the as-of oracle needs, and what it costs.

For each demo size and each number of paths: :func:`churnlab.demo.oracle.expected_hazard` as of
2025-06-30 with several seeds, the ROC AUC of its P(churn within 3 months) against what truly
happened in the 90 days after, its concordance (cumulative hazard over 12 months against the
churns up to the end of the data), the spread (max - min) of each across the seeds, and the
seconds of one call. The benchmark of the models (``benchmarks/models.py``) uses
``ORACLE_DRAWS`` paths; the aim is a spread below 0.002.

    nice -n 10 .venv/bin/python benchmarks/oracle.py --sizes 5000 100000 --draws 100 400 --seeds 0 1 2

``--what-it-knows`` also prints where the oracle's AUC comes from (its knowledge of the episodes
begun by the as-of month, of the traits).

``--usage-limited`` prints the **usage-limited oracle**
(:func:`churnlab.demo.oracle.usage_limited_oracle`): the as-of oracle made to *infer* the
disengagement from the monthly usage counts in the data instead of knowing it; its ROC AUC and
concordance, beside the full as-of oracle's, bound what the data reveals.
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

AS_OF, DATA_END, HORIZON_DAYS = "2025-06-30", "2026-06-30", 90


def measure(folder: Path, draws: int, seeds: list[int]) -> dict:
    from churnlab.demo.oracle import expected_hazard
    from churnlab.models.metrics import concordance
    from sklearn.metrics import roc_auc_score

    truth = folder.with_name(folder.name + "-truth")
    as_of, end = pd.Timestamp(AS_OF), pd.Timestamp(DATA_END)
    true = pd.read_parquet(truth / "customers.parquet").set_index("customer_id")["true_churn_date"]
    aucs, concs, secs = [], [], []
    for seed in seeds:
        t = time.perf_counter()
        oracle = expected_hazard(truth, as_of, months=(3, 12), draws=draws, seed=seed)
        secs.append(time.perf_counter() - t)
        churn = pd.to_datetime(oracle["customer_id"].map(true))
        y = ((churn > as_of) & (churn <= as_of + pd.Timedelta(days=HORIZON_DAYS))).astype(int)
        event = ((churn > as_of) & (churn <= end)).astype(int).to_numpy()
        duration = np.where(event == 1, (churn - as_of).dt.days, (end - as_of).days)
        aucs.append(roc_auc_score(y, oracle["p_within_3m"]))
        concs.append(concordance(duration, oracle["cumulative_hazard"], event))
    return {"customers": len(oracle), "churned_90d": int(y.sum()), "draws": draws, "seeds": seeds,
            "auc": [round(a, 4) for a in aucs], "auc_spread": round(max(aucs) - min(aucs), 4),
            "concordance": [round(c, 4) for c in concs], "concordance_spread": round(max(concs) - min(concs), 4),
            "seconds": round(float(np.median(secs)), 1)}


def what_it_knows(folder: Path, draws: int = 400, seed: int = 0) -> dict:
    """Where the as-of oracle's ROC AUC comes from: the oracle with part of its knowledge taken
    away (episodes begun by the as-of month taken as none; traits taken as average), and how
    many of the 90-day churners were inside a disengagement at the as-of month."""
    import dataclasses

    from churnlab.demo.oracle import as_of_state, path_hazard
    from churnlab.demo.world import EPISODES
    from sklearn.metrics import roc_auc_score

    truth = folder.with_name(folder.name + "-truth")
    as_of = pd.Timestamp(AS_OF)
    state = as_of_state(truth, as_of, 3)
    true = pd.read_parquet(truth / "customers.parquet").set_index("customer_id")["true_churn_date"]
    churn = pd.to_datetime(pd.Series(state.customer_id).map(true))
    y = ((churn > as_of) & (churn <= as_of + pd.Timedelta(days=HORIZON_DAYS))).astype(int).to_numpy()
    rng = np.random.default_rng(seed)
    u = {kind: rng.random((1, draws, 3)) for kind in EPISODES}
    u_contact, u_accept = rng.random((1, draws, 3)), rng.random((1, draws))

    def auc(s) -> float:
        future = {kind: u[kind] < s.rates[kind][:, None, None] for kind in EPISODES}
        hazard = path_hazard(s, future, u_contact, u_accept)
        return round(roc_auc_score(y, 1 - np.cumprod(1 - hazard, axis=-1).mean(axis=1)[:, -1]), 4)

    no_episodes = dataclasses.replace(state, recent={k: np.zeros_like(v) for k, v in state.recent.items()},
                                      depth=np.zeros_like(state.depth))
    average_traits = dataclasses.replace(state, base=np.full_like(state.base, np.log(0.0035)))
    return {"auc_oracle_as_of": auc(state), "auc_without_episodes": auc(no_episodes),
            "auc_without_traits": auc(average_traits),
            "disengaged_at_as_of_churners": round(float((state.depth[y == 1] > 0).mean()), 3),
            "disengaged_at_as_of_others": round(float((state.depth[y == 0] > 0).mean()), 3)}


def usage_limited(folder: Path, draws: int = 400, seed: int = 0) -> dict:
    """The as-of oracle that must infer the disengagement from usage (``usage_limited_oracle``),
    judged as :func:`measure` judges the oracle, beside the full as-of oracle."""
    from churnlab.demo.oracle import expected_from_state, usage_limited_oracle
    from churnlab.models.metrics import concordance
    from sklearn.metrics import roc_auc_score

    truth = folder.with_name(folder.name + "-truth")
    as_of, end = pd.Timestamp(AS_OF), pd.Timestamp(DATA_END)
    t = time.perf_counter()
    inferred, state = usage_limited_oracle(folder, as_of, draws, seed)
    p_usage, cum_usage = inferred["p_within_3m"].to_numpy(), inferred["cumulative_hazard"].to_numpy()
    w0 = inferred["posterior_no_disengagement"].to_numpy()
    full = expected_from_state(state, (3, 12), draws, seed)
    true = pd.read_parquet(truth / "customers.parquet").set_index("customer_id")["true_churn_date"]
    churn = pd.to_datetime(pd.Series(state.customer_id).map(true))
    y = ((churn > as_of) & (churn <= as_of + pd.Timedelta(days=HORIZON_DAYS))).astype(int).to_numpy()
    event = ((churn > as_of) & (churn <= end)).astype(int).to_numpy()
    duration = np.where(event == 1, (churn - as_of).dt.days, (end - as_of).days)
    auc_full, auc_usage = roc_auc_score(y, full["p_within_3m"]), roc_auc_score(y, p_usage)
    c_full = concordance(duration, full["cumulative_hazard"].to_numpy(), event)
    c_usage = concordance(duration, cum_usage, event)
    disengaged = state.depth > 0
    return {"customers": len(state.customer_id), "churned_90d": int(y.sum()),
            "auc_oracle_as_of": round(auc_full, 4), "auc_usage_limited": round(auc_usage, 4),
            "auc_ratio": round(auc_usage / auc_full, 4),
            "concordance_oracle_as_of": round(c_full, 4), "concordance_usage_limited": round(c_usage, 4),
            "concordance_ratio": round(c_usage / c_full, 4),
            "posterior_disengaged_if_disengaged": round(float(1 - w0[disengaged].mean()), 3),
            "posterior_disengaged_if_not": round(float(1 - w0[~disengaged].mean()), 3),
            "seconds": round(time.perf_counter() - t, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 100_000])
    parser.add_argument("--draws", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    parser.add_argument("--what-it-knows", action="store_true",
                        help="also the oracle's AUC without its episode or trait knowledge")
    parser.add_argument("--usage-limited", action="store_true",
                        help="only the oracle that must infer the disengagement from usage counts (draws: the first of --draws)")
    args = parser.parse_args()
    for n in args.sizes:
        folder = ensure_demo(args.data_root, n)
        if args.usage_limited:
            print(json.dumps({"size": n, "draws": args.draws[0], **usage_limited(folder, args.draws[0])}), flush=True)
            continue
        if args.what_it_knows:
            print(json.dumps({"size": n, **what_it_knows(folder)}), flush=True)
        for draws in args.draws:
            print(json.dumps({"size": n, **measure(folder, draws, args.seeds)}), flush=True)


if __name__ == "__main__":
    main()

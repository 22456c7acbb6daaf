"""What each at-risk threshold means on the backtest: customers flagged, precision, lift, recall.

Fits the models of a run (:func:`churnlab.fit_models`, default settings) on each data source and
judges the usual ``zones.risk_threshold`` choices (:data:`churnlab.decide.zones.THRESHOLD_CHOICES`)
on the chosen classifier's out-of-time backtest predictions (:func:`churnlab.decide.zones.threshold_choices`):

    .venv/bin/python benchmarks/at_risk.py                       # the demo, 5 worlds (seeds 1-5)
    .venv/bin/python benchmarks/at_risk.py --telco ../shared/data/real/telco-customer-churn.csv

The default threshold is chosen from these figures (README, "Zones").
"""
from __future__ import annotations

import argparse
from pathlib import Path

import sys

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_folders import ensure_demo  # noqa: E402


def table_for(data, as_of: str, settings) -> pd.DataFrame:
    from churnlab import fit_models, load_data
    from churnlab.decide.zones import threshold_choices

    dataset = load_data(data, as_of=as_of, mapping=settings.mapping)
    bundle, result = fit_models(dataset, as_of, settings=settings)
    preds = result.predictions[result.predictions["model"] == bundle.chosen["classifier"]]
    return threshold_choices(preds, settings=settings)


def main() -> None:
    from churnlab.settings import Settings, load_mapping

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    parser.add_argument("--telco", type=Path, default=None, help="the IBM Telco CSV (read with --mapping telco)")
    args = parser.parse_args()
    pd.set_option("display.width", 140)
    tables = []
    if args.telco:
        settings = Settings(mapping=load_mapping("telco"))
        t = table_for(args.telco, "2026-06-30", settings)
        tables.append(t.assign(data="telco"))
    for seed in args.seeds:
        folder = ensure_demo(args.data_root, args.customers, seed)
        t = table_for(folder, "2026-06-30", Settings())
        tables.append(t.assign(data=f"demo seed {seed}"))
    out = pd.concat(tables, ignore_index=True)
    cols = ["data", "risk_threshold", "at_risk_share", "threshold", "precision", "base_rate", "lift", "recall"]
    print(out[cols].round(3).to_string(index=False))
    print("\nmean over the sources:")
    print(out.groupby("risk_threshold", sort=False)[cols[2:]].mean().round(3).to_string())


if __name__ == "__main__":
    main()

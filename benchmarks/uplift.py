"""Do the intervals of the uplift by action and segment hold the demo world's true uplift?

For each demo size the benchmark estimates :func:`churnlab.decide.uplift.action_rates` from the
demo's interventions and customers (as of the data's last day) and compares every action x
segment cell with at least ``--min-actions`` contacted customers of a campaign with a hold-out
against the truth: the mean over that segment's judged trial rows (every arm) of
p_stay_<action> - p_stay_none from the truth folder's ``interventions.parquet``. Coverage is
the share of such cells whose interval holds the truth (issue 21 asks for at least 90% at 95%).

    .venv/bin/python benchmarks/uplift.py --sizes 5000 100000

Prints one JSON object per size: cells judged, cells covered, coverage, and the cells.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_folders import ensure_demo  # noqa: E402

DATA_END = "2026-06-30"


def coverage(folder: Path, min_actions: int = 30, by: str | None = None) -> dict:
    """The estimated cells of ``folder`` against the truth of ``folder``-truth (see the module)."""
    from churnlab.decide.uplift import action_rates, judged_actions
    from churnlab.decide.saveability import ALL_SEGMENTS

    customers = pd.read_parquet(folder / "customers.parquet")
    interventions = pd.read_parquet(folder / "interventions.parquet")
    truth = pd.read_parquet(folder.with_name(folder.name + "-truth") / "interventions.parquet")
    rates = action_rates(interventions, customers, DATA_END, by)
    judged = judged_actions(interventions, customers, DATA_END, by)
    trial = judged[judged["controlled"]].merge(
        truth.drop(columns="action"), on=["customer_id", "ts"], how="left", validate="many_to_one")
    if trial["p_stay_none"].isna().any():
        raise ValueError(f"{folder}: {int(trial['p_stay_none'].isna().sum())} trial rows have no truth row")
    cells = []
    for _, row in rates[(rates["segment"] != ALL_SEGMENTS) & (rates["contacted"] >= min_actions)
                        & rates["uplift"].notna()].iterrows():
        part = trial[trial["segment"] == row["segment"]]
        true = float((part[f"p_stay_{row['action']}"] - part["p_stay_none"]).mean())
        cells.append({"action": row["action"], "segment": row["segment"], "contacted": int(row["contacted"]),
                      "held_out": int(row["held_out"]), "true": round(true, 4), "estimate": round(row["uplift"], 4),
                      "low": round(row["uplift_low"], 4), "high": round(row["uplift_high"], 4),
                      "covered": bool(row["uplift_low"] <= true <= row["uplift_high"])})
    covered = sum(c["covered"] for c in cells)
    return {"cells": len(cells), "covered": covered, "coverage": round(covered / len(cells), 3) if cells else None,
            "by": str(rates["segment_by"].iloc[0]), "table": cells}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-actions", type=int, default=30)
    parser.add_argument("--by", default=None, help="segment column (default: as save_rates picks)")
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    args = parser.parse_args()
    for n in args.sizes:
        folder = ensure_demo(args.data_root, n, args.seed)
        print(json.dumps({"customers": n, "seed": args.seed, **coverage(folder, args.min_actions, args.by)},
                         indent=1), flush=True)


if __name__ == "__main__":
    main()

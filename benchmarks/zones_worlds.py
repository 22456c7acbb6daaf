"""The rescue list over five demo worlds: expected value saved against ARR, churn probability and
the best list the data allows (``benchmarks/zones.py --bounds`` per world, then the table).

    .venv/bin/python benchmarks/zones_worlds.py [--customers 5000] [--seeds 1 2 3 4 5]

Targets (issue 18), on average over the worlds: >= 1.0x the top 5% by ARR, >= 1.2x the top 5%
by churn probability, >= 0.85x the data bound.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_folders import ensure_demo  # noqa: E402
from zones import decide, judge, zone_overrides  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    parser.add_argument("--zones", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="settings.zones fields to change, e.g. watch_ratio=0")
    args = parser.parse_args()
    zones = zone_overrides(args.zones)
    rows = []
    for seed in args.seeds:
        folder = ensure_demo(args.data_root, args.customers, seed)
        table, _ = decide(folder, None, zones=zones)
        out = judge(table, folder.with_name(folder.name + "-truth"), n_boot=0, bounds_of=folder)
        rows.append({"seed": seed, "active": out["active"], "budget": out["budget"],
                     "rescue_candidates": out["rescue_candidates"], "red_zone": out["red_zone"],
                     "vs_arr": out["expected_ratio_red_vs_arr"],
                     "vs_churn_probability": out["expected_ratio_red_vs_churn_probability"],
                     "vs_data_bound": out["expected_ratio_red_vs_data_bound"],
                     "no_gate_vs_data_bound": round(out["expected_ratio_no_gate_vs_arr"]
                                                    / out["expected_ratio_data_bound_vs_arr"], 3),
                     "realised_vs_arr": round(out["ratio_red_vs_arr"], 3),
                     "realised_vs_churn_probability": round(out["ratio_red_vs_churn_probability"], 3)})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    mean = table.drop(columns="seed").mean(numeric_only=True).round(3)
    print(f"\n{args.customers:,} customers, expected value saved under the truth, budget 5% of active:")
    print(table.to_string(index=False))
    print("mean:", mean[["vs_arr", "vs_churn_probability", "vs_data_bound", "no_gate_vs_data_bound"]].to_dict())
    print("targets (mean): vs_arr >= 1.0, vs_churn_probability >= 1.2, vs_data_bound >= 0.85 ->",
          bool(mean["vs_arr"] >= 1.0 and mean["vs_churn_probability"] >= 1.2 and mean["vs_data_bound"] >= 0.85))


if __name__ == "__main__":
    main()

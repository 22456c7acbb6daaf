"""How long the starter rules and the segments take on many customers.

Builds the demo's features at its last day and a month earlier (``data/demo`` unless ``--data``),
repeats their rows with new customer ids up to each size, and times
:func:`churnlab.evaluate_rules` with and without the previous frame and
:func:`churnlab.assign_segments`. ``--memory`` runs each step once more under tracemalloc and
prints its peak allocation (tracing slows the step several-fold, so the times come from the
untraced run).

    .venv/bin/python benchmarks/rules.py --sizes 100000 1000000 [--data data/demo] [--memory]
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

AS_OF, PREVIOUS = "2026-06-30", "2026-05-31"


def repeat(frame: pd.DataFrame, size: int) -> pd.DataFrame:
    """``size`` rows cycling through ``frame``, with distinct customer ids."""
    out = frame.iloc[np.arange(size) % len(frame)].reset_index(drop=True)
    out["customer_id"] = [f"B-{i:08d}" for i in range(size)]
    return out


def timed(fn, *args, memory: bool = False, **kwargs) -> str:
    start = time.perf_counter()
    fn(*args, **kwargs)
    text = f"{time.perf_counter() - start:.2f} s"
    if memory:
        tracemalloc.start()
        fn(*args, **kwargs)
        text += f" ({tracemalloc.get_traced_memory()[1] / 1e9:.2f} GB)"
        tracemalloc.stop()
    return text


def main() -> None:
    import churnlab

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data", default="data/demo")
    parser.add_argument("--memory", action="store_true", help="also the peak allocation of each step")
    args = parser.parse_args()

    data = churnlab.load_data(args.data, as_of=AS_OF)
    now, before = churnlab.build_features(data, AS_OF), churnlab.build_features(data, PREVIOUS)
    rules = churnlab.load_rules()
    settings = churnlab.load_settings()
    rng = np.random.default_rng(7)
    print(f"{len(rules.rules)} rules, {len(rules.alerts)} alerts; demo features: {len(now):,} customers")
    print("| customers | rules, previous run | rules, windows only | segments |")
    print("|---|---|---|---|")
    for size in args.sizes:
        cur, prev = repeat(now, size), repeat(before, size)
        cur["churn_probability"] = rng.uniform(0, 0.6, size)
        with_prev = timed(churnlab.evaluate_rules, rules, cur, previous=prev, memory=args.memory)
        windows = timed(churnlab.evaluate_rules, rules, cur, memory=args.memory)
        segments = timed(churnlab.assign_segments, cur, settings, memory=args.memory)
        print(f"| {size:,} | {with_prev} | {windows} | {segments} |", flush=True)


if __name__ == "__main__":
    main()

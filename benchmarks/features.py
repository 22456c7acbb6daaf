"""Time and peak memory of the feature engine against the floor of one scan of the event log.

For each demo size (generated first when missing), in fresh subprocesses so each peak RSS is
its own, with the median of ``--repeat`` runs:

(a) ``build_features`` at one as-of date, straight from the Parquet folder;
(b) ``build_training_set`` over 12 monthly snapshots;
(c) the floor: one DuckDB scan of ``usage_events`` counting rows per customer;

and, with ``--jobs read_floor ...``, one scan that reduces every column the usage features read
(customer_id, ts, quantity, event_type, user_id) once per customer: the least any engine must do
to compute them, which says how much of the distance to the count floor is reading columns;
``month_floor`` reduces the same columns per customer and calendar month, the least a single pass
serving twelve monthly snapshots must do before it adds their windows up.

    .venv/bin/python benchmarks/features.py --sizes 100000 1000000 [--data-root /tmp/bench]

Targets at 1,000,000 customers: (a) within 4x the floor, (b) within 12x, peak memory < 8 GB.

Besides wall time it prints CPU time (user + system, all of DuckDB's threads included) and the
load average at the start: on a shared machine the wall time of a heavy job stretches with the
other work while the light floor scan barely does, and the CPU time shows the work itself.
Each scan hands its result over as an Arrow table (as the engine's own results are), not as
Python tuples, which would time the tuples.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling helpers, also when loaded by path
from demo_folders import ensure_demo  # noqa: E402

AS_OF = "2026-06-30"

_CHILD = r"""
import json, resource, sys, time
import duckdb
from churnlab.features.engine import build_features, build_training_set
job, folder, as_of = sys.argv[1:4]
t = time.perf_counter()
r0 = resource.getrusage(resource.RUSAGE_SELF)
# the floor reads customer_id alone; read_floor reduces every column the usage features read
# once per customer, what any engine must at least do to compute them; month_floor reduces them
# per customer and calendar month, the least a one-pass engine must do before it can add monthly
# snapshots' windows up (it still has the adding to do)
events = f"read_parquet('{folder}/usage_events.parquet')"
usage_columns = "count(*), max(ts), sum(quantity), max(event_type), max(user_id)"
scans = {
    "floor": f"SELECT customer_id, count(*) FROM {events} GROUP BY 1",
    "read_floor": f"SELECT customer_id, {usage_columns} FROM {events} GROUP BY 1",
    "month_floor": f"SELECT customer_id, date_trunc('month', ts) AS month, {usage_columns} FROM {events} "
                   f"WHERE ts < TIMESTAMP '{as_of}' + INTERVAL 1 DAY GROUP BY 1, 2",
}
if job in scans:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rows = len(con.execute(scans[job]).to_arrow_table())
elif job == "features":
    rows = len(build_features(folder, as_of))
else:
    rows = len(build_training_set(folder, as_of, snapshots=12))
seconds = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
peak = r1.ru_maxrss / 1024 / 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "peak_gb": peak}))
"""


def run(job: str, folder: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, job, str(folder), AS_OF],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{job} on {folder} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", nargs="+", default=["floor", "features", "training_set"],
                        choices=["floor", "read_floor", "month_floor", "features", "training_set"],
                        help="which measurements (floor is always run; read_floor: one scan reducing every "
                             "column the usage features read, the floor of any engine computing them; "
                             "month_floor: the same per customer and month, the floor of one pass "
                             "serving monthly snapshots)")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'customers':>10} {'job':<22} {'median s':>9} {'x floor':>8} {'cpu s':>7} {'peak GB':>8} {'rows':>11}")
    for n in args.sizes:
        folder = ensure_demo(args.data_root, n)
        results = {}
        for job in ["floor"] + [j for j in args.jobs if j != "floor"]:
            runs = [run(job, folder) for _ in range(args.repeat)]
            results[job] = {"seconds": statistics.median(r["seconds"] for r in runs),
                            "cpu": statistics.median(r["cpu"] for r in runs),
                            "peak_gb": max(r["peak_gb"] for r in runs), "rows": runs[0]["rows"]}
        floor = results["floor"]["seconds"]
        labels = {"floor": "(c) floor: count scan", "read_floor": "    all usage columns",
                  "month_floor": "    ... per month",
                  "features": "(a) features, 1 date",
                  "training_set": "(b) training set, 12"}
        for job, r in results.items():
            print(f"{n:>10,} {labels[job]:<22} {r['seconds']:>9.2f} {r['seconds'] / floor:>8.1f} "
                  f"{r['cpu']:>7.1f} {r['peak_gb']:>8.2f} {r['rows']:>11,}", flush=True)


if __name__ == "__main__":
    main()

"""Time and peak memory of `churnlab demo-data` at several sizes.

Each size runs in a fresh subprocess so its peak resident memory is its own.

    .venv/bin/python benchmarks/demo_data.py --sizes 100000 1000000

Prints one row per size: customers, usage rows, rows per customer, wall seconds, peak RSS (GB).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import json, sys
from churnlab.demo.simulation import generate_demo_data
s = generate_demo_data(sys.argv[1], customers=int(sys.argv[2]), seed=7)
print(json.dumps({"rows": s.rows}))
"""


def measure(customers: int, workdir: Path) -> dict:
    out = workdir / f"demo-{customers}"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(out), str(customers)],
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over children so far
    rows = json.loads(proc.stdout.strip().splitlines()[-1])["rows"]
    return {"customers": customers, "usage_rows": rows["usage_events"], "seconds": seconds,
            "peak_gb": peak_kb / 1024 / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (default: a temp dir)")
    args = parser.parse_args()
    # ascending sizes so RUSAGE_CHILDREN's running maximum is the current child's peak
    sizes = sorted(args.sizes)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        print(f"{'customers':>10} {'usage rows':>12} {'rows/cust':>9} {'seconds':>8} {'peak GB':>8}")
        for n in sizes:
            r = measure(n, workdir)
            print(f"{r['customers']:>10,} {r['usage_rows']:>12,} {r['usage_rows'] / n:>9.1f} "
                  f"{r['seconds']:>8.1f} {r['peak_gb']:>8.2f}", flush=True)


if __name__ == "__main__":
    main()

"""Wall time and peak memory of a whole ``churnlab run`` at several demo sizes.

For each size (demo generated first when missing, seed 7), runs the installed command

    churnlab run --data data/bench/demo-<N> --as-of 2026-06-30 --out <tmp>

in a fresh process and samples the resident memory of its whole process tree (the run and the
notebook kernels papermill starts) every 0.2 s: ``peak_tree_gb`` is the largest sum seen,
``peak_process_gb`` the largest single process. Per-step seconds come from the run's
``manifest.json``.

    .venv/bin/python benchmarks/run.py --sizes 5000 100000 1000000

Targets (issue 6): 5,000 within 60 s, 100,000 within 3 minutes, 1,000,000 within 15 minutes
and 16 GB.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling helpers, also when loaded by path
from demo_folders import ensure_demo  # noqa: E402

AS_OF = "2026-06-30"
TARGETS = {5000: (60, None), 100_000: (180, None), 1_000_000: (900, 16.0)}



def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    total = biggest = 0
    try:
        members = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0, 0
    for p in members:
        try:
            rss = p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
        total += rss
        biggest = max(biggest, rss)
    return total, biggest


def measure(folder: Path, config: Path | None) -> dict:
    churnlab = Path(sys.executable).with_name("churnlab")
    out = Path(tempfile.mkdtemp(prefix="churnlab-bench-"))
    cmd = [str(churnlab), "run", "--data", str(folder), "--as-of", AS_OF, "--out", str(out)]
    if config:
        cmd += ["--config", str(config)]
    started = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_tree = peak_one = 0
    while proc.poll() is None:
        tree, one = _tree_rss(proc)
        peak_tree, peak_one = max(peak_tree, tree), max(peak_one, one)
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    _, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"churnlab run on {folder} failed:\n{err[-3000:]}")
    manifest = json.loads((out / AS_OF / "manifest.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "peak_tree_gb": peak_tree / 2**30, "peak_process_gb": peak_one / 2**30,
            "steps": manifest["steps_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 100_000, 1_000_000])
    parser.add_argument("--data-root", type=Path, default=Path("data/bench"))
    parser.add_argument("--config", type=Path, default=None, help="settings YAML passed to churnlab run")
    args = parser.parse_args()
    print(f"{'customers':>10} {'wall s':>8} {'target s':>9} {'peak GB (tree)':>15} {'peak GB (1 proc)':>17}")
    for n in args.sizes:
        r = measure(ensure_demo(args.data_root, n), args.config)
        limit_s, limit_gb = TARGETS.get(n, (None, None))
        ok = (limit_s is None or r["seconds"] <= limit_s) and (limit_gb is None or r["peak_tree_gb"] <= limit_gb)
        print(f"{n:>10,} {r['seconds']:>8.1f} {limit_s or '-':>9} {r['peak_tree_gb']:>15.2f} "
              f"{r['peak_process_gb']:>17.2f}  {'meets target' if ok else 'MISSES target'}", flush=True)
        slowest = sorted(r["steps"].items(), key=lambda kv: -kv[1])[:5]
        print("           slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest), flush=True)


if __name__ == "__main__":
    main()

"""Time of `load_data` from a database URL against the same demo tables read from Parquet.

For each size: generate the demo (or reuse --data), copy it into a throwaway PostgreSQL server
(tests/postgres_server.py, loopback), a DuckDB file and a SQLite file, then time `load_data`
(read, validate, point-in-time cut) from each source, and as the floor one raw
`COPY usage_events TO STDOUT` from PostgreSQL (the transfer alone, nothing parsed).

    .venv/bin/python benchmarks/sql.py --sizes 5000 100000
    .venv/bin/python benchmarks/sql.py --data data/demo --skip sqlite

Prints one row per source and size: customers, rows read, seconds (best of --repeat).
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.postgres_server

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from churnlab.data.loading import load_data  # noqa: E402
from tests.postgres_server import PostgresServer, load_tables  # noqa: E402

AS_OF = "2026-06-30"


def _best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def _copy_floor(url: str) -> int:
    import psycopg

    size = 0
    with psycopg.connect(url) as con, con.cursor().copy("COPY usage_events TO STDOUT") as copy:
        for chunk in copy:
            size += len(chunk)
    return size


def measure(folder: Path, workdir: Path, repeat: int, skip: set[str]) -> list[tuple[str, float, int]]:
    rows = []
    frames = {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
    sources = {"parquet": str(folder)}
    if "duckdb" not in skip:
        path = workdir / "demo.duckdb"
        path.unlink(missing_ok=True)
        with duckdb.connect(str(path)) as con:
            for name, frame in frames.items():
                con.register("frame", frame)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
                con.unregister("frame")
        sources["duckdb"] = f"duckdb:///{path}"
    if "sqlite" not in skip:
        path = workdir / "demo.db"
        path.unlink(missing_ok=True)
        with sqlite3.connect(path) as con:
            for name, frame in frames.items():
                frame.to_sql(name, con, index=False)
        sources["sqlite"] = f"sqlite:///{path}"
    server = None
    try:
        if "postgresql" not in skip:
            server = PostgresServer().start()
            started = time.perf_counter()
            load_tables(server.url, folder)
            print(f"  (loading PostgreSQL with COPY took {time.perf_counter() - started:.1f} s)", flush=True)
            sources["postgresql"] = server.url
            seconds, size = _best(lambda: _copy_floor(server.url), repeat)
            rows.append(("floor: COPY usage_events", seconds, len(frames["usage_events"])))
        for name, url in sources.items():
            seconds, dataset = _best(lambda url=url: load_data(url, as_of=AS_OF), repeat)
            rows.append((name, seconds, sum(len(f) for f in dataset.tables.values())))
    finally:
        if server is not None:
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000])
    parser.add_argument("--data", type=Path, default=None, help="an existing demo folder instead of --sizes")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip", nargs="*", default=[], choices=["duckdb", "sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.data:
            folders = [(len(pd.read_parquet(args.data / "customers.parquet")), args.data)]
        else:
            from churnlab.demo.simulation import generate_demo_data

            folders = []
            for n in sorted(args.sizes):
                generate_demo_data(workdir / f"demo-{n}", customers=n, seed=7)
                folders.append((n, workdir / f"demo-{n}"))
        print(f"{'customers':>10} {'source':<26} {'rows':>12} {'seconds':>8}")
        for customers, folder in folders:
            for name, seconds, rows in measure(folder, workdir, args.repeat, set(args.skip)):
                print(f"{customers:>10,} {name:<26} {rows:>12,} {seconds:>8.2f}", flush=True)


if __name__ == "__main__":
    main()

"""The demo folders the benchmarks run on, generated once and reused.

A folder counts as complete only when its truth README exists: the generator writes it last,
so a generation cut off half-way is made again instead of being measured.
"""
from __future__ import annotations

from pathlib import Path


def ensure_demo(root: Path, customers: int, seed: int = 7) -> Path:
    """``root/demo-<customers>`` (``-seed<seed>`` when not 7), generated first when incomplete."""
    folder = Path(root) / (f"demo-{customers}" if seed == 7 else f"demo-{customers}-seed{seed}")
    if not (folder.with_name(folder.name + "-truth") / "README.md").exists():
        from churnlab.demo.simulation import generate_demo_data

        print(f"generating {customers:,} demo customers (seed {seed}) into {folder} ...", flush=True)
        generate_demo_data(folder, customers=customers, seed=seed)
    return folder

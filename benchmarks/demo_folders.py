"""The demo folders the benchmarks run on, generated once and reused.

A folder counts as complete only when its truth README exists: the generator writes it last,
so a generation cut off half-way is made again instead of being measured. It counts as current
only when it was made by the simulator as it is now: a fingerprint of ``churnlab/demo``'s source
is kept beside the truth (``simulator.sha256``), and a folder made by another version of the
simulator is made again rather than measured as if it were this world.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import churnlab.demo

FINGERPRINT = "simulator.sha256"


def simulator_fingerprint() -> str:
    """SHA-256 over the source of every module of ``churnlab.demo``, in name order."""
    digest = hashlib.sha256()
    for path in sorted(Path(churnlab.demo.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_demo(root: Path, customers: int, seed: int = 7) -> Path:
    """``root/demo-<customers>`` (``-seed<seed>`` when not 7), generated first when incomplete or
    made by another version of the simulator."""
    folder = Path(root) / (f"demo-{customers}" if seed == 7 else f"demo-{customers}-seed{seed}")
    truth = folder.with_name(folder.name + "-truth")
    stamp, current = truth / FINGERPRINT, simulator_fingerprint()
    if not (truth / "README.md").exists() or not stamp.exists() or stamp.read_text().strip() != current:
        from churnlab.demo.simulation import generate_demo_data

        print(f"generating {customers:,} demo customers (seed {seed}) into {folder} ...", flush=True)
        generate_demo_data(folder, customers=customers, seed=seed)
        stamp.write_text(current + "\n")
    return folder

"""Shared fixtures: a small demo customer base, generated once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

SMALL_CUSTOMERS = 400
SMALL_SEED = 11


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> Path:
    """A 400-customer demo folder (its truth lies beside it as ``<folder>-truth``)."""
    from churnlab.demo import generate_demo_data

    out = tmp_path_factory.mktemp("demo") / "tables"
    generate_demo_data(out, customers=SMALL_CUSTOMERS, seed=SMALL_SEED)
    return out

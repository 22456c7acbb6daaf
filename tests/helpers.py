"""Plain helpers shared by several test modules (fixtures live in ``conftest.py``)."""
from __future__ import annotations

import pandas as pd


def assert_same_dataset(a, b) -> None:
    """``a`` and ``b`` are the same validated dataset: the same tables in the same order with
    equal contents and dtypes, the same quarantined and missing rows, the same accounting of
    every input row and warnings, source, fingerprint and as-of date."""
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_dtype=True)
    pd.testing.assert_frame_equal(a.quarantine, b.quarantine)
    pd.testing.assert_frame_equal(a.missing, b.missing)
    pd.testing.assert_frame_equal(a.accounting, b.accounting)
    assert a.warnings == b.warnings
    assert (a.source, a.fingerprint, a.as_of) == (b.source, b.fingerprint, b.as_of)

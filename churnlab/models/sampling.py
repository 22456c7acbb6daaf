"""Sampling large training sets without biasing the models fitted on them.

A million customers over twelve snapshots is twelve million rows, almost all of them customers
who did not churn. :func:`sample_training_set` keeps every churner row and a random share of the
others, and writes ``sample_weight`` = 1 / (the share kept) so that weighted sums — the
likelihoods of the models, hence their probabilities — estimate the same thing as on the full set.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["sample_training_set"]


def sample_training_set(train: pd.DataFrame, max_rows: int, seed: int = 0,
                        event_col: str = "event", where: np.ndarray | None = None) -> pd.DataFrame:
    """At most about ``max_rows`` rows of ``train``, weighted to stand for all of them.

    Churner rows (``event_col`` == 1) are all kept while they fill at most half of
    ``max_rows``; past that they are sampled too. Non-churners fill the rest. Each kept row gets
    ``sample_weight`` = (rows of its class) / (kept rows of its class); an existing
    ``sample_weight`` is multiplied. ``train`` itself is returned (with weights 1) when it is
    small enough. Row order is kept, so the result is deterministic for a given ``seed``.
    ``where``: a boolean mask of the rows to sample from, as ``sample_training_set(train[where],
    ...)`` gives but without copying the rows left out (a million customers' training set is
    several GB).
    """
    if max_rows <= 0:
        raise ValueError(f"max_rows must be positive, got {max_rows}")
    if where is not None:
        where = np.asarray(where, dtype=bool)
        if len(where) != len(train):
            raise ValueError(f"where has {len(where)} values for {len(train)} rows")
    rows = np.arange(len(train)) if where is None else np.flatnonzero(where)
    if len(rows) <= max_rows:
        out = train.copy() if where is None else train.loc[where].copy()
        out["sample_weight"] = (out["sample_weight"].to_numpy(dtype="float64") if "sample_weight" in out
                                else np.ones(len(out)))
        return out
    # decided on the event column alone, then only the kept rows are copied
    kept, weight = _pick(train[event_col].to_numpy()[rows] == 1, max_rows, seed)
    out = train.iloc[rows[kept]].copy()
    base = out["sample_weight"].to_numpy(dtype="float64") if "sample_weight" in out else 1.0
    out["sample_weight"] = base * weight
    return out


def _pick(is_event: np.ndarray, max_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions kept (ascending) and their weights: churners while they fill at most half of
    ``max_rows``, a uniform share of the others, each weighted by its class's rows per kept row."""
    rng = np.random.default_rng(seed)
    n_event = int(is_event.sum())
    keep_event = min(n_event, max_rows // 2)
    keep_other = max_rows - keep_event
    keep = np.zeros(len(is_event), dtype=bool)
    weight = np.ones(len(is_event))
    for mask, k in ((is_event, keep_event), (~is_event, keep_other)):
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            continue
        chosen = idx if k >= len(idx) else np.sort(rng.choice(idx, size=k, replace=False))
        keep[chosen] = True
        weight[chosen] = len(idx) / len(chosen)
    kept = np.flatnonzero(keep)
    return kept, weight[kept]

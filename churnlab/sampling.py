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
        if int(where.sum()) > max_rows:
            rows = np.flatnonzero(where)
            picked = sample_training_set(train[[event_col]].iloc[rows].assign(_row=rows), max_rows, seed, event_col)
            out = train.iloc[picked["_row"].to_numpy()].copy()
            base = out["sample_weight"].to_numpy(dtype="float64") if "sample_weight" in out else 1.0
            out["sample_weight"] = base * picked["sample_weight"].to_numpy()
            return out
        train = train.loc[where]
    out = train.copy()
    base = out["sample_weight"].to_numpy(dtype="float64") if "sample_weight" in out else np.ones(len(out))
    if len(out) <= max_rows:
        out["sample_weight"] = base
        return out
    rng = np.random.default_rng(seed)
    is_event = out[event_col].to_numpy() == 1
    n_event = int(is_event.sum())
    keep_event = min(n_event, max_rows // 2)
    keep_other = max_rows - keep_event
    keep = np.zeros(len(out), dtype=bool)
    weight = np.ones(len(out))
    for mask, k in ((is_event, keep_event), (~is_event, keep_other)):
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            continue
        chosen = idx if k >= len(idx) else np.sort(rng.choice(idx, size=k, replace=False))
        keep[chosen] = True
        weight[chosen] = len(idx) / len(chosen)
    out["sample_weight"] = base * weight
    return out.loc[keep].copy()

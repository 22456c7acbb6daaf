"""Usage-window features for many snapshots from one pass over the event log.

Joining every event to each snapshot whose window holds it copies the log about six times for
monthly snapshots and 180-day windows. Instead, the days are cut at every window boundary of
every snapshot; DuckDB reduces the log once to per-(customer, bucket) counts, quantities and
last days, and per-(customer, user) and per-(customer, event type) bitmasks of the buckets
they were active in. A window is then a range of whole buckets: sums come from cumulative sums
and distinct counts from a bitwise AND with the window's mask, in NumPy, for every snapshot.

The result is exact (not an approximation): bucket edges are exactly the window edges.

Every window is the catalogue's ``window_days`` (read when the features are computed). Two-span
features take theirs as the whole span: ``events_prior_30d`` (60) is the part of it before
``events_30d``'s window, ``usage_change_60d_pct`` (120) compares its last half with its first,
``usage_trend_30d`` is computed over ``events_prior_30d``'s window and ``*_change_30d`` over
theirs with the ``*_30d`` window as the recent part.

Layout, for speed at a million customers: the per-bucket matrices are bucket-major (one
contiguous row of customers per bucket), so a window of one snapshot is the difference of two
contiguous rows; the population is sorted by snapshot then customer, so each snapshot's rows
are one slice and its customers are read in increasing order.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from churnlab.features.catalogue import USAGE_WINDOWS, window as _catalogue_window

__all__ = ["usage_window_features"]

_EPOCH = np.datetime64("1970-01-01", "D")
#: snapshots per pass: keeps the 60-day masks within 63 bits and the dense matrices small
_GROUP = 12


def usage_window_features(con: duckdb.DuckDBPyConnection, n_customers: int, snap_days: np.ndarray,
                          i: np.ndarray, j: np.ndarray) -> dict[str, np.ndarray]:
    """Usage features of every population row (customer index ``i``, snapshot index ``j``).

    ``con`` must hold ``usage_events`` and ``cidx(customer_id, i)``; ``snap_days[j]`` is
    snapshot j's date as days since 1970-01-01; the rows are sorted by ``j`` then ``i``.
    Returns one float64 array per usage feature of the catalogue, aligned with the rows;
    NaN where the catalogue's fill applies (and for a change over a window without use).
    """
    out: dict[str, np.ndarray] = {}
    starts = np.searchsorted(j, np.arange(len(snap_days) + 1))   # rows of snapshot s: starts[s]:starts[s+1]
    for first in range(0, len(snap_days), _GROUP):
        group = np.arange(first, min(first + _GROUP, len(snap_days)))
        _group_features(con, n_customers, snap_days[group], i, starts[group[0]:group[-1] + 2], out)
    return out


def _windows() -> dict[str, int]:
    """The look-backs, in days, from the catalogue."""
    counts = {f"events_{w}d": _catalogue_window(f"events_{w}d") for w in USAGE_WINDOWS}
    counts |= {f"quantity_{w}d": _catalogue_window(f"quantity_{w}d") for w in USAGE_WINDOWS}
    prior = _catalogue_window("events_prior_30d")
    if _catalogue_window("usage_trend_30d") != prior:
        raise ValueError("usage_trend_30d compares events_30d with events_prior_30d: their catalogue windows "
                         "must agree")
    change = _catalogue_window("usage_change_60d_pct")
    if change % 2:
        raise ValueError("usage_change_60d_pct compares two halves of its window: it must be even")
    return {**counts, "prior": prior, "prior_end": _catalogue_window("events_30d"), "change": change,
            "last_use": _catalogue_window("days_since_last_use"),
            **{f"{name}{part}": _catalogue_window(f"{name}{part}") for name in ("event_types", "active_users")
               for part in ("_30d", "_change_30d")}}


def _group_features(con, C: int, days: np.ndarray, i: np.ndarray, starts: np.ndarray,
                    out: dict[str, np.ndarray]) -> None:
    """Fill ``out`` for the rows of the snapshots on ``days`` (rows ``starts[s]:starts[s+1]``)."""
    ends = days + 1                                   # exclusive end day of each snapshot
    win = _windows()
    # count/quantity windows, plus the edges of the prior spans that trends need
    edges = sorted({*(win[f"{k}_{w}d"] for k in ("events", "quantity") for w in USAGE_WINDOWS),
                    win["prior"], win["prior_end"], win["change"], win["change"] // 2})
    rows = [slice(starts[s], starts[s + 1]) for s in range(len(days))]

    def column(name: str) -> np.ndarray:
        if name not in out:
            out[name] = np.full(len(i), np.nan)
        return out[name]

    # -- counts, quantities, last use: buckets cut at every window edge --------------------------
    cuts = np.unique(np.concatenate([ends] + [ends - w for w in edges]))
    B = len(cuts) - 1
    day = np.arange(cuts[0], cuts[-1], dtype=np.int32)
    bucket = (np.searchsorted(cuts, day, side="right") - 1).astype(np.int32)
    con.register("usage_cal", pd.DataFrame({"d": day, "b": bucket}))
    agg = con.execute(f"""
        WITH e AS (
            SELECT x.i, CAST(date_diff('day', TIMESTAMP '1970-01-01', u.ts) AS INTEGER) AS d, u.quantity
            FROM usage_events u JOIN cidx x USING (customer_id)
            WHERE u.ts >= TIMESTAMP '{_day_str(cuts[0])}' AND u.ts < TIMESTAMP '{_day_str(cuts[-1])}'
        )
        SELECT e.i, c.b, count(*) AS n, sum(e.quantity) AS q, max(e.d) AS last_d
        FROM e JOIN usage_cal c USING (d) GROUP BY 1, 2""").fetchnumpy()
    con.unregister("usage_cal")
    # bucket-major, with a leading row of zeros: cum[k] sums buckets before k. The (i, b) pairs
    # are unique, so plain assignment fills them; counts are exact in int32 at half the memory.
    flat = (agg.pop("b").astype(np.int64) + 1) * C + agg.pop("i").astype(np.int64)
    size = (B + 1) * C
    cum_n = np.zeros(size, dtype=np.int32)
    cum_n[flat] = agg.pop("n")
    cum_q = np.zeros(size, dtype=np.float64)
    cum_q[flat] = np.nan_to_num(agg.pop("q").astype(np.float64))
    last = np.full(size, -1, dtype=np.int32)
    last[flat] = agg.pop("last_d")
    del agg, flat
    cum_n, cum_q, last = (a.reshape(B + 1, C) for a in (cum_n, cum_q, last))
    np.cumsum(cum_n, axis=0, out=cum_n)
    np.cumsum(cum_q, axis=0, out=cum_q)
    np.maximum.accumulate(last, axis=0, out=last)     # last day up to each bucket

    def edge(s: int, days_back: int) -> int:
        return int(np.searchsorted(cuts, ends[s] - days_back))

    for s, r in enumerate(rows):
        who = i[r]
        hi = edge(s, 0)

        def window(cum, start_back, end_back=0):
            return (cum[edge(s, end_back)] - cum[edge(s, start_back)])[who].astype(np.float64)

        for w in USAGE_WINDOWS:
            column(f"events_{w}d")[r] = window(cum_n, win[f"events_{w}d"])
            column(f"quantity_{w}d")[r] = window(cum_q, win[f"quantity_{w}d"])
        prior30 = window(cum_n, win["prior"], win["prior_end"])
        half = win["change"] // 2
        last60, prior60 = window(cum_n, half), window(cum_n, win["change"], half)
        column("events_prior_30d")[r] = prior30
        column("usage_trend_30d")[r] = np.log((out["events_30d"][r] + 1.0) / (prior30 + 1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            column("usage_change_60d_pct")[r] = np.where(prior60 > 0, 100.0 * (last60 - prior60) / prior60, np.nan)
        last_day = last[hi][who]
        recent = last_day >= ends[s] - win["last_use"]
        column("days_since_last_use")[r] = np.where(recent, (ends[s] - 1) - last_day, np.nan)
    del cum_n, cum_q, last

    # -- distinct event types and users: bitmasks of 60-day buckets ------------------------------
    spans = {(win[f"{name}_30d"], win[f"{name}_change_30d"]) for name in ("event_types", "active_users")}
    cuts60 = np.unique(np.concatenate([ends] + [ends - w for span in spans for w in span]))
    day60 = np.arange(cuts60[0], cuts60[-1], dtype=np.int32)
    bit = (np.int64(1) << (np.searchsorted(cuts60, day60, side="right") - 1)).astype(np.int64)
    con.register("usage_cal60", pd.DataFrame({"d": day60, "bit": bit}))
    # reduced by customer_id first, numbered after: the join to cidx then sees far fewer rows
    masks = con.execute(f"""
        WITH e AS (
            SELECT u.customer_id, u.user_id, u.event_type, c.bit
            FROM usage_events u
            JOIN usage_cal60 c ON c.d = CAST(date_diff('day', TIMESTAMP '1970-01-01', u.ts) AS INTEGER)
            WHERE u.ts >= TIMESTAMP '{_day_str(cuts60[0])}' AND u.ts < TIMESTAMP '{_day_str(cuts60[-1])}'
        ), m AS (
            SELECT customer_id, CAST(grouping(user_id) AS INTEGER) AS by_type, bit_or(bit) AS mask
            FROM e GROUP BY GROUPING SETS ((customer_id, user_id), (customer_id, event_type))
        )
        SELECT x.i, m.by_type, m.mask FROM m JOIN cidx x USING (customer_id)""").fetchnumpy()
    con.unregister("usage_cal60")
    m_i = masks["i"].astype(np.int64)
    m_mask = masks["mask"].astype(np.int64)
    by_type = masks["by_type"].astype(bool)
    del masks

    def bits(lo_back: int, hi_back: int, s: int) -> np.int64:
        lo = np.searchsorted(cuts60, ends[s] - lo_back)
        hi = np.searchsorted(cuts60, ends[s] - hi_back)
        return np.int64(sum(1 << b for b in range(lo, hi)))

    for name, kind in (("event_types", by_type), ("active_users", ~by_type)):
        k_i, k_mask = m_i[kind], m_mask[kind]
        for s, r in enumerate(rows):
            who = i[r]
            recent, whole = win[f"{name}_30d"], win[f"{name}_change_30d"]
            now = np.bincount(k_i[(k_mask & bits(recent, 0, s)) != 0], minlength=C)[who]
            before = np.bincount(k_i[(k_mask & bits(whole, recent, s)) != 0], minlength=C)[who]
            column(f"{name}_30d")[r] = now
            column(f"{name}_change_30d")[r] = now - before


def _day_str(day: int) -> str:
    return str(_EPOCH + np.timedelta64(int(day), "D"))

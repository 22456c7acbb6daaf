"""Usage-window features for many snapshots from one pass over the event log.

Joining every event to each snapshot whose window holds it copies the log about six times for
monthly snapshots and 180-day windows. Instead, the days are cut at every window boundary of
every snapshot; DuckDB reduces the log once to per-(customer, bucket) counts, quantities and
last days, and per-(customer, user) and per-(customer, event type) bitmasks of the buckets
they were active in. A window is then a range of whole buckets: sums come from cumulative sums
and distinct counts from a bitwise AND with the window's mask, in NumPy, for every snapshot.

The result is exact (not an approximation): bucket edges are exactly the window edges.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from churnlab.feature_catalogue import USAGE_WINDOWS

__all__ = ["usage_window_features"]

_EPOCH = np.datetime64("1970-01-01", "D")
#: count/quantity windows, plus the prior-30 and prior-60 edges that trends need
_EDGES = tuple(sorted({*USAGE_WINDOWS, 60, 120}))
#: snapshots per pass: keeps the 60-day masks within 63 bits and the dense matrices small
_GROUP = 12


def usage_window_features(con: duckdb.DuckDBPyConnection, n_customers: int,
                          snap_days: np.ndarray) -> pd.DataFrame:
    """Usage features for every (customer index ``i``, snapshot index ``j``) pair of ``pop``.

    ``con`` must hold ``usage_events``, ``cidx(customer_id, i)`` and ``pop(i, j, ...)``;
    ``snap_days[j]`` is snapshot j's date as days since 1970-01-01. Returns a frame with
    columns i, j and the usage features of the catalogue (before fills).
    """
    pairs = con.execute("SELECT i, j FROM pop").fetchnumpy()
    i_all, j_all = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    pieces = []
    for first in range(0, len(snap_days), _GROUP):
        group = np.arange(first, min(first + _GROUP, len(snap_days)))
        keep = np.isin(j_all, group)
        pieces.append(_group_features(con, n_customers, snap_days, group, i_all[keep], j_all[keep]))
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()


def _group_features(con, C: int, snap_days: np.ndarray, group: np.ndarray,
                    i: np.ndarray, j: np.ndarray) -> pd.DataFrame:
    ends = snap_days[group] + 1                       # exclusive end day of each snapshot
    out = {"i": i, "j": j}

    # -- counts, quantities, last use: buckets cut at every window edge --------------------------
    cuts = np.unique(np.concatenate([ends] + [ends - w for w in _EDGES]))
    B = len(cuts) - 1
    cal = pd.DataFrame({"d": np.arange(cuts[0], cuts[-1], dtype=np.int32)})
    cal["b"] = (np.searchsorted(cuts, cal["d"].to_numpy(), side="right") - 1).astype(np.int32)
    con.register("usage_cal", cal)
    agg = con.execute(f"""
        WITH e AS (
            SELECT x.i, CAST(date_diff('day', TIMESTAMP '1970-01-01', u.ts) AS INTEGER) AS d, u.quantity
            FROM usage_events u JOIN cidx x USING (customer_id)
            WHERE u.ts >= TIMESTAMP '{_day_str(cuts[0])}' AND u.ts < TIMESTAMP '{_day_str(cuts[-1])}'
        )
        SELECT e.i, c.b, count(*) AS n, sum(e.quantity) AS q, max(e.d) AS last_d
        FROM e JOIN usage_cal c USING (d) GROUP BY 1, 2""").fetchnumpy()
    con.unregister("usage_cal")
    flat = agg["i"].astype(np.int64) * B + agg["b"].astype(np.int64)
    n = np.bincount(flat, weights=agg["n"].astype(np.float64), minlength=C * B).reshape(C, B)
    q = np.bincount(flat, weights=np.nan_to_num(agg["q"].astype(np.float64)), minlength=C * B).reshape(C, B)
    cum_n = np.concatenate([np.zeros((C, 1)), np.cumsum(n, axis=1)], axis=1)
    cum_q = np.concatenate([np.zeros((C, 1)), np.cumsum(q, axis=1)], axis=1)
    last = np.full(C * B, -1, dtype=np.int64)
    np.maximum.at(last, flat, agg["last_d"].astype(np.int64))
    last = np.maximum.accumulate(last.reshape(C, B), axis=1)   # last day up to each bucket
    del n, q, agg, flat

    k = np.searchsorted(group, j)                      # snapshot position within the group
    hi = np.searchsorted(cuts, ends)[k]                # bucket index where each window ends

    def window(cum: np.ndarray, start_days_back: int, end_days_back: int = 0) -> np.ndarray:
        lo_idx = np.searchsorted(cuts, ends - start_days_back)[k]
        hi_idx = np.searchsorted(cuts, ends - end_days_back)[k]
        return cum[i, hi_idx] - cum[i, lo_idx]

    for w in USAGE_WINDOWS:
        out[f"events_{w}d"] = window(cum_n, w)
        out[f"quantity_{w}d"] = window(cum_q, w)
    prior30 = window(cum_n, 60, 30)
    last60, prior60 = window(cum_n, 60), window(cum_n, 120, 60)
    out["events_prior_30d"] = prior30
    out["usage_trend_30d"] = np.log((out["events_30d"] + 1.0) / (prior30 + 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["usage_change_60d_pct"] = np.where(prior60 > 0, 100.0 * (last60 - prior60) / prior60, np.nan)
    last_day = last[i, hi - 1]
    recent = last_day >= ends[k] - 180
    out["days_since_last_use"] = np.where(recent, (ends[k] - 1) - last_day, np.nan)
    del cum_n, cum_q, last

    # -- distinct event types and users: bitmasks of 60-day buckets ------------------------------
    cuts60 = np.unique(np.concatenate([ends, ends - 30, ends - 60]))
    cal60 = pd.DataFrame({"d": np.arange(cuts60[0], cuts60[-1], dtype=np.int32)})
    cal60["bit"] = (np.int64(1) << (np.searchsorted(cuts60, cal60["d"].to_numpy(), side="right") - 1)).astype(np.int64)
    con.register("usage_cal60", cal60)
    masks = con.execute(f"""
        WITH e AS (
            SELECT x.i, u.user_id, u.event_type, c.bit
            FROM usage_events u JOIN cidx x USING (customer_id)
            JOIN usage_cal60 c ON c.d = CAST(date_diff('day', TIMESTAMP '1970-01-01', u.ts) AS INTEGER)
            WHERE u.ts >= TIMESTAMP '{_day_str(cuts60[0])}' AND u.ts < TIMESTAMP '{_day_str(cuts60[-1])}'
        )
        SELECT i, CAST(grouping(user_id) AS INTEGER) AS by_type, bit_or(bit) AS mask
        FROM e GROUP BY GROUPING SETS ((i, user_id), (i, event_type))""").fetchnumpy()
    con.unregister("usage_cal60")
    m_i = masks["i"].astype(np.int64)
    m_mask = masks["mask"].astype(np.int64)
    by_type = masks["by_type"].astype(bool)

    def bits(lo_back: int, hi_back: int, s: int) -> np.int64:
        lo = np.searchsorted(cuts60, ends[s] - lo_back)
        hi = np.searchsorted(cuts60, ends[s] - hi_back)
        return np.int64(sum(1 << b for b in range(lo, hi)))

    for name, rows in (("event_types", by_type), ("active_users", ~by_type)):
        now = np.zeros(len(i))
        before = np.zeros(len(i))
        for s in range(len(group)):
            sel = k == s
            cur = np.bincount(m_i[rows & ((m_mask & bits(30, 0, s)) != 0)], minlength=C)
            old = np.bincount(m_i[rows & ((m_mask & bits(60, 30, s)) != 0)], minlength=C)
            now[sel] = cur[i[sel]]
            before[sel] = old[i[sel]]
        out[f"{name}_30d"] = now
        out[f"{name}_change_30d"] = now - before
    return pd.DataFrame(out)


def _day_str(day: int) -> str:
    return str(_EPOCH + np.timedelta64(int(day), "D"))

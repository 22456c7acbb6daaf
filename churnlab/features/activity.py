"""When a customer without a contract counts as gone: the inactivity window.

A shop or a pay-per-visit service has no end date: a customer simply stops buying. Under
``models.churn: inactivity`` a customer churns ``inactivity_days`` after its last use (purchase)
when no use followed within that many days, and the next use makes it active again
(``churnlab.features.engine.activity_episodes``). The window matters: too short and regular
customers are called lost between two purchases; too long and nobody has lapsed yet.

:func:`inactivity_window` chooses a default from the data, the ``share`` quantile of the gaps
between consecutive days of use of the same customer (by default 90 %: nine repeat purchases in
ten come sooner), rounded up to whole weeks, and :func:`window_warnings` says when a window
(chosen or set) looks implausible for the data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["InactivityWindow", "inactivity_window", "usage_gaps", "window_from_gaps", "window_warnings",
           "FALLBACK_DAYS"]

#: the window when the data has no repeat use to learn from (no customer used it on two days)
FALLBACK_DAYS = 90


@dataclass(frozen=True)
class InactivityWindow:
    """An inactivity window and where it came from.

    ``days``: the window; ``gaps``: how many gaps between days of use it was read from;
    ``share``: the quantile taken; ``longer``: the share of those gaps longer than ``days``
    (customers who would have been called lapsed and came back); ``warnings``: one sentence each.
    """

    days: int
    gaps: int
    share: float
    longer: float
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        """One sentence for the run's assumptions."""
        if not self.gaps:
            return f"{self.days} days (no customer used the service on two days: churnlab's fallback)"
        return (f"{self.days} days: {self.share:.0%} of the {self.gaps:,} gaps between a customer's days of use "
                f"are shorter ({self.longer:.1%} are longer)")


def usage_gaps(con, as_of) -> np.ndarray:
    """Days between consecutive days of use of the same customer, up to ``as_of``, from the
    ``usage_events`` table of a DuckDB connection."""
    as_of = pd.Timestamp(as_of).normalize()
    rows = con.execute(f"""
        WITH days AS (SELECT DISTINCT customer_id, CAST(ts AS DATE) AS d FROM usage_events
                      WHERE ts < TIMESTAMP '{as_of.date()}' + INTERVAL 1 DAY)
        SELECT date_diff('day', lag(d) OVER (PARTITION BY customer_id ORDER BY d), d) AS gap FROM days
        QUALIFY gap IS NOT NULL""").fetchnumpy()["gap"]
    return np.sort(np.asarray(rows, dtype=np.int64))


def window_from_gaps(gaps: np.ndarray, share: float = 0.9) -> int:
    """The ``share`` quantile of ``gaps`` rounded up to whole weeks (``FALLBACK_DAYS`` without gaps)."""
    gaps = np.asarray(gaps, dtype=np.float64)
    if not len(gaps):
        return FALLBACK_DAYS
    days = float(np.quantile(gaps, share, method="higher"))
    return int(max(7, 7 * np.ceil(days / 7)))


def window_warnings(days: int, gaps: np.ndarray, span_days: int | None = None) -> list[str]:
    """What looks implausible about an inactivity window of ``days`` for these gaps between days
    of use (``span_days``: how many days of use history the data holds)."""
    gaps = np.asarray(gaps)
    out = []
    if len(gaps):
        longer = float(np.mean(gaps > days))
        median = float(np.median(gaps))
        if days < median:
            out.append(f"models.inactivity_days {days} is shorter than the typical gap between two purchases of a "
                       f"customer ({median:.0f} days): most customers would count as churned between two purchases; "
                       f"try about {window_from_gaps(gaps)} (90% of the gaps are shorter)")
        elif longer > 0.2:
            out.append(f"models.inactivity_days {days}: {longer:.0%} of the gaps between a customer's purchases are "
                       f"longer, so many customers counted as churned come back; try about {window_from_gaps(gaps)}")
    if span_days is not None and days >= span_days:
        out.append(f"models.inactivity_days {days} is longer than the {span_days} days of use the data holds: no "
                   "customer can have lapsed yet, so there is no churn to learn from")
    return out


def inactivity_window(con, as_of, days: int | None = None, share: float = 0.9) -> InactivityWindow:
    """The window to use at ``as_of``: ``days`` when given (the setting), else chosen from the
    gaps of the ``usage_events`` table of DuckDB connection ``con``; with its warnings."""
    gaps = usage_gaps(con, as_of)
    chosen = window_from_gaps(gaps, share) if days is None else int(days)
    first = con.execute("SELECT min(CAST(ts AS DATE)) FROM usage_events").fetchone()[0]
    span = None if first is None else (pd.Timestamp(as_of).normalize() - pd.Timestamp(first)).days + 1
    longer = float(np.mean(gaps > chosen)) if len(gaps) else 0.0
    return InactivityWindow(chosen, len(gaps), share, longer, tuple(window_warnings(chosen, gaps, span)))

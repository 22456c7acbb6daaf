"""Why customers left: the ``churn_reason`` answers (from exit interviews) by segment and over time.

:func:`churn_reasons` counts, among the customers who churned in a window before the as-of date,
each stated reason per period (quarter by default) and per segment (``industry``, a size band of
``company_size``, or any customer column), with the share of the churners who gave no reason:
what an exit-interview programme learns, and whether it reaches the people who leave.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["churn_reasons", "NO_ANSWER"]

#: What a churner without a recorded reason counts as.
NO_ANSWER = "(no answer)"


def churn_reasons(customers: pd.DataFrame, as_of, *, by: str | None = None, freq: str = "Q",
                  months: int = 12, size_bands: dict[str, float] | None = None) -> pd.DataFrame:
    """Churners per stated reason, per period (rows) and, with ``by``, per segment (column level).

    Parameters
    ----------
    customers : the contract's customers table (``churn_date``, ``churn_reason``; ``by``'s column).
    as_of : the end of the window; churns after it are not counted (nothing leaks in).
    by : a customer column to split by; ``company_size`` is cut into ``size_bands`` (label ->
        lower bound, as ``settings.segments.size_bands``) when they are given.
    freq : the period of the rows (a pandas period alias: ``Q`` quarters, ``M`` months).
    months : how far back the window goes.

    Returns
    -------
    A count table: index ``period`` (and ``by`` when given), one column per reason (most common
    first) and ``NO_ANSWER``, then ``churners`` and ``answered_share``. Empty when nobody churned
    in the window or the table has no ``churn_reason``.
    """
    if "churn_reason" not in customers or "churn_date" not in customers:
        return pd.DataFrame()
    end = pd.Timestamp(as_of)
    when = pd.to_datetime(customers["churn_date"], errors="coerce")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    keep = when.notna() & (when <= end) & (when > end - pd.DateOffset(months=months))
    rows = customers.loc[keep].copy()
    if rows.empty:
        return pd.DataFrame()
    reason = rows["churn_reason"].astype("object").where(rows["churn_reason"].notna(), NO_ANSWER)
    rows["reason"] = reason.astype(str).str.strip().replace("", NO_ANSWER)
    rows["period"] = when[keep].dt.to_period(freq).astype(str)
    keys = ["period"]
    if by is not None:
        if by not in rows:
            raise ValueError(f"churn_reasons: the customers table has no column {by!r}")
        if by == "company_size" and size_bands:
            edges = sorted(size_bands.items(), key=lambda kv: kv[1])
            size = pd.to_numeric(rows[by], errors="coerce").to_numpy()
            labels = np.full(len(rows), "unknown", dtype=object)
            for label, low in edges:
                labels[size >= low] = label
            rows[by] = labels
        rows[by] = rows[by].astype("object").where(rows[by].notna(), "unknown").astype(str)
        keys.append(by)
    table = rows.groupby(keys + ["reason"]).size().unstack("reason", fill_value=0)
    order = [r for r in rows["reason"].value_counts().index if r != NO_ANSWER]
    table = table.reindex(columns=order + ([NO_ANSWER] if NO_ANSWER in table.columns else []), fill_value=0)
    table["churners"] = table.sum(axis=1)
    answered = table["churners"] - (table[NO_ANSWER] if NO_ANSWER in table else 0)
    table["answered_share"] = (answered / table["churners"]).round(3)
    return table

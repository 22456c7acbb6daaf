"""What changed since the previous run: who entered or left each zone, and why.

A run compares its ``scores.csv`` with the one of the latest earlier run in the same reports
folder (:func:`previous_run`). :func:`zone_changes` lists, per customer whose zone differs, one
row for the zone left and one for the zone entered, so a reader filtering on ``zone == "red"``
sees everyone who came into or went out of the Red Zone. Customers who appear (signed up) or
disappear (churned, or no longer in the data) are changes too.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

__all__ = ["previous_run", "zone_changes", "CHANGES_COLUMNS"]

#: Columns of changes.csv.
CHANGES_COLUMNS = ["customer_id", "zone", "change", "previous_zone", "current_zone", "reason"]

_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: what a customer is when absent from one of the two runs
_NEW, _GONE = "new", "gone"


def previous_run(reports: str | Path, as_of: date) -> Path | None:
    """The latest finished report folder dated before ``as_of`` that holds a ``scores.csv``.

    Only folders named ``YYYY-MM-DD`` count: staging and failed runs are never compared with.
    """
    reports = Path(reports)
    if not reports.is_dir():
        return None
    earlier = [p for p in reports.iterdir()
               if p.is_dir() and _DATED.match(p.name) and p.name < as_of.isoformat()
               and (p / "scores.csv").is_file()]
    return max(earlier, key=lambda p: p.name) if earlier else None


def zone_changes(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Rows for every customer whose zone differs between two scored tables.

    Parameters
    ----------
    previous, current : frames with ``customer_id`` and ``zone`` (``current`` may carry
        ``zone_reason``, the zone's reason in words). ``previous=None`` (a first run) gives an
        empty frame.

    Returns
    -------
    DataFrame with :data:`CHANGES_COLUMNS`, sorted by customer and change: ``zone`` is the zone
    entered or left, ``change`` is ``entered`` or ``left``, ``previous_zone``/``current_zone``
    are ``new``/``gone`` for customers absent from one run, ``reason`` says why in words.
    """
    if previous is None or "zone" not in current.columns or "zone" not in previous.columns:
        return pd.DataFrame(columns=CHANGES_COLUMNS)
    before = previous[["customer_id", "zone"]].astype({"customer_id": str})
    keep = ["customer_id", "zone"] + (["zone_reason"] if "zone_reason" in current.columns else [])
    now = current[keep].astype({"customer_id": str})
    both = before.merge(now, on="customer_id", how="outer", suffixes=("_before", "_now"))
    both["zone_before"] = both["zone_before"].fillna(_NEW)
    both["zone_now"] = both["zone_now"].fillna(_GONE)
    moved = both[both["zone_before"] != both["zone_now"]]
    rows = []
    for rec in moved.itertuples(index=False):
        why_now = getattr(rec, "zone_reason", None)
        why_now = why_now if isinstance(why_now, str) and why_now else None
        if rec.zone_before != _NEW:
            reason = ("no longer an active customer" if rec.zone_now == _GONE
                      else f"now {rec.zone_now}" + (f": {why_now}" if why_now else ""))
            rows.append((rec.customer_id, rec.zone_before, "left", rec.zone_before, rec.zone_now, reason))
        if rec.zone_now != _GONE:
            reason = why_now or f"was {rec.zone_before}"
            if rec.zone_before == _NEW:
                reason = "new in this run" + (f": {why_now}" if why_now else "")
            rows.append((rec.customer_id, rec.zone_now, "entered", rec.zone_before, rec.zone_now, reason))
    out = pd.DataFrame(rows, columns=CHANGES_COLUMNS)
    return out.sort_values(["customer_id", "change"], ascending=[True, False], kind="stable").reset_index(drop=True)

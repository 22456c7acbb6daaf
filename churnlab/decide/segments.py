"""Churn segments: value tier, risk level, firmographics and preferred channel in one label.

Not a marketing segmentation: the segment says how much a customer matters, how much at risk
they are and how to reach them, so that campaigns act differently by segment. Tiers, levels and
bands are settings (:class:`churnlab.settings.SegmentSettings`); a customer with a missing value
gets the level ``unknown`` and is never dropped.

>>> segments = assign_segments(scores.merge(features, on="customer_id"), settings=settings)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.settings import SegmentSettings, Settings

__all__ = ["assign_segments", "segment_frame", "SEGMENT_COLUMNS", "FIRMOGRAPHICS"]

#: Columns of ``customers`` a segment reads when the source has them.
FIRMOGRAPHICS = ("company_size", "industry", "region", "preferred_channel")

SEGMENT_COLUMNS = ["customer_id", "segment", "value_tier", "risk_level", "size_band", "industry", "region",
                   "preferred_channel"]
UNKNOWN = "unknown"
# How each part reads in the label, for a known and an unknown level.
_LABEL = {
    "value_tier": ("{} value", "unknown value"),
    "risk_level": ("{} risk", "unknown risk"),
    "size_band": ("{} company", "unknown size"),
    "industry": ("{}", "unknown industry"),
    "region": ("{}", "unknown region"),
    "preferred_channel": ("via {}", "unknown channel"),
}


def assign_segments(frame: pd.DataFrame, *, settings: Settings | SegmentSettings | None = None) -> pd.DataFrame:
    """Give every customer of ``frame`` a churn segment.

    ``frame``: one row per customer with ``customer_id``, ``churn_probability`` and ``value``
    (``arr`` is used when there is no ``value`` column), and optionally ``company_size``,
    ``industry``, ``region`` and ``preferred_channel`` (absent columns give ``unknown``).

    Returns a new frame in the order of ``frame`` with :data:`SEGMENT_COLUMNS`:

    - ``value_tier``: by quantile of value among the customers of ``frame``: a customer is in
      the last tier whose bound is at most the share of customers with a strictly smaller
      value (so ties share a tier, and the default puts the top 20% in ``high``);
    - ``risk_level``: the last level whose lower bound ``churn_probability`` reaches;
    - ``size_band``: the last band whose lower bound ``company_size`` reaches;
    - ``industry``, ``region``, ``preferred_channel``: as given;
    - ``segment``: the parts of ``settings.parts`` in words, e.g. ``"high value, high risk,
      small company, retail, europe, via email"``.

    Missing values give ``unknown`` in their column and in the label.
    """
    seg = settings.segments if isinstance(settings, Settings) else settings or SegmentSettings()
    _require(frame, "customer_id")
    _require(frame, "churn_probability")
    if "value" in frame.columns:
        value_col = "value"
    elif "arr" in frame.columns:
        value_col = "arr"
    else:
        raise ValueError("assign_segments: the frame has neither 'value' nor 'arr' to set value tiers "
                         f"(columns: {', '.join(map(str, frame.columns[:12]))}{', ...' if frame.shape[1] > 12 else ''})")

    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy()})
    value = pd.to_numeric(frame[value_col], errors="coerce").reset_index(drop=True)
    out["value_tier"] = _by_quantile(value, seg.value_tiers)
    out["risk_level"] = _by_bound(pd.to_numeric(frame["churn_probability"], errors="coerce").reset_index(drop=True),
                                  seg.risk_levels)
    size = (pd.to_numeric(frame["company_size"], errors="coerce").reset_index(drop=True)
            if "company_size" in frame.columns else pd.Series(np.nan, index=out.index))
    out["size_band"] = _by_bound(size, seg.size_bands)
    for col in ("industry", "region", "preferred_channel"):
        out[col] = _text(frame[col]) if col in frame.columns else UNKNOWN
    # labels are made once per distinct combination of the parts, then spread to the customers
    combos = out[list(seg.parts)]
    codes = combos.groupby(list(seg.parts), sort=False, dropna=False).ngroup().to_numpy()
    labels = [", ".join(_LABEL[part][1] if level == UNKNOWN else _LABEL[part][0].format(level)
                        for part, level in zip(seg.parts, row))
              for row in combos.drop_duplicates().itertuples(index=False)]
    label = np.asarray(labels, dtype=object)[codes]
    out.insert(1, "segment", label)
    out.attrs["value_column"] = value_col
    return out[SEGMENT_COLUMNS]


def segment_frame(scores: pd.DataFrame, value: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The input of :func:`assign_segments`, one row per scored customer in the order of
    ``scores``: ``churn_probability`` from the model scores, ``value`` from
    :func:`churnlab.decide.value.customer_value` and the :data:`FIRMOGRAPHICS` the customers
    table has (missing ones are left out; a customer without a row there keeps missing values)."""
    frame = scores[["customer_id", "churn_probability"]].merge(
        value[["customer_id", "value"]], on="customer_id", how="left", validate="one_to_one")
    present = [c for c in FIRMOGRAPHICS if c in customers.columns]
    return frame.merge(customers[["customer_id", *present]], on="customer_id", how="left", validate="one_to_one")


def _require(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise ValueError(f"assign_segments: the frame has no column '{column}'"
                         + (" (the scores of churnlab.score give it)" if column == "churn_probability" else ""))


def _by_bound(values: pd.Series, levels: dict[str, float]) -> pd.Series:
    labels = list(levels)
    bounds = np.asarray(list(levels.values()), dtype=float)
    # index of the last bound <= value; values below the first bound (negative) take the first level
    idx = np.clip(np.searchsorted(bounds, values.fillna(0).to_numpy(dtype=float), side="right") - 1, 0, None)
    out = np.asarray(labels, dtype=object)[idx]
    return pd.Series(np.where(values.isna(), UNKNOWN, out), index=values.index, dtype=object)


def _by_quantile(values: pd.Series, tiers: dict[str, float]) -> pd.Series:
    known = values.notna()
    n = int(known.sum())
    below = values.rank(method="min").fillna(1).to_numpy() - 1  # customers with a strictly smaller value
    share = below / n if n else np.zeros(len(values))
    bounds = np.asarray(list(tiers.values()), dtype=float)
    idx = np.searchsorted(bounds, share + 1e-9, side="right") - 1
    out = np.asarray(list(tiers), dtype=object)[np.clip(idx, 0, None)]
    return pd.Series(np.where(known, out, UNKNOWN), index=values.index, dtype=object)


def _text(values: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(values.astype(object).reset_index(drop=True))
    cleaned = np.asarray([UNKNOWN if str(u).strip() == "" else str(u) for u in uniques] + [UNKNOWN], dtype=object)
    return cleaned[codes]  # code -1 (missing) picks the trailing UNKNOWN

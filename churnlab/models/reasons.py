"""Each customer's risk in words: the top drivers of a model's additive contributions.

A model's :meth:`contributions` give, per customer and feature, how much the feature moves the
log-risk away from the training average. The features pushing risk *up* the most become
reasons, each a short phrase with the customer's own number ("usage down 48% vs the prior 60
days", "2 critical tickets open for more than 14 days", "NPS 3: detractor"), worded by the feature
catalogue's ``phrase``. The customer's own attributes (the columns of a flat table such as
Telco's ``Contract``, or the demo's ``industry``) are reasons too, worded from the column's name:
"contract: Month-to-month", "monthly charges 95.7".

A reason is a value that is worse than typical, never an artefact of the model's centring:

* a missing value is never a reason (where missing matters, the catalogue has a "no ..." or
  "never ..." feature of its own);
* the feature must raise the risk *and* the customer's value must lie on the risky side of the
  typical (training median) value, so "surveys average 50 of 100" is no reason when most
  customers answer 40;
* where the catalogue says which side of a feature is risky in words
  (:data:`churnlab.features.catalogue.RISKY_SIDE`: fewer usage events, more overdue invoices, a
  lower chance of buying again), a model that leans on it the other way gives no reason from it.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
import pandas as pd

from churnlab.features.catalogue import ALL_FEATURES, RISKY_SIDE
from churnlab.models.design import source_feature

__all__ = ["explain", "phrase", "NOTHING_STANDS_OUT", "MAX_REASON_CHARS"]


#: feature → its phrase, from the catalogue
_PHRASES = {f.name: f.phrase for f in ALL_FEATURES if f.phrase is not None}
_TOPIC = {f.name: f.group for f in ALL_FEATURES}
_TOPIC_ORDER = list(dict.fromkeys(f.group for f in ALL_FEATURES))

#: Catalogue groups that say who a customer is, not how it behaves: a table with nothing else is flat.
_WHO = ("account",)

#: The reason given when nothing raises a customer's risk noticeably.
NOTHING_STANDS_OUT = "no risk driver stands out"
#: Reasons are kept shorter than this: a call list's column, read at a glance.
MAX_REASON_CHARS = 60
#: Category levels that say "we do not know" and so, like a missing value, are never a reason.
_UNKNOWN_LEVELS = frozenset({"", "unknown", "missing", "nan", "n/a", "na"})
_DIRECTION_ROWS = 100_000


@lru_cache(maxsize=4096)
def _label(column: str) -> str:
    """A column's name in words: ``PaymentMethod`` → "payment method", ``company_size`` → "company size"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_+", " ", column).split()
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words) or column


def _number(v: float) -> str:
    """A number as a person writes it: no exponent, thousands separated, at most 3 significant
    digits after the point (``95.7``, ``1,234``, ``0.125``)."""
    if float(v).is_integer() or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.{max(0, 2 - int(math.floor(math.log10(abs(v)))))}f}".rstrip("0").rstrip(".") if v else "0"


def _shorten(text: str, limit: int = MAX_REASON_CHARS - 1) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def phrase(feature: str, value) -> str:
    """One feature's value in words, e.g. ``phrase("last_nps", 3)`` → ``"NPS 3: detractor"``.

    Catalogue features use their catalogue ``phrase``; any other column is worded from its name:
    ``phrase("Contract", "Month-to-month")`` → ``"contract: Month-to-month"``,
    ``phrase("MonthlyCharges", 95.7)`` → ``"monthly charges 95.7"``. A missing value reads
    ``"<name>: unknown"`` (:func:`explain` never gives it as a reason). At most
    :data:`MAX_REASON_CHARS` - 1 characters.
    """
    if _is_missing(value):
        return _shorten(f"{_label(feature)}: unknown")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        v = float(value)
        if feature in _PHRASES:
            return _shorten(_PHRASES[feature](v))
        return _shorten(f"{_label(feature)} {_number(v)}")
    return _shorten(f"{_label(feature)}: {value}")


def _attribute_phrase(feature: str, value, binary: bool) -> str:
    """:func:`phrase`, with a 0/1 attribute (``SeniorCitizen``) read as yes or no."""
    if binary:
        return _shorten(f"{_label(feature)}: {'yes' if float(value) >= 0.5 else 'no'}")
    return phrase(feature, value)


def _direction(x: np.ndarray, c: np.ndarray) -> float:
    """+1 when a numeric feature's contribution grows with its value, -1 when it falls, 0 when the
    value does not move it (only a missing indicator does), NaN when the frame cannot tell (fewer
    than two distinct known values). Exact for the models' additive terms, which are monotone in
    the value once it is known."""
    # the sign is exact from any two distinct values, so a slice of the rows tells it
    known = ~np.isnan(x[:_DIRECTION_ROWS])
    x, c = x[:_DIRECTION_ROWS][known], c[:_DIRECTION_ROWS][known]
    if len(x) < 2 or np.all(x == x[0]):
        return float("nan")
    spread = np.abs(c - c.mean()).max()
    if spread <= 1e-12 * (1.0 + np.abs(c).max()):
        return 0.0
    return float(np.sign(np.dot(x - x.mean(), c - c.mean())))


def _eligible(x: pd.Series, c: np.ndarray, typical, risky: str | None = None) -> np.ndarray:
    """Which customers' value of one feature may be a reason: known, raising the risk, and (for a
    number) on the risky side of ``typical``; with ``risky`` ("high" or "low", the side that means
    risk in words), only when the model's risk rises on that side too."""
    if pd.api.types.is_bool_dtype(x.dtype) or pd.api.types.is_numeric_dtype(x.dtype):
        v = x.to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(v) & (c > 0)
        way = _direction(v, c)
        if risky is not None and not math.isnan(way) and way != (1.0 if risky == "high" else -1.0):
            return np.zeros(len(v), dtype=bool)
        if math.isnan(way):
            return ok
        if _is_missing(typical):
            typical = float(np.nanmedian(v))
        return ok & (way * (v - float(typical)) > 0)
    unknown = [level for level in pd.unique(x.dropna()) if str(level).strip().lower() in _UNKNOWN_LEVELS]
    return x.notna().to_numpy() & ~x.isin(unknown).to_numpy() & (c > 0)


def explain(contributions: pd.DataFrame, features: pd.DataFrame, top: int = 3,
            min_contribution: float = 0.1, typical: pd.Series | None = None) -> pd.Series:
    """The top drivers of each customer's risk, in words, ``;``-separated.

    Catalogue features are summed per topic (the catalogue's groups: usage, support, feedback,
    billing, contract, ...), so one slump in usage reads as one reason rather than five
    correlated ones, phrased from the topic's feature that raises the risk most. Every other
    column (the customer's own attributes, such as Telco's ``Contract`` or the demo's
    ``industry``) is a topic of its own: one reason per column, its one-hot levels and missing
    indicator summed (``Contract=Month-to-month`` counts as ``Contract``). Topics of the catalogue
    come first, attributes fill the places left: what is going wrong before who the customer is.
    Attributes are reasons only on a flat table, one whose catalogue features say no more than
    the account's age: where the data shows behaviour, an attribute's pull is more often the
    model's noise than something a caller can act on.

    Only values worse than typical count (see the module's docstring): a feature's contribution
    is left out for a customer whose value is missing, whose contribution does not raise the
    risk, or (a number) whose value is not beyond ``typical`` on the side where the risk rises.

    Parameters
    ----------
    contributions : rows as ``features``, one column per feature: additive terms of a model's
        log-risk (``SurvivalModel.contributions`` or ``ChurnClassifier.contributions``).
    features : the features frame the contributions were computed from (same index).
    top : at most this many reasons per customer.
    min_contribution : topics adding less than this to the log-risk are not reasons.
    typical : the typical value of each numeric feature, ideally the training medians
        (:func:`churnlab.models.design.training_medians`); features it lacks use the median of
        ``features``.

    Returns
    -------
    Series (index as ``features``) of strings, each reason shorter than :data:`MAX_REASON_CHARS`;
    :data:`NOTHING_STANDS_OUT` when no topic raises the risk by ``min_contribution`` (a list
    reader should see that, not a blank cell).
    """
    owner = {}
    for c in contributions.columns:
        try:
            owner[c] = source_feature(c, features.columns)
        except KeyError:
            continue  # a term without a column to word it from
    cols = list(dict.fromkeys(owner.values()))
    n = len(features)
    values = np.zeros((n, len(cols)), order="F")  # column-major: the work below is per column
    for c, source in owner.items():
        values[:, cols.index(source)] += contributions[c].to_numpy(dtype="float64")
    typical = pd.Series(dtype="float64") if typical is None else typical
    eligible = np.column_stack([_eligible(features[c], values[:, j], typical.get(c), RISKY_SIDE.get(c))
                                for j, c in enumerate(cols)]) \
        if cols else np.zeros((n, 0), dtype=bool)
    known = np.column_stack([features[c].notna().to_numpy() for c in cols]) if cols else eligible
    # a topic weighs what its known values add: an eligible value its contribution, any other known
    # value only what it takes away (a rise that is not worse than typical is the centring's artefact)
    counted = np.where(eligible, values, np.where(known, np.minimum(values, 0.0), 0.0))

    # a topic is ("catalogue", group) or ("attribute", column); attributes speak only for a flat
    # table: where the data shows behaviour (usage, support, billing...), "region: asia pacific"
    # would be the model's noise read out as a reason, and a caller cannot act on who a customer is
    flat = not any(_TOPIC.get(c, "account") not in _WHO for c in cols)
    topics = [("catalogue", g) for g in _TOPIC_ORDER if any(_TOPIC.get(c) == g for c in cols)] + \
        ([("attribute", c) for c in cols if c not in _TOPIC] if flat else [])
    members = [[j for j, c in enumerate(cols) if (("catalogue", _TOPIC[c]) if c in _TOPIC else ("attribute", c)) == t]
               for t in topics]
    if not topics:
        return pd.Series(NOTHING_STANDS_OUT, index=features.index, name="reasons")
    weight = np.column_stack([counted[:, m].sum(axis=1) for m in members])
    # the member that words each topic: its eligible feature raising the risk most
    best = np.column_stack([np.asarray(m)[np.argmax(np.where(eligible[:, m], values[:, m], -np.inf), axis=1)]
                            for m in members])
    is_catalogue = np.array([kind == "catalogue" for kind, _ in topics])
    speaks = np.column_stack([eligible[:, m].any(axis=1) for m in members])
    rank = np.where((weight >= min_contribution) & speaks, weight + np.where(is_catalogue, 1e6, 0.0), -np.inf)
    order = np.argsort(-rank, axis=1, kind="stable")[:, :top]

    raw = {c: features[c].to_numpy(dtype="object") for c in cols}
    binary = {c: c not in _TOPIC and pd.api.types.is_numeric_dtype(features[c].dtype)
              and not pd.api.types.is_bool_dtype(features[c].dtype)
              and bool(features[c].dropna().isin([0, 1]).all()) for c in cols}
    out, said = [], {}  # said: the phrase of each (column, value) met, as many customers share one
    for i, row in enumerate(order):
        words = []
        for k in row:
            if not np.isfinite(rank[i, k]):
                break
            c = cols[best[i, k]]
            key = (c, raw[c][i])
            if key not in said:
                said[key] = _attribute_phrase(c, raw[c][i], binary[c])
            words.append(said[key])
        out.append("; ".join(words) or NOTHING_STANDS_OUT)
    return pd.Series(out, index=features.index, name="reasons")

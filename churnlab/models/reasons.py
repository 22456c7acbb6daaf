"""Each customer's risk in words: the top drivers of a model's additive contributions.

A model's :meth:`contributions` give, per customer and feature, how much the feature moves the
log-risk away from the training average. The features pushing risk *up* the most become
reasons, each phrased with the customer's own numbers ("usage down 48% vs the prior 60 days",
"2 critical tickets open for more than 14 days", "NPS 3: detractor") by the feature catalogue's
``phrase`` of the feature. Features without a phrase of their own are worded from the
catalogue's description.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from churnlab.features.catalogue import FEATURES

__all__ = ["explain", "phrase"]


#: feature → its phrase, from the catalogue (only where the description would read poorly)
_PHRASES = {f.name: f.phrase for f in FEATURES if f.phrase is not None}
_DESCRIPTIONS = {f.name: f.description for f in FEATURES}


def phrase(feature: str, value) -> str:
    """One feature's value in words, e.g. ``phrase("last_nps", 3)`` → ``"NPS 3: detractor"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return f"no record of {_DESCRIPTIONS.get(feature, feature.replace('_', ' '))}"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if feature in _PHRASES:
            return _PHRASES[feature](v)
        label = _DESCRIPTIONS.get(feature, feature.replace("_", " "))
        return f"{label}: {v:,.4g}"
    return f"{feature.replace('_', ' ')}: {value}"


_TOPIC = {f.name: f.group for f in FEATURES}

#: The reason given when nothing raises a customer's risk noticeably.
NOTHING_STANDS_OUT = "no risk driver stands out"


def explain(contributions: pd.DataFrame, features: pd.DataFrame, top: int = 3,
            min_contribution: float = 0.1) -> pd.Series:
    """The top drivers of each customer's risk, in words, ``;``-separated.

    Contributions are summed per topic (the feature catalogue's groups: usage, support,
    feedback, billing, contract, ...), so one slump in usage reads as one reason rather than
    five correlated ones. A topic's reason is phrased from its feature that raises the risk
    most among those with a phrase of their own. Columns that are not catalogue features (the
    customer's own attributes, such as industry) describe who a customer is rather than what is
    going wrong, and are left out.

    Parameters
    ----------
    contributions : rows as ``features``, one column per feature: additive terms of a model's
        log-risk (``SurvivalModel.contributions`` or ``ChurnClassifier.contributions``).
    features : the features frame the contributions were computed from (same index).
    top : at most this many reasons per customer.
    min_contribution : topics adding less than this to the log-risk are not reasons.

    Returns
    -------
    Series (index as ``features``) of strings; :data:`NOTHING_STANDS_OUT` when no topic raises
    the risk by ``min_contribution`` (a list reader should see that, not a blank cell).
    """
    cols = [c for c in contributions.columns if c in _TOPIC]
    values = contributions[cols].to_numpy(dtype="float64")
    topics = sorted({_TOPIC[c] for c in cols}, key=[f.group for f in FEATURES].index)
    member = {t: [j for j, c in enumerate(cols) if _TOPIC[c] == t] for t in topics}
    speakable = {t: [j for j in member[t] if cols[j] in _PHRASES] or member[t] for t in topics}
    topic_sum = np.column_stack([values[:, member[t]].sum(axis=1) for t in topics]) if topics else \
        np.zeros((len(values), 0))
    order = np.argsort(-topic_sum, axis=1, kind="stable")[:, :top]
    out = []
    column = {c: features[c] for c in cols if c in features.columns}  # a row of a wide frame is slow to take
    for i, row in enumerate(order):
        words = []
        for k in row:
            if topic_sum[i, k] < min_contribution:
                break
            cand = speakable[topics[k]]
            j = cand[int(np.argmax(values[i, cand]))]
            words.append(phrase(cols[j], column[cols[j]].iat[i] if cols[j] in column else features.iloc[i][cols[j]]))
        out.append("; ".join(words) or NOTHING_STANDS_OUT)
    return pd.Series(out, index=features.index, name="reasons")

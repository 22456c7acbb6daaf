"""Sentiment of free text: survey comments and touchpoint notes scored -1..1.

The contract's ``sentiment`` columns (touchpoints, advocacy) arrive scored by the source; survey
comments arrive as text and are scored here, once per distinct comment, with VADER (a lexicon and
rules for short English texts, no model to download: its lexicon ships inside the
``vaderSentiment`` wheel). The engine (:mod:`churnlab.features.engine`) averages the scores into
``comment_sentiment_180d``.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["comment_sentiment"]


def comment_sentiment(comments: Iterable[str]) -> pd.Series:
    """VADER compound sentiment (-1..1) of each distinct comment, indexed by the comment.

    VADER's lexicon ships inside the ``vaderSentiment`` package: nothing is downloaded.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    unique = pd.unique(pd.Series(list(comments), dtype=object).dropna())
    return pd.Series([analyzer.polarity_scores(str(c))["compound"] for c in unique],
                     index=pd.Index(unique, name="comment"), name="sentiment", dtype="float64")

"""The tables and plots of the campaigns notebook: how often each rule fired, list sizes."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

__all__ = ["plot_rule_counts", "plot_campaign_sizes", "segment_summary"]


def plot_rule_counts(counts: pd.DataFrame, ax=None):
    """Horizontal bars: customers each rule flagged (``churnlab.rule_counts`` output, column ``fired``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.3 * len(counts) + 1.2))
    data = counts.sort_values("fired", kind="stable")
    ax.barh(data["rule"], data["fired"], color="#c0504d")
    ax.set_title("How many customers each rule flags")
    ax.set_xlabel("customers")
    ax.set_ylabel("rule or alert")
    return ax


def plot_campaign_sizes(summary: pd.DataFrame, ax=None):
    """Horizontal bars: rows per campaign, coloured by list (``CampaignPlan.summary()``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * len(summary) + 1.2))
    colours = {"proactive": "#4f81bd", "reactive": "#c0504d", "exit_interviews": "#7f7f7f"}
    labels = summary["list"] + ": " + summary["campaign"]
    ax.barh(labels, summary["customers"], color=[colours.get(k, "#9bbb59") for k in summary["list"]])
    ax.invert_yaxis()
    ax.set_title("Customers on each campaign list this run")
    ax.set_xlabel("customers")
    ax.set_ylabel("list: campaign")
    return ax


def segment_summary(segments: pd.DataFrame, scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Customers, mean churn probability and value per combination of ``by`` segment parts."""
    frame = segments.merge(scores, on="customer_id", how="left")
    agg = {"customers": ("customer_id", "size"), "mean_churn_probability": ("churn_probability", "mean")}
    if "value" in frame:
        agg["value"] = ("value", "sum")
    return frame.groupby(by, observed=True).agg(**agg).reset_index().sort_values(by, kind="stable")

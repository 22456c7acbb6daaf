"""Plots of the models notebook: ROC, cumulative gains, calibration, survival curves, profit.

Each function takes ``curves`` as ``{model name: (churned 0/1, score)}`` (see
``BacktestResult.curves``) or a ready frame, draws on ``ax`` (a new figure when None) and returns
the Axes, always with a title, labelled axes and a legend where several lines are drawn.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score, roc_curve

from churnlab.plotting import axes

__all__ = ["plot_roc", "plot_lift", "plot_calibration", "plot_survival_by_group", "plot_profit_curve"]



def plot_roc(curves: dict, ax=None):
    """ROC curve per model with its AUC in the legend, and the diagonal of a random ranking."""
    ax = axes(ax, (6.0, 4.5))
    for name, (y, score) in curves.items():
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y, score):.3f})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    ax.set_title("ROC over the backtest folds")
    ax.set_xlabel("false positive rate (share of stayers flagged)")
    ax.set_ylabel("true positive rate (share of churners flagged)")
    ax.legend(loc="lower right")
    return ax


def _gains(y, score):
    order = np.lexsort((np.arange(len(score)), -np.asarray(score)))
    found = np.concatenate([[0], np.cumsum(np.asarray(y)[order])])
    return np.arange(len(found)) / len(y), found / max(found[-1], 1)


def plot_lift(curves: dict, ax=None):
    """Cumulative gains: share of churners reached against share of customers contacted,
    riskiest first."""
    ax = axes(ax, (6.0, 4.5))
    for name, (y, score) in curves.items():
        x, g = _gains(y, score)
        ax.plot(100 * x, 100 * g, label=name)
    ax.plot([0, 100], [0, 100], linestyle=":", color="grey", label="random")
    ax.axvline(10, color="grey", linewidth=0.6)
    ax.set_title("Churners reached when calling the riskiest first")
    ax.set_xlabel("customers contacted (%)")
    ax.set_ylabel("churners reached (%)")
    ax.legend(loc="lower right")
    return ax


def plot_calibration(curves: dict, n_bins: int = 10, ax=None):
    """Observed churn rate against mean predicted probability per quantile bin, per model."""
    ax = axes(ax, (6.0, 4.5))
    top = 0.0
    for name, (y, p) in curves.items():
        observed, predicted = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
        ax.plot(100 * predicted, 100 * observed, marker="o", label=name)
        top = max(top, observed.max(), predicted.max())
    ax.plot([0, 100 * top], [0, 100 * top], linestyle=":", color="grey", label="perfect calibration")
    ax.set_title("Calibration: predicted against observed churn")
    ax.set_xlabel("mean predicted probability of churn (%)")
    ax.set_ylabel("observed churn rate (%)")
    ax.legend(loc="upper left")
    return ax


def plot_survival_by_group(survival: pd.DataFrame, ax=None, title: str | None = None):
    """One survival curve per column of ``survival`` (index: days after the as-of date)."""
    ax = axes(ax, (6.0, 4.5))
    for name in survival.columns:
        ax.plot(survival.index, 100 * survival[name], label=str(name))
    ax.set_title(title or "Expected share of today's customers still with us")
    ax.set_xlabel("days after the as-of date")
    ax.set_ylabel("customers retained (%)")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_profit_curve(frame: pd.DataFrame, ax=None):
    """Expected profit per customer against the share targeted (from ``metrics.profit_curve``)."""
    ax = axes(ax, (6.0, 4.5))
    ax.plot(100 * frame["fraction_targeted"], frame["profit_per_customer"])
    best = frame["profit_per_customer"].idxmax()
    ax.axvline(100 * frame.loc[best, "fraction_targeted"], color="grey", linestyle=":")
    ax.set_title("Profit of a retention campaign by share contacted")
    ax.set_xlabel("customers contacted, riskiest first (%)")
    ax.set_ylabel("expected profit per customer")
    return ax

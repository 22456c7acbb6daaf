"""Figures that judge churn models, computed the same way for every model and fold.

Ranking: ROC AUC and PR AUC (scikit-learn), lift and recall among the top share of customers.
Probabilities: Brier score (scikit-learn) and the expected calibration error. Survival:
Harrell's concordance (lifelines) and the integrated Brier score with inverse-probability-of-
censoring weights (Graf et al. 1999). Money: the expected maximum profit of a retention campaign,
EMPC (Verbraken, Verbeke & Baesens 2013, IEEE TKDE 25(5)).

Where a figure is undefined (a single class in ``y_true``, say) the functions return NaN
rather than raise, so one thin fold does not stop a backtest; inputs of the wrong shape or
probabilities outside 0..1 raise ``ValueError`` saying what came in.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import concordance_index
from scipy import stats
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

__all__ = [
    "expected_calibration_error", "lift_at", "recall_at", "expected_maximum_profit", "concordance",
    "integrated_brier_score", "classification_metrics", "survival_metrics", "profit_curve",
]


def _check(y_true, score, name: str = "y_prob", probability: bool = True, sample_weight=None):
    y = np.asarray(y_true, dtype="float64").ravel()
    s = np.asarray(score, dtype="float64").ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true has {y.size} values but {name} has {s.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must hold 0/1 labels")
    if np.isnan(s).any():
        raise ValueError(f"{name} holds {int(np.isnan(s).sum())} missing values")
    if probability and ((s < 0).any() or (s > 1).any()):
        raise ValueError(f"{name} must be probabilities in 0..1, got values from {s.min():.3g} to {s.max():.3g}")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype="float64").ravel()
    if w is not None and w.shape != y.shape:
        raise ValueError(f"sample_weight has {w.size} values, y_true {y.size}")
    return y.astype("int64"), s, w


def _both_classes(y) -> bool:
    return 0 < int(y.sum()) < len(y)


def expected_calibration_error(y_true, y_prob, n_bins: int = 10, strategy: str = "quantile",
                               sample_weight=None) -> float:
    """Weighted mean of |observed churn rate − mean predicted probability| over bins.

    ``strategy="quantile"`` bins customers into ``n_bins`` groups of (about) equal size by
    predicted probability — the right choice when most probabilities are small, as with churn;
    ``"uniform"`` uses equal-width bins on 0..1. Each bin weighs by its share of customers.
    """
    y, p, w = _check(y_true, y_prob, sample_weight=sample_weight)
    if len(y) == 0:
        return float("nan")
    w = np.ones_like(p) if w is None else w
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        bins = np.empty(len(p), dtype="int64")
        bins[order] = np.arange(len(p)) * n_bins // len(p)
    elif strategy == "uniform":
        bins = np.minimum((p * n_bins).astype("int64"), n_bins - 1)
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    total, ece = w.sum(), 0.0
    for b in np.unique(bins):
        m = bins == b
        wb = w[m].sum()
        ece += wb / total * abs(np.average(y[m], weights=w[m]) - np.average(p[m], weights=w[m]))
    return float(ece)


def _top(score, fraction: float) -> np.ndarray:
    """Mask of the ``ceil(fraction * n)`` highest scores; ties broken by position (first wins)."""
    n = len(score)
    k = max(1, math.ceil(fraction * n))
    order = np.lexsort((np.arange(n), -np.asarray(score)))
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask


def lift_at(y_true, score, fraction: float = 0.1, sample_weight=None) -> float:
    """Churn rate among the top ``fraction`` by score divided by the overall rate.

    The top is the ``ceil(fraction * n)`` highest scores; ties at the cut go to the customer
    listed first. NaN when nobody churned.
    """
    y, s, w = _check(y_true, score, "score", probability=False, sample_weight=sample_weight)
    w = np.ones_like(s) if w is None else w
    base = np.average(y, weights=w) if len(y) else 0.0
    if base == 0:
        return float("nan")
    top = _top(s, fraction)
    return float(np.average(y[top], weights=w[top]) / base)


def recall_at(y_true, score, fraction: float = 0.1, sample_weight=None) -> float:
    """Share of all churners found among the top ``fraction`` by score (ties as :func:`lift_at`)."""
    y, s, w = _check(y_true, score, "score", probability=False, sample_weight=sample_weight)
    w = np.ones_like(s) if w is None else w
    churners = (w * y).sum()
    if churners == 0:
        return float("nan")
    return float((w * y)[_top(s, fraction)].sum() / churners)


def expected_maximum_profit(y_true, y_prob, clv: float = 200.0, incentive: float = 10.0, contact: float = 1.0,
                            alpha: float = 6.0, beta: float = 14.0) -> tuple[float, float]:
    """EMPC: expected maximum profit per customer of a retention campaign, and the share to target.

    Verbraken, Verbeke & Baesens (2013). A campaign contacts the top share of customers by
    score; a contacted would-be churner accepts the incentive with probability γ ~ Beta(α, β)
    and stays, worth ``clv - incentive - contact``; a contacted loyal customer takes the
    incentive (cost ``incentive + contact``); a contacted churner who refuses costs ``contact``.
    For each γ the best cut-off on the ROC convex hull is chosen; EMPC integrates that maximum
    profit over the distribution of γ. Defaults are the paper's (CLV 200, δ = 10/200,
    φ = 1/200, α = 6, β = 14). Only the ranking matters, so any score works.

    Returns ``(empc, fraction_targeted)``, the latter the expected share contacted. NaN when
    ``y_true`` holds a single class.
    """
    y, s, _ = _check(y_true, y_prob, probability=False)
    if not _both_classes(y):
        return float("nan"), float("nan")
    pi0 = y.mean()                       # churners
    pi1 = 1 - pi0
    fpr, tpr, _ = roc_curve(y, s)
    hull = _roc_hull(fpr, tpr)
    F0, F1 = hull[:, 1], hull[:, 0]      # share of churners / non-churners targeted
    delta, phi = incentive / clv, contact / clv
    # profit at cut-off i for acceptance rate g: clv * (g(1-δ) - φ)π0F0 - clv(δ+φ)π1F1 ... per Verbraken:
    # P(t; γ) = CLV(γ(1−δ)−φ)·π0·F0(t) − CLV(δ+φ)·π1·F1(t)
    a = clv * pi0 * F0                   # multiplies (γ(1−δ) − φ)
    b = clv * (delta + phi) * pi1 * F1
    grid = np.linspace(0.0, 1.0, 2001)
    dens = stats.beta.pdf(grid, alpha, beta)
    profit = a[None, :] * (grid[:, None] * (1 - delta) - phi) - b[None, :]
    best = profit.argmax(axis=1)
    empc = float(np.trapezoid(profit[np.arange(len(grid)), best] * dens, grid))
    share = pi0 * F0[best] + pi1 * F1[best]
    fraction = float(np.trapezoid(share * dens, grid))
    return empc, fraction


def _roc_hull(fpr, tpr) -> np.ndarray:
    """Upper convex hull of the ROC points (x = fpr, y = tpr), from (0, 0) to (1, 1)."""
    points = sorted(set(zip(np.round(fpr, 15), np.round(tpr, 15))) | {(0.0, 0.0), (1.0, 1.0)})
    hull: list[tuple[float, float]] = []
    for p in points:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return np.asarray(hull)


def concordance(durations, risk, events) -> float:
    """Harrell's C: the share of comparable pairs where the customer with the higher ``risk``
    churned first (lifelines' ``concordance_index``, which wants "higher means longer", so the
    risk is negated). NaN without any churn event."""
    d = np.asarray(durations, dtype="float64")
    r = np.asarray(risk, dtype="float64")
    e = np.asarray(events, dtype="int64")
    if e.sum() == 0 or len(d) < 2:
        return float("nan")
    return float(concordance_index(d, -r, e))


def integrated_brier_score(durations_test, events_test, survival, times, durations_train=None,
                           events_train=None) -> float:
    """Integrated Brier score of survival curves, censoring handled by IPCW (Graf et al. 1999).

    Parameters
    ----------
    durations_test, events_test : observed time and churn flag of the judged customers.
    survival : (n_customers, n_times) array of predicted S(t) at ``times``.
    times : increasing time grid (within the follow-up of the test data).
    durations_train, events_train : data to estimate the censoring distribution G with a
        Kaplan–Meier fit on the censored cases (default: the test data).

    Returns the time-average of the Brier score over ``times`` (trapezoids), NaN for fewer than
    two times.
    """
    d = np.asarray(durations_test, dtype="float64")
    e = np.asarray(events_test, dtype="int64")
    S = np.asarray(survival, dtype="float64")
    t = np.asarray(times, dtype="float64")
    if S.shape != (len(d), len(t)):
        raise ValueError(f"survival must be (customers, times) = ({len(d)}, {len(t)}), got {S.shape}")
    if len(t) < 2:
        return float("nan")
    dc = d if durations_train is None else np.asarray(durations_train, dtype="float64")
    ec = e if events_train is None else np.asarray(events_train, dtype="int64")
    km = KaplanMeierFitter().fit(dc, event_observed=1 - ec)

    def G(x):
        return np.clip(km.survival_function_at_times(x).to_numpy(), 1e-8, None)

    g_at_d = G(np.maximum(d - 1e-9, 0.0))     # G(T_i-)
    scores = []
    for j, tj in enumerate(t):
        g_t = G(np.array([tj]))[0]
        died = (d <= tj) & (e == 1)
        alive = d > tj
        term = np.where(died, S[:, j] ** 2 / g_at_d, 0.0) + np.where(alive, (1 - S[:, j]) ** 2 / g_t, 0.0)
        scores.append(term.mean())
    return float(np.trapezoid(scores, t) / (t[-1] - t[0]))


def classification_metrics(y_true, y_prob, sample_weight=None, top: float = 0.1) -> dict:
    """The figures of one fold: ``n``, ``base_rate``, ``roc_auc``, ``pr_auc``, ``brier``,
    ``ece``, ``lift_top10``, ``recall_top10``, ``emp``, ``emp_fraction`` (plain floats; NaN
    where undefined, e.g. a single class)."""
    y, p, w = _check(y_true, y_prob, sample_weight=sample_weight)
    both = _both_classes(y)
    nan = float("nan")
    emp, emp_fraction = expected_maximum_profit(y, p) if both else (nan, nan)
    return {
        "n": int(len(y)),
        "base_rate": float(np.average(y, weights=w)) if len(y) else nan,
        "roc_auc": float(roc_auc_score(y, p, sample_weight=w)) if both else nan,
        "pr_auc": float(average_precision_score(y, p, sample_weight=w)) if both else nan,
        "brier": float(brier_score_loss(y, p, sample_weight=w)) if len(y) else nan,
        "ece": expected_calibration_error(y, p, sample_weight=w),
        "lift_top10": lift_at(y, p, top, w),
        "recall_top10": recall_at(y, p, top, w),
        "emp": emp,
        "emp_fraction": emp_fraction,
    }


def survival_metrics(durations, events, risk, survival=None, times=None, durations_train=None,
                     events_train=None) -> dict:
    """``concordance`` of a risk score and, given survival curves at ``times``, ``integrated_brier``."""
    out = {"concordance": concordance(durations, risk, events), "integrated_brier": float("nan")}
    if survival is not None and times is not None:
        out["integrated_brier"] = integrated_brier_score(durations, events, survival, times,
                                                         durations_train, events_train)
    return out


def profit_curve(y_true, y_prob, clv: float = 200.0, incentive: float = 10.0, contact: float = 1.0,
                 acceptance: float = 0.3) -> pd.DataFrame:
    """Expected profit per customer of contacting the top share by score, for each share.

    Contacted churners accept the incentive with probability ``acceptance`` and stay; contacted
    loyal customers cost the incentive; every contact costs ``contact``. Returns
    ``fraction_targeted``, ``profit_per_customer`` (one row per customer count, plus 0).
    """
    y, s, _ = _check(y_true, y_prob, probability=False)
    order = np.lexsort((np.arange(len(s)), -s))
    ys = y[order]
    n = len(ys)
    churners = np.concatenate([[0], np.cumsum(ys)])
    loyal = np.arange(n + 1) - churners
    profit = churners * (acceptance * (clv - incentive) - contact) - loyal * (incentive + contact)
    return pd.DataFrame({"fraction_targeted": np.arange(n + 1) / n, "profit_per_customer": profit / n})

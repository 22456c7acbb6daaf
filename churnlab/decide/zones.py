"""The zones: whom to save (Red Zone) and whom to let go gracefully (Dead Zone).

P(save) comes from :mod:`churnlab.decide.saveability`.

**Zones.** :func:`assign_zones` computes, per customer,
``expected_gain = churn_probability x p_save x value - action_cost`` and decides:

=========  ===============================================================================
red        at risk (``churn_probability`` >= the risk threshold) and expected gain > 0:
           worth an attempt to save
dead       at risk and expected gain <= 0, or marked ``not_worth_saving`` (by a rule): not
           worth the resources to resurrect — an exit interview instead
watch      below the risk threshold but at least ``watch_ratio`` of it (half by default)
healthy    below that
=========  ===============================================================================

**The risk threshold** ``zones.risk_threshold`` is a probability (``0.25``), a lift over the
base rate (``2x base_rate``: twice the mean ``churn_probability`` of the customers being zoned,
which with calibrated probabilities is the expected churn rate) or a share of customers
(``top 10%``). :func:`at_risk_backtest` measures what a choice means on the backtest's
out-of-time predictions: how many customers it flags, how many of them churned (precision),
that precision over the base rate (lift) and the share of all churners it catches (recall).
Notebook 04 prints that table for the usual choices; the default is chosen from it (README).

**Whom to call** is then decided by the expected gain, not by the zone alone: ``priority``
ranks every customer outside the Dead Zone whose expected gain is positive, highest first, so a
high-value customer below the threshold can come before a Red Zone customer with less at stake;
the rescue campaign fills each owner's weekly capacity in that order. Over five demo worlds this
allocation saves 0.93-0.99x what the best list the data allows saves in expectation, against
0.64-0.93x when only the Red and watch zones were ranked (``benchmarks/zones_worlds.py``).

**Value unknown.** Where a customer's ``value`` is missing (the data has no money column and the
settings give no constant) there is no expected gain: an at-risk customer is red unless a rule
marks it not worth saving, nobody is dead for want of a value, and ``priority`` follows the churn
probability. The reason says so.

Each decision comes with ``zone_reason`` in words, e.g. "churn risk 42% ≥ 25%; expected gain
1,830 = 42% × 35% save rate × 12,800 value − 50 cost".
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from churnlab.decide.saveability import p_save_of
from churnlab.settings import Settings, parse_risk_threshold

__all__ = ["assign_zones", "zone_frame", "zone_notes", "risk_threshold", "describe_threshold", "at_risk_backtest",
           "threshold_choices", "ZONES", "ZONE_COLUMNS", "THRESHOLD_CHOICES"]

ZONES = ("red", "dead", "watch", "healthy")
ZONE_COLUMNS = ["customer_id", "zone", "expected_gain", "p_save", "priority", "zone_reason"]

#: The thresholds :func:`threshold_choices` compares in notebook 04 (the configured one is added).
THRESHOLD_CHOICES = ("1x base_rate", "1.5x base_rate", "2x base_rate", "3x base_rate", "top 5%", "top 10%",
                     "top 20%")


def _pct(x: float) -> str:
    # one decimal where it tells something: 3.3% and 4.1% must not both read "4%"; 42% not 42.0%
    return f"{x:.1%}".replace(".0%", "%")


def _threshold_of(p: np.ndarray, setting) -> float:
    kind, x = parse_risk_threshold(setting)
    if kind == "probability":
        return x
    if not len(p):
        return 1.0
    if kind == "lift":
        return float(min(1.0, x * p.mean()))
    k = max(1, int(np.ceil(x * len(p))))   # the k-th highest: ties at the edge are all in
    return float(np.sort(p)[::-1][k - 1])


def risk_threshold(churn_probability, *, settings: Settings | None = None) -> float:
    """The churn probability from which a customer is at risk, for the customers whose
    ``churn_probability`` is given: ``settings.zones.risk_threshold`` as a probability, as a lift
    times their mean, or the probability of the last customer inside the top share."""
    p = np.asarray(churn_probability, dtype="float64")
    return _threshold_of(p, (settings or Settings()).zones.risk_threshold)


def describe_threshold(threshold: float, *, settings: Settings | None = None) -> str:
    """The threshold in words with where it comes from, e.g. "8.2% (2x the base rate)"."""
    kind, x = parse_risk_threshold((settings or Settings()).zones.risk_threshold)
    where = {"probability": "", "lift": f" ({x:g}x the base rate)" if x != 1 else " (the base rate)",
             "share": f" (the top {x:.0%})"}[kind]
    return _pct(threshold) + where


def at_risk_backtest(predictions: pd.DataFrame, risk_thresholds=None, *,
                     settings: Settings | None = None) -> pd.DataFrame:
    """What an at-risk threshold means on the backtest: per threshold, over the test folds.

    Parameters
    ----------
    predictions : the backtest's out-of-time predictions of one model (``fold``, ``score`` = its
        churn probability, ``churned`` 0/1), e.g. ``BacktestResult.predictions`` of the chosen
        classifier.
    risk_thresholds : the settings' forms to judge (default: the configured one).

    Returns
    -------
    One row per threshold with the means over the folds of ``at_risk_share`` (customers flagged),
    ``threshold`` (its probability), ``precision`` (churn rate among them), ``base_rate``,
    ``lift`` (precision / base rate) and ``recall`` (share of all churners flagged), and
    ``folds``. Precision is the share of the at-risk customers who churned within the horizon.
    """
    settings = settings or Settings()
    chosen = [settings.zones.risk_threshold] if risk_thresholds is None else list(risk_thresholds)
    rows = []
    for setting in chosen:
        figures = []
        for _, fold in predictions.groupby("fold", sort=True):
            p = fold["score"].to_numpy(dtype="float64")
            y = fold["churned"].to_numpy(dtype="float64")
            t = _threshold_of(p, setting)
            flagged = p >= t
            base = y.mean() if len(y) else np.nan
            precision = y[flagged].mean() if flagged.any() else np.nan
            figures.append((flagged.mean(), t, precision, base, precision / base if base else np.nan,
                            y[flagged].sum() / y.sum() if y.sum() else np.nan))
        mean = np.nanmean(np.array(figures, dtype="float64"), axis=0) if figures else [np.nan] * 6
        rows.append({"risk_threshold": str(setting), "at_risk_share": mean[0], "threshold": mean[1],
                     "precision": mean[2], "base_rate": mean[3], "lift": mean[4], "recall": mean[5],
                     "folds": len(figures)})
    return pd.DataFrame(rows)


def threshold_choices(predictions: pd.DataFrame, *, settings: Settings | None = None) -> pd.DataFrame:
    """:func:`at_risk_backtest` for :data:`THRESHOLD_CHOICES` and the configured threshold, with
    ``configured`` marking the latter: the table notebook 04 shows to choose from."""
    settings = settings or Settings()
    mine = str(settings.zones.risk_threshold)
    forms = list(THRESHOLD_CHOICES)
    if all(parse_risk_threshold(f) != parse_risk_threshold(mine) for f in forms):
        forms.append(mine)
    out = at_risk_backtest(predictions, forms, settings=settings)
    out["configured"] = [parse_risk_threshold(f) == parse_risk_threshold(mine) for f in forms]
    return out


def _money(x: float) -> str:
    return f"{x:,.0f}"


def assign_zones(frame: pd.DataFrame, rates: pd.DataFrame | None = None, *,
                 settings: Settings | None = None) -> pd.DataFrame:
    """Red, dead, watch or healthy for each customer, with the expected gain and the reason.

    Parameters
    ----------
    frame : one row per customer: ``customer_id``, ``churn_probability``, ``value`` (missing
        where unknown); optional ``p_save`` (used as given), ``not_worth_saving`` (bool, from
        explicit rules) and the segment column of ``rates`` (``segment``, ``plan`` or
        ``company_size``).
    settings : run settings (``settings.zones``: thresholds, action cost, prior).
    rates : from :func:`save_rates`; without it (and without a ``p_save`` column) every customer
        gets the prior mean ``prior_save_rate``.

    Returns
    -------
    DataFrame in the order of ``frame`` with :data:`ZONE_COLUMNS`: ``customer_id``, ``zone``,
    ``expected_gain`` (churn_probability x p_save x value - action_cost; missing where the value
    is), ``p_save``, ``priority`` (1 = contact first: every customer outside the Dead Zone with a
    positive expected gain, by gain then customer_id; red customers of unknown value by churn
    probability after them; else missing) and ``zone_reason`` in words.
    """
    settings = settings or Settings()
    zs = settings.zones
    need = [c for c in ("customer_id", "churn_probability", "value") if c not in frame.columns]
    if need:
        raise ValueError(f"assign_zones: the frame lacks {', '.join(need)} "
                         "(join the model scores and customer_value on customer_id first)")
    p = pd.to_numeric(frame["churn_probability"], errors="coerce").to_numpy(dtype="float64")
    value = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype="float64")
    if np.isnan(p).any():
        bad = frame.loc[np.isnan(p), "customer_id"].head(3).tolist()
        raise ValueError(f"assign_zones: churn_probability is missing for {int(np.isnan(p).sum())} customers "
                         f"(e.g. {', '.join(map(str, bad))})")
    if "p_save" in frame.columns:
        p_save = pd.to_numeric(frame["p_save"], errors="coerce").fillna(zs.prior_save_rate).to_numpy(dtype="float64")
    elif rates is not None:
        p_save = p_save_of(frame, rates)
    else:
        p_save = np.full(len(frame), zs.prior_save_rate)
    not_worth = (frame["not_worth_saving"].fillna(False).astype(bool).to_numpy()
                 if "not_worth_saving" in frame.columns else np.zeros(len(frame), dtype=bool))

    cost = zs.action_cost
    gain = p * p_save * value - cost          # NaN where the value is unknown
    known = ~np.isnan(value)
    threshold = risk_threshold(p, settings=settings)
    watch = zs.watch_ratio * threshold
    at_risk = p >= threshold
    zone = np.select([at_risk & ~not_worth & (~known | (gain > 0)), at_risk, p >= watch],
                     ["red", "dead", "watch"], default="healthy").astype(object)

    risk_t = describe_threshold(threshold, settings=settings)
    watch_t = _pct(watch)
    reasons = []
    for pi, si, vi, gi, zi, nw in zip(p, p_save, value, gain, zone, not_worth):
        if zi in ("red", "dead"):
            head = f"churn risk {_pct(pi)} ≥ {risk_t}"
            if np.isnan(vi):
                sum_ = "value unknown: zoned by risk alone"
            else:
                sum_ = (f"expected gain {_money(gi)} = {_pct(pi)} × {_pct(si)} save rate × {_money(vi)} value "
                        f"− {_money(cost)} cost")
            if nw:
                reasons.append(f"{head}; marked not worth saving by a rule ({sum_})")
            elif zi == "red":
                reasons.append(f"{head}; {sum_}")
            else:
                reasons.append(f"{head}; {sum_} ≤ 0: saving costs more than it is expected to bring")
        else:
            gain_t = f"; expected gain {_money(gi)}" if not np.isnan(gi) and gi > 0 else ""
            if zi == "watch":
                reasons.append(f"churn risk {_pct(pi)} below {risk_t} but ≥ {watch_t}: watch{gain_t}")
            else:
                reasons.append(f"churn risk {_pct(pi)} < {watch_t}{gain_t}")

    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(), "zone": zone, "expected_gain": gain,
                        "p_save": p_save, "zone_reason": reasons})
    worth = out[(out["zone"] != "dead") & (out["expected_gain"] > 0)].sort_values(
        ["expected_gain", "customer_id"], ascending=[False, True], kind="stable")
    unknown = out[(out["zone"] == "red") & ~known].assign(_p=p[(out["zone"] == "red").to_numpy() & ~known])
    unknown = unknown.sort_values(["_p", "customer_id"], ascending=[False, True], kind="stable")
    order = [*worth.index, *unknown.index]
    out["priority"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out.loc[order, "priority"] = np.arange(1, len(order) + 1)
    return out[ZONE_COLUMNS]


def zone_notes(table: pd.DataFrame, *, settings: Settings | None = None) -> list[str]:
    """What a reader must know about this run's zones, in sentences (notebook 04, the index page).

    ``table``: :func:`zone_frame`'s output joined with :func:`assign_zones`' (``churn_probability``,
    ``value``, ``zone``, ``p_save``). Says when the value is unknown (zones by risk alone), and when
    most at-risk customers are dead because one action costs more than a save is worth for
    nearly anyone here: then ``zones.action_cost`` is probably not this business's.
    """
    zs = (settings or Settings()).zones
    notes = []
    value = pd.to_numeric(table["value"], errors="coerce")
    at_risk = table["zone"].isin(["red", "dead"])
    if len(table) and value.isna().all():
        notes.append("the value of every customer is unknown (no subscriptions, no money column, no value.constant): "
                     "the zones follow the churn risk alone; name a money column (value.money) or a value "
                     "(value.constant) to weigh what is at stake")
    dead = table["zone"] == "dead"
    if at_risk.sum() and dead.sum() >= 0.8 * at_risk.sum() and value.notna().any():
        best = float((table["churn_probability"] * table["p_save"] * value)[at_risk].max())
        notes.append(f"{int(dead.sum()):,} of the {int(at_risk.sum()):,} at-risk customers are in the Dead Zone: one "
                     f"retention action costs {zs.action_cost:,.0f} (zones.action_cost) and the most any of them is "
                     f"expected to bring back is {best:,.0f} (churn risk × save rate × value); if a contact costs "
                     "less here, set zones.action_cost to what it costs")
    return notes


def zone_frame(scores: pd.DataFrame, value: pd.DataFrame, features: pd.DataFrame,
               flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """The input of :func:`assign_zones`, joined on ``customer_id`` in the order of ``scores``.

    ``churn_probability`` from the model scores; ``arr`` and ``value`` from
    :func:`churnlab.decide.value.customer_value`; the segment columns ``plan`` and ``company_size`` from
    the features when present; ``segment`` and ``not_worth_saving`` from ``flags`` (e.g. the
    rules' output) when given.
    """
    frame = scores[["customer_id", "churn_probability"]].merge(
        value[["customer_id", "arr", "value"]], on="customer_id", how="left", validate="one_to_one")
    extra = [c for c in ("plan", "company_size") if c in features.columns]
    if extra:
        frame = frame.merge(features[["customer_id", *extra]], on="customer_id", how="left", validate="one_to_one")
    if flags is not None:
        keep = [c for c in ("segment", "not_worth_saving") if c in flags.columns]
        frame = frame.merge(flags[["customer_id", *keep]], on="customer_id", how="left", validate="one_to_one")
    return frame

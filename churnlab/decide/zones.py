"""The zones: whom to save (Red Zone) and whom to let go gracefully (Dead Zone).

P(save) comes from :mod:`churnlab.decide.saveability`.

**Zones.** :func:`assign_zones` computes, per customer,
``expected_gain = churn_probability x p_save x value - action_cost`` and decides:

=========  ===============================================================================
red        at risk (``churn_probability`` >= the risk threshold) and expected gain > 0:
           worth an attempt to save, contacted in ``priority`` order (highest gain first)
dead       at risk and expected gain <= 0, or marked ``not_worth_saving`` (by a rule): not
           worth the resources to resurrect — an exit interview instead
watch      below the risk threshold but at least ``watch_ratio`` of it (half by default)
healthy    below that
=========  ===============================================================================

The risk threshold ``risk_threshold`` is a probability, or ``base_rate`` (the default): the mean
``churn_probability`` of the customers being zoned, so "at risk" means more likely to leave
within the horizon than the average customer. With calibrated probabilities that mean is the
expected churn rate; a fixed probability would put almost nobody at risk in a base with little
churn, and almost everybody in one with a lot. Whom to call is then decided by the expected
gain, which weighs the risk against what is at stake and the cost of trying.

Each decision comes with ``zone_reason`` in words, e.g. "churn risk 42% ≥ 25%; expected gain
1,830 = 42% × 35% save rate × 12,800 value − 50 cost".
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from churnlab.decide.saveability import p_save_of
from churnlab.settings import Settings

__all__ = ["assign_zones", "zone_frame", "risk_threshold", "ZONES", "ZONE_COLUMNS"]

ZONES = ("red", "dead", "watch", "healthy")
ZONE_COLUMNS = ["customer_id", "zone", "expected_gain", "p_save", "priority", "zone_reason"]


def _pct(x: float) -> str:
    # one decimal where it tells something: 3.3% and 4.1% must not both read "4%"; 42% not 42.0%
    return f"{x:.1%}".replace(".0%", "%")


def risk_threshold(churn_probability, *, settings: Settings | None = None) -> float:
    """The churn probability from which a customer is at risk: ``settings.zones.risk_threshold``,
    or with ``base_rate`` the mean of ``churn_probability`` (the customers being zoned)."""
    zs = (settings or Settings()).zones
    if zs.risk_threshold == "base_rate":
        p = np.asarray(churn_probability, dtype="float64")
        return float(p.mean()) if len(p) else 1.0
    return float(zs.risk_threshold)


def _money(x: float) -> str:
    return f"{x:,.0f}"


def assign_zones(frame: pd.DataFrame, rates: pd.DataFrame | None = None, *,
                 settings: Settings | None = None) -> pd.DataFrame:
    """Red, dead, watch or healthy for each customer, with the expected gain and the reason.

    Parameters
    ----------
    frame : one row per customer: ``customer_id``, ``churn_probability``, ``value``; optional
        ``p_save`` (used as given), ``not_worth_saving`` (bool, from explicit rules) and the
        segment column of ``rates`` (``segment``, ``plan`` or ``company_size``).
    settings : run settings (``settings.zones``: thresholds, action cost, prior).
    rates : from :func:`save_rates`; without it (and without a ``p_save`` column) every customer
        gets the prior mean ``prior_save_rate``.

    Returns
    -------
    DataFrame in the order of ``frame`` with :data:`ZONE_COLUMNS`: ``customer_id``, ``zone``,
    ``expected_gain`` (churn_probability x p_save x value - action_cost), ``p_save``,
    ``priority`` (1 = contact first; Red Zone only, by expected gain then customer_id, else
    missing) and ``zone_reason`` in words.
    """
    settings = settings or Settings()
    zs = settings.zones
    need = [c for c in ("customer_id", "churn_probability", "value") if c not in frame.columns]
    if need:
        raise ValueError(f"assign_zones: the frame lacks {', '.join(need)} "
                         "(join the model scores and customer_value on customer_id first)")
    p = pd.to_numeric(frame["churn_probability"], errors="coerce").to_numpy(dtype="float64")
    value = pd.to_numeric(frame["value"], errors="coerce").fillna(0.0).to_numpy(dtype="float64")
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
    gain = p * p_save * value - cost
    threshold = risk_threshold(p, settings=settings)
    watch = zs.watch_ratio * threshold
    at_risk = p >= threshold
    zone = np.select([at_risk & ~not_worth & (gain > 0), at_risk, p >= watch],
                     ["red", "dead", "watch"], default="healthy").astype(object)

    risk_t = _pct(threshold) + (" (the base rate)" if zs.risk_threshold == "base_rate" else "")
    watch_t = _pct(watch)
    reasons = []
    for pi, si, vi, gi, zi, nw in zip(p, p_save, value, gain, zone, not_worth):
        if zi in ("red", "dead"):
            head = f"churn risk {_pct(pi)} ≥ {risk_t}"
            sum_ = (f"expected gain {_money(gi)} = {_pct(pi)} × {_pct(si)} save rate × {_money(vi)} value "
                    f"− {_money(cost)} cost")
            if nw:
                reasons.append(f"{head}; marked not worth saving by a rule ({sum_})")
            elif zi == "red":
                reasons.append(f"{head}; {sum_}")
            else:
                reasons.append(f"{head}; {sum_} ≤ 0: saving costs more than it is expected to bring")
        elif zi == "watch":
            reasons.append(f"churn risk {_pct(pi)} below {risk_t} but ≥ {watch_t}: watch")
        else:
            reasons.append(f"churn risk {_pct(pi)} < {watch_t}")

    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(), "zone": zone, "expected_gain": gain,
                        "p_save": p_save, "zone_reason": reasons})
    red = out[out["zone"] == "red"].sort_values(["expected_gain", "customer_id"], ascending=[False, True],
                                                kind="stable")
    out["priority"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out.loc[red.index, "priority"] = np.arange(1, len(red) + 1)
    return out[ZONE_COLUMNS]


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

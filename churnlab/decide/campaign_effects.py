"""What each campaign did: contacted customers against their control group (issue 21 item 3).

Each run holds a seeded random share of every reactive campaign's rows (those that fit the
week's capacity, listed for the first time) out of the lists (:func:`churnlab.decide.campaigns.plan_campaigns`, ``campaigns.holdout_share``;
``holdouts.csv``). Once a customer's horizon has passed, :func:`campaign_effects` compares,
per campaign, the customers its list contacted (first listed on day d) with those it held out
(first held out on day d): the share still a customer ``horizon_days`` after d (no churn_date on
or before d + horizon). The uplift is the difference, with an Agresti-Caffo interval (each
share computed with one success and one failure added, which keeps the interval honest for
small groups and shares near 0 or 1). Only customers whose d + horizon is on or before the
as-of date are judged.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["campaign_effects", "EFFECT_COLUMNS"]

EFFECT_COLUMNS = ["campaign", "contacted", "contacted_retained", "held_out", "held_out_retained",
                  "retention_contacted", "retention_held_out", "uplift", "uplift_low", "uplift_high",
                  "first_day", "last_day"]


def campaign_effects(history: pd.DataFrame, customers: pd.DataFrame, as_of, horizon_days: int,
                     campaigns: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """One row per campaign with judged contacted and held-out customers (:data:`EFFECT_COLUMNS`).

    Parameters
    ----------
    history : a contact history (:func:`churnlab.report.history.contact_history`): rows of kind
        ``listed`` (list ``reactive``) and ``held_out``, with ``customer_id``, ``campaign``, ``on``.
    customers : ``customer_id`` and ``churn_date`` (missing: still a customer).
    as_of : this run's date.
    horizon_days : how long after first contact (or hold-out) a customer must stay to count as
        retained.
    campaigns : the campaigns to measure (default: those with held-out customers).
    """
    as_of = pd.Timestamp(as_of).date()
    rows = history[(history["kind"] == "held_out")
                   | ((history["kind"] == "listed") & (history["list"] == "reactive"))].copy()
    if campaigns is None:
        campaigns = sorted(set(rows.loc[rows["kind"] == "held_out", "campaign"]))
    rows = rows[rows["campaign"].isin(campaigns)]
    if not len(rows):
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    rows["group"] = np.where(rows["kind"] == "held_out", "held_out", "contacted")
    # each customer counts once per campaign, in the group and on the day it first entered
    rows = rows.sort_values("on", kind="stable").drop_duplicates(["campaign", "customer_id"])
    rows = rows[[isinstance(d, date) and (as_of - d).days >= horizon_days for d in rows["on"]]]
    churn = pd.to_datetime(customers.set_index(customers["customer_id"].astype(str))["churn_date"])
    left = pd.to_datetime(rows["customer_id"].astype(str).map(churn))
    until = pd.to_datetime(rows["on"]) + pd.Timedelta(days=horizon_days)
    rows["retained"] = (left.isna() | (left > until)).to_numpy()
    z = float(norm.ppf(0.5 + level / 2))
    out = []
    for camp, part in rows.groupby("campaign", sort=True):
        t, c = part[part["group"] == "contacted"], part[part["group"] == "held_out"]
        if not len(t) or not len(c):
            continue
        n1, y1, n0, y0 = len(t), int(t["retained"].sum()), len(c), int(c["retained"].sum())
        p1, p0 = (y1 + 1) / (n1 + 2), (y0 + 1) / (n0 + 2)
        half = z * np.sqrt(p1 * (1 - p1) / (n1 + 2) + p0 * (1 - p0) / (n0 + 2))
        out.append({"campaign": camp, "contacted": n1, "contacted_retained": y1, "held_out": n0,
                    "held_out_retained": y0, "retention_contacted": y1 / n1, "retention_held_out": y0 / n0,
                    "uplift": y1 / n1 - y0 / n0, "uplift_low": p1 - p0 - half, "uplift_high": p1 - p0 + half,
                    "first_day": min(part["on"]), "last_day": max(part["on"])})
    return pd.DataFrame(out, columns=EFFECT_COLUMNS)

"""Contact memory: whom earlier runs listed, what they could not fit, what the team did.

A run plans its lists knowing what came before (:func:`churnlab.decide.campaigns.plan_campaigns`
reads the frame :func:`contact_history` returns):

* ``listed``: every row of ``targets/<list>.csv`` of each earlier run in the same reports folder
  (dated ``YYYY-MM-DD`` before this run's as-of date), on that run's date. A listed row counts
  as a contact: the lists are worked, and what is not worked in its week is the backlog's job.
* ``carried``: the rows of the latest earlier run's ``targets/backlog.csv`` (due, but over an
  owner's weekly capacity), with every target column, so they come back first with their first
  due date.
* ``intervention``: each row of the ``interventions`` table up to the as-of date (its ``ts``
  date), under its ``campaign`` (a ``held_out`` row of the table is no contact: it is left out).
* ``held_out``: every row of ``holdouts.csv`` of each earlier run (the control groups), on the
  day the customer was first held out (``held_out_on``).

:func:`churned_since` gives the customers who left since the previous run, for exit interviews;
:func:`lapsed_since` the customers who stopped buying since then (churn by inactivity), for a
win-back offer: they did not end anything and may come back, so they are not asked why they left.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from churnlab.decide.campaigns import HISTORY_COLUMNS, LISTS
from churnlab.decide.changes import previous_run
from churnlab.report.overview import earlier_runs

__all__ = [
    "contact_history", "churned_since", "lapsed_since", "plan_of", "BACKLOG", "EXPIRED", "HOLDOUTS",
]

#: The control groups of a run, in its folder.
HOLDOUTS = "holdouts.csv"

#: The backlog of a run: rows due but over capacity, under ``targets/``.
BACKLOG = "backlog.csv"
#: The rows of a run that waited too long and expired, under ``targets/``.
EXPIRED = "expired.csv"


def contact_history(reports: str | Path | None, as_of, interventions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every earlier contact a run should know of, one row each (:data:`HISTORY_COLUMNS`, and for
    ``carried`` rows every target column too).

    Parameters
    ----------
    reports : the reports folder of the runs (its dated sub-folders are read); None: none.
    as_of : this run's date: only runs before it and interventions up to it count.
    interventions : the contract's ``interventions`` table (``customer_id``, ``ts``,
        ``campaign``), or None.
    """
    as_of = pd.Timestamp(as_of).date()
    parts = []
    for run in (earlier_runs(reports, as_of) if reports is not None else []):
        if (run / HOLDOUTS).is_file():
            rows = pd.read_csv(run / HOLDOUTS, dtype={"customer_id": str})
            if len(rows):
                on = pd.to_datetime(rows["held_out_on"]).dt.date
                parts.append(rows[["customer_id", "campaign"]].assign(on=on, kind="held_out", list=""))
    runs = [r for r in earlier_runs(reports, as_of) if (r / "targets").is_dir()] if reports is not None else []
    for run in runs:
        day = date.fromisoformat(run.name)
        for name in LISTS:
            path = run / "targets" / f"{name}.csv"
            if path.is_file():
                rows = pd.read_csv(path, dtype={"customer_id": str})
                if len(rows):
                    parts.append(rows.assign(list=name, on=day, kind="listed"))
    if runs and (runs[-1] / "targets" / BACKLOG).is_file():
        rows = pd.read_csv(runs[-1] / "targets" / BACKLOG, dtype={"customer_id": str})
        if len(rows):
            parts.append(rows.assign(on=date.fromisoformat(runs[-1].name), kind="carried"))
    if interventions is not None and len(interventions):
        acts = interventions[["customer_id", "ts", "campaign"]].copy()
        if "outcome" in interventions:
            acts = acts[(interventions["outcome"] != "held_out").to_numpy()]
        ts = pd.to_datetime(acts["ts"], utc=True).dt.tz_localize(None)
        acts = acts[ts.dt.date <= as_of].assign(on=ts.dt.date, kind="intervention", list="")
        parts.append(acts.drop(columns="ts").astype({"customer_id": str}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in HISTORY_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    for col in HISTORY_COLUMNS:
        if col not in out:
            out[col] = None
    return out[HISTORY_COLUMNS + [c for c in out.columns if c not in HISTORY_COLUMNS]]


def plan_of(folder: str | Path):
    """The :class:`churnlab.decide.campaigns.CampaignPlan` a run wrote into ``folder/targets/``
    (lists, backlog, expired), or None when it wrote no lists."""
    from churnlab.decide.campaigns import CampaignPlan

    targets = Path(folder) / "targets"
    if not (targets / "reactive.csv").is_file():
        return None

    def read(name: str) -> pd.DataFrame | None:
        path = targets / name
        return pd.read_csv(path, dtype={"customer_id": str}) if path.is_file() else None

    lists = {name: read(f"{name}.csv") for name in LISTS}
    return CampaignPlan(lists["proactive"], lists["reactive"], lists["exit_interviews"],
                        pd.DataFrame(columns=["campaign", "reason"]), read(BACKLOG), read(EXPIRED))


def churned_since(customers: pd.DataFrame, reports: str | Path | None, as_of, days: int = 7) -> pd.DataFrame:
    """The customers whose ``churn_date`` falls after the previous run in ``reports`` (or in the
    ``days`` before ``as_of`` when there is none) and on or before ``as_of``.

    ``reasons`` gives whoever makes the exit call something to start from: the reason recorded
    when they left (``churn_reason``, "said: ..."), and what the previous run saw in them (its zone,
    churn probability and reasons, from its ``scores.csv``); empty when neither is known.
    """
    as_of = pd.Timestamp(as_of)
    before = previous_run(reports, as_of.date()) if reports is not None else None
    start = pd.Timestamp(before.name) if before is not None else as_of - pd.Timedelta(days=days)
    when = pd.to_datetime(customers["churn_date"], errors="coerce")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    keep = when.notna() & (when > start) & (when <= as_of)
    cols = [c for c in ("customer_id", "name", "owner", "preferred_channel", "churn_date", "churn_reason")
            if c in customers]
    out = customers.loc[keep, cols].assign(churn_date=when[keep].dt.date).reset_index(drop=True)
    said = (out["churn_reason"].astype("object").where(out["churn_reason"].notna(), "")
            if "churn_reason" in out else pd.Series("", index=out.index))
    seen = _last_seen(before, out["customer_id"].astype(str))
    out["reasons"] = ["; ".join(p for p in (f"said: {str(r).strip()}" if str(r).strip() else "", s) if p)
                      for r, s in zip(said, seen)]
    return out


def _last_seen(run: Path | None, ids: pd.Series) -> list[str]:
    """What the run folder ``run`` said of each customer in ``ids`` ("on 2026-06-23: red zone, 41%
    likely to leave: ..."), or "" when it did not score them (or there is no such run)."""
    path = run / "scores.csv" if run is not None else None
    if path is None or not path.exists() or not len(ids):
        return [""] * len(ids)
    cols = ["customer_id", "zone", "churn_probability", "reasons"]
    scores = pd.read_csv(path, dtype={"customer_id": str}, usecols=lambda c: c in cols)
    scores = scores.drop_duplicates("customer_id").set_index("customer_id")
    out = []
    for cid in ids:
        if cid not in scores.index:
            out.append("")
            continue
        row = scores.loc[cid]
        zone = f"{row['zone']} zone" if "zone" in row and pd.notna(row["zone"]) else ""
        prob = (f"{row['churn_probability']:.0%} likely to leave"
                if "churn_probability" in row and pd.notna(row["churn_probability"]) else "")
        why = str(row["reasons"]) if "reasons" in row and pd.notna(row["reasons"]) else ""
        said = ": ".join(p for p in (", ".join(p for p in (zone, prob) if p), why) if p)
        out.append(f"on {run.name}: {said}" if said else "")
    return out


def lapsed_since(episodes: pd.DataFrame, previous: Path | None, as_of, days: int = 7) -> pd.DataFrame:
    """The customers whose latest active spell lapsed after the previous run (the folder
    ``previous``, dated by its name; without one, in the ``days`` before ``as_of``) and on or
    before ``as_of``: they stopped buying and have not come back.

    ``episodes``: :func:`churnlab.features.engine.activity_episodes` at ``as_of`` (customer_id,
    start, lapse). Returns customer_id and lapsed_on (a date), the latest lapse first.
    """
    as_of = pd.Timestamp(as_of).normalize()
    start = pd.Timestamp(previous.name) if previous is not None else as_of - pd.Timedelta(days=days)
    latest = episodes.sort_values(["customer_id", "start"], kind="stable").groupby("customer_id").tail(1)
    lapse = pd.to_datetime(latest["lapse"])
    keep = lapse.notna() & (lapse > start) & (lapse <= as_of)
    out = pd.DataFrame({"customer_id": latest.loc[keep, "customer_id"].astype(str).to_numpy(),
                        "lapsed_on": lapse[keep].dt.date.to_numpy()})
    return out.sort_values(["lapsed_on", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)

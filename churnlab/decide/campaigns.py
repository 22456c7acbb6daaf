"""Campaign target lists: who to contact this week, how, by whom, and with what leeway.

Three lists come out of :func:`plan_campaigns`, each one row per customer per campaign with the
columns of ``docs/run-outputs.md`` (:data:`TARGET_COLUMNS`), ordered by priority:

* **proactive** — regular, by segment: a campaign is due for a customer when the last touch of
  its kind (a feature such as ``days_since_success_touch``) is older than the cadence set for the
  customer's value tier, or was never made. Welcome calls, status calls, satisfaction polls and
  invitations ship as defaults (``CampaignSettings``). A customer gets at most one proactive
  touch per run, the first due in settings order; the next run brings the next one.
* **reactive** — on the symptoms and alerts the rules triggered in this run: the first reactive
  campaign (settings order is priority order) whose trigger matches gets the customer, so nobody
  is in two reactive campaigns at once. Red Zone customers without a matching symptom get the
  rescue campaign. Each row carries the **compensation cap** agreed in advance for the customer's
  value tier: the list says the cap, the conversation decides. Rows are planned in priority order
  (critical alerts first, then expected gain of acting) within a weekly capacity per owner; what
  does not fit this week is due a week later, never dropped.
* **exit interviews** — Dead Zone customers, likeliest to leave first: a conversation to learn
  why they leave and part on good terms, with no compensation.

The channel is the customer's preferred one when the value tier allows it (a meeting is not
offered to every small account), else the tier's first channel. The owner is the customer's
account owner, or the team named in the settings when there is none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from churnlab.settings import CampaignSettings, Settings

__all__ = ["plan_campaigns", "campaign_frame", "triggered_since", "CampaignPlan", "TARGET_COLUMNS"]

#: Columns of every target list (docs/run-outputs.md).
TARGET_COLUMNS = ["customer_id", "name", "owner", "zone", "campaign", "action", "channel", "due_date",
                  "compensation_cap", "value", "churn_probability", "reasons"]


@dataclass(frozen=True)
class CampaignPlan:
    """The three target lists, and the campaigns that could not run with their reason."""

    proactive: pd.DataFrame
    reactive: pd.DataFrame
    exit_interviews: pd.DataFrame
    skipped: pd.DataFrame

    def lists(self) -> dict[str, pd.DataFrame]:
        """The lists by file name (``proactive``, ``reactive``, ``exit_interviews``)."""
        return {"proactive": self.proactive, "reactive": self.reactive, "exit_interviews": self.exit_interviews}

    def summary(self) -> pd.DataFrame:
        """Rows and customers per list and campaign."""
        rows = [(name, camp, len(g), g["customer_id"].nunique())
                for name, frame in self.lists().items() for camp, g in frame.groupby("campaign", sort=False)]
        return pd.DataFrame(rows, columns=["list", "campaign", "rows", "customers"])


def plan_campaigns(scored: pd.DataFrame, as_of: str | date, *,
                   settings: Settings | CampaignSettings | None = None) -> CampaignPlan:
    """Plan this run's campaigns for every active customer of ``scored``.

    Parameters
    ----------
    scored : one row per active customer with ``customer_id``, ``zone``, ``value``, ``value_tier``,
        ``churn_probability`` and ``reasons``; optional ``name``, ``owner``,
        ``preferred_channel``, ``expected_gain``, ``symptoms`` and ``alerts`` (``;``-separated
        names of fired rules), ``critical`` (bool) and the features that proactive campaigns
        read (``tenure_days``, ``days_since_success_touch``, ...).
    as_of : the run's date; due dates count from it.
    settings : run settings, or their campaigns section (defaults when None).

    Returns
    -------
    :class:`CampaignPlan`.
    """
    settings = settings.campaigns if isinstance(settings, Settings) else settings or CampaignSettings()
    as_of = pd.Timestamp(as_of).date()
    missing = [c for c in ("customer_id", "zone", "value", "value_tier", "churn_probability") if c not in scored]
    if missing:
        raise ValueError(f"plan_campaigns needs the columns {', '.join(missing)} (from value, segments and zones)")
    frame = scored.copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    for col, default in (("name", ""), ("reasons", ""), ("symptoms", ""), ("alerts", "")):
        frame[col] = frame[col].fillna(default).astype(str) if col in frame else default
    frame["owner"] = (frame["owner"].astype("object").where(frame["owner"].notna(), settings.default_owner)
                      if "owner" in frame else settings.default_owner)
    frame["channel"] = _channels(frame, settings)
    skipped: list[tuple[str, str]] = []
    proactive = _proactive(frame, as_of, settings, skipped)
    reactive = _reactive(frame, as_of, settings)
    exits = _exit_interviews(frame, as_of, settings)
    return CampaignPlan(proactive, reactive, exits, pd.DataFrame(skipped, columns=["campaign", "reason"]))


def _names(text: pd.Series) -> pd.Series:
    return text.fillna("").astype(str).map(lambda s: [x for x in s.split(";") if x])


def triggered_since(now: pd.DataFrame, before: pd.DataFrame | None, ruleset=None) -> pd.DataFrame:
    """The rules that fired in this run but not in the previous one, per customer.

    ``now``/``before``: results of :func:`churnlab.decide.rules.evaluate_rules` for this run and for
    the previous run's date (``None``: everything that fired now is new). A standing risk factor
    that fired last week too is not a new trigger: reactive campaigns act on what changed.
    ``ruleset`` (:class:`churnlab.decide.rules.RuleSet`) says which rules are critical.

    Returns ``customer_id``, ``symptoms`` and ``alerts`` (``;``-separated, new ones only, in
    the order of ``now``) and ``critical`` (a new critical rule fired).
    """
    old_s = old_a = {}
    if before is not None:
        b = before.astype({"customer_id": str})
        old_s = dict(zip(b["customer_id"], _names(b["symptoms"]).map(set)))
        old_a = dict(zip(b["customer_id"], _names(b["alerts"]).map(set)))
    ids = now["customer_id"].astype(str)
    sym = [";".join(n for n in names if n not in old_s.get(c, ())) for c, names in zip(ids, _names(now["symptoms"]))]
    alr = [";".join(n for n in names if n not in old_a.get(c, ())) for c, names in zip(ids, _names(now["alerts"]))]
    out = pd.DataFrame({"customer_id": ids.to_numpy(), "symptoms": sym, "alerts": alr})
    critical = {r.name for r in ruleset.rules if r.severity == "critical"} if ruleset is not None else set()
    out["critical"] = [bool(set(a.split(";")) & critical) for a in out["alerts"]]
    return out


def campaign_frame(scores: pd.DataFrame, value: pd.DataFrame, zones: pd.DataFrame, segments: pd.DataFrame,
                   features: pd.DataFrame, customers: pd.DataFrame, triggered: pd.DataFrame | None) -> pd.DataFrame:
    """The input of :func:`plan_campaigns`, one row per scored customer, joined on ``customer_id``.

    From ``scores`` the churn probability and reasons; ``value``; ``zone`` and
    ``expected_gain`` from ``zones``; ``value_tier`` and ``segment`` from ``segments``; the
    touch and tenure features proactive campaigns read; ``name``, ``owner`` and
    ``preferred_channel`` from ``customers``; the new ``symptoms``, ``alerts`` and ``critical``
    flag from ``triggered`` (:func:`triggered_since`).
    """
    def ids(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        return frame[["customer_id", *[c for c in cols if c in frame.columns]]].astype({"customer_id": str})

    out = ids(scores, ["churn_probability", "reasons"])
    out = out.merge(ids(value, ["value", "arr"]), on="customer_id", how="left", validate="one_to_one")
    out = out.merge(ids(zones, ["zone", "expected_gain", "priority", "zone_reason"]), on="customer_id", how="left",
                    validate="one_to_one")
    out = out.merge(ids(segments, ["value_tier", "segment"]), on="customer_id", how="left", validate="one_to_one")
    touch = ["tenure_days", "nps_promoter"] + [c for c in features.columns if c.startswith("days_since_")]
    out = out.merge(ids(features, touch), on="customer_id", how="left", validate="one_to_one")
    out = out.merge(ids(customers, ["name", "owner", "preferred_channel"]), on="customer_id", how="left",
                    validate="one_to_one")
    if triggered is not None:
        out = out.merge(ids(triggered, ["symptoms", "alerts", "critical"]), on="customer_id", how="left",
                        validate="one_to_one")
    return out


def _channels(frame: pd.DataFrame, settings: CampaignSettings) -> pd.Series:
    preferred = frame["preferred_channel"].astype("object") if "preferred_channel" in frame else pd.Series(
        None, index=frame.index, dtype="object")
    out = []
    for tier, pref in zip(frame["value_tier"].astype(str), preferred):
        allowed = settings.channels_by_tier.get(tier, settings.channels_by_tier.get("default", ["email"]))
        out.append(pref if isinstance(pref, str) and pref in allowed else allowed[0])
    return pd.Series(out, index=frame.index, dtype="object")


def _rows(frame: pd.DataFrame, campaign: str, action: str | pd.Series, due: pd.Series,
          cap: pd.Series | float) -> pd.DataFrame:
    out = pd.DataFrame({
        "customer_id": frame["customer_id"], "name": frame["name"], "owner": frame["owner"],
        "zone": frame["zone"], "campaign": campaign, "action": action, "channel": frame["channel"],
        "due_date": due, "compensation_cap": cap, "value": frame["value"].astype("float64"),
        "churn_probability": frame["churn_probability"].astype("float64"), "reasons": frame["reasons"],
    })
    return out[TARGET_COLUMNS]


def _proactive(frame: pd.DataFrame, as_of: date, settings: CampaignSettings, skipped: list) -> pd.DataFrame:
    pieces = []
    taken = pd.Series(False, index=frame.index)
    for camp in settings.proactive:
        need = [c for c in (camp.last_touch, *camp.requires) if c and c not in frame]
        if (camp.max_tenure_days is not None or camp.cadence_days is None) and "tenure_days" not in frame:
            need.append("tenure_days")
        if need:
            skipped.append((camp.name, f"no data for {', '.join(need)}"))
            continue
        who = frame["zone"].isin(camp.zones)
        if camp.max_tenure_days is not None:
            who &= frame["tenure_days"] <= camp.max_tenure_days
        for flag in camp.requires:
            who &= frame[flag].fillna(0).astype(bool)
        if camp.cadence_days is None:
            # once: due until the first such touch since signup
            if camp.last_touch:
                since = frame[camp.last_touch].astype("float64")
                who &= ~(since.notna() & (since < frame["tenure_days"]))
        else:
            cadence = frame["value_tier"].astype(str).map(camp.cadence_days).astype("float64")
            who &= cadence.notna()
            if camp.last_touch:
                since = frame[camp.last_touch].astype("float64")
                who &= since.isna() | (since >= cadence)
        who &= ~taken   # one proactive touch per customer per run: the first due in settings order
        taken |= who
        chosen = frame[who]
        due = pd.Series(as_of + timedelta(days=camp.due_in_days), index=chosen.index)
        pieces.append(_rows(chosen, camp.name, camp.action, due, 0.0))
    out = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=TARGET_COLUMNS)
    order = {c.name: k for k, c in enumerate(settings.proactive)}
    out["_p"] = out["campaign"].map(order)
    out = out.sort_values(["_p", "value", "customer_id"], ascending=[True, False, True], kind="stable")
    return out.drop(columns="_p").reset_index(drop=True)


def _fired(frame: pd.DataFrame) -> pd.Series:
    """The set of rule names that fired per customer (symptoms and alerts)."""
    both = frame["symptoms"].str.cat(frame["alerts"], sep=";")
    return both.map(lambda s: {x.strip() for x in s.split(";") if x.strip()})


def _reactive(frame: pd.DataFrame, as_of: date, settings: CampaignSettings) -> pd.DataFrame:
    fired = _fired(frame)
    campaign = pd.Series(None, index=frame.index, dtype="object")
    action = pd.Series(None, index=frame.index, dtype="object")
    for camp in settings.reactive:   # settings order is priority order: first match wins
        free = campaign.isna() & frame["zone"].isin(camp.zones)
        if camp.on:
            hit = fired.map(lambda names, on=frozenset(camp.on): bool(names & on))
        else:                         # a catch-all (the rescue of the Red Zone)
            hit = pd.Series(True, index=frame.index)
        take = free & hit
        campaign[take] = camp.name
        tiers = frame.loc[take, "value_tier"].astype(str)
        action[take] = tiers.map(lambda t, c=camp: c.actions_by_tier.get(t, c.action))
    chosen = frame[campaign.notna()].copy()
    if chosen.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    chosen["_campaign"], chosen["_action"] = campaign[chosen.index], action[chosen.index]
    critical = chosen["critical"].fillna(False).astype(bool) if "critical" in chosen else False
    gain = chosen["expected_gain"].astype("float64") if "expected_gain" in chosen else chosen["value"] * chosen["churn_probability"]
    chosen["_critical"], chosen["_gain"] = critical, gain.fillna(0.0)
    chosen = chosen.sort_values(["_critical", "_gain", "customer_id"], ascending=[False, False, True], kind="stable")
    # weekly capacity per owner: the k-th customer of an owner is due in week k // capacity
    slot = chosen.groupby("owner", sort=False).cumcount() // settings.weekly_capacity_per_owner
    due_days = settings.reactive_due_in_days + 7 * slot
    due = pd.Series([as_of + timedelta(days=int(d)) for d in due_days], index=chosen.index)
    caps = chosen["value_tier"].astype(str).map(settings.compensation_caps).fillna(0.0)
    out = _rows(chosen, chosen["_campaign"], chosen["_action"], due, caps)
    return out.reset_index(drop=True)


def _exit_interviews(frame: pd.DataFrame, as_of: date, settings: CampaignSettings) -> pd.DataFrame:
    # the likeliest to leave first: the interview has to happen before they are gone
    dead = frame[frame["zone"] == "dead"].sort_values(["churn_probability", "customer_id"], ascending=[False, True],
                                                      kind="stable")
    due = pd.Series(as_of + timedelta(days=settings.exit_interview_due_in_days), index=dead.index)
    return _rows(dead, "exit_interview", settings.exit_interview_action, due, 0.0).reset_index(drop=True)

"""Campaign target lists: who to contact this week, how, by whom, and with what leeway.

:func:`plan_campaigns` turns the scored customers into three lists, each one row per customer
with the columns of ``docs/run-outputs.md`` and a few more (:data:`TARGET_COLUMNS`), ordered by
priority, plus the **backlog**: what was due but did not fit this week.

* **proactive** — regular, by segment: a campaign is due for a customer when the last touch of
  its kind (a feature such as ``days_since_success_touch``, or the customer's row on this
  campaign's list in an earlier run) is older than the cadence set for the customer's value
  tier, or was never made. A customer long overdue whom churnlab has never listed for the
  campaign is given a week of the cadence by a hash of its id, so a first run spreads each
  cadence over its period instead of listing everybody at once (a customer who just fell due
  is listed now). Welcome calls, status calls, satisfaction polls and invitations ship as
  defaults. One proactive campaign per customer per run, the first due in settings order.
* **reactive** — on the rules that fired since the previous run: the first reactive campaign
  (settings order) whose trigger matches gets the customer. Each row names the ``trigger``,
  its message with the customer's numbers and when it fired. The catch-all rescue (a campaign
  with no ``on``) takes the customers the zones rank for a rescue (``priority``: every customer
  outside the Dead Zone with a positive expected gain, highest first), so capacity goes where
  the most is at stake, at risk or not yet. Each row carries a **compensation cap**: the smaller of the tier's cap and
  ``compensation_share_of_gain`` of the expected gain, never more than a save is worth, and
  the offer from the settings' menu that fits under it.
* **exit interviews** — the customers who churned since the previous run, and Dead Zone
  customers whose churn probability is at least ``exit_interview_min_probability``: a
  conversation to learn why they leave and part on good terms. Each customer is asked once.

**Contact memory.** ``history`` (:func:`churnlab.report.history.contact_history`: the list rows
of earlier runs in the same reports folder and the ``interventions`` table) says who was
contacted for what and when. A customer is not listed for a campaign again within its
``cooldown_days`` (proactive: the tier's cadence; exit interviews: ever) unless a new critical
rule fired. An intervention whose campaign is none of ours counts as a retention contact for
every reactive campaign.

**One list per customer.** A customer due on several lists goes on the first in
``list_priority`` (reactive, exit interviews, proactive by default); ``also_due`` names the
other campaigns it was due for.

**Capacity.** Each owner works at most ``weekly_capacity[list]`` rows of each list a week. The
reactive rows are taken critical first, then by expected gain (a carried row before a new one
of the same gain); the other lists take carried rows first, then by value (proactive) or
churned before dying, likeliest to leave first (exit interviews). What does not fit goes to the
backlog with its first due date; the next run lists it again (``days_waiting`` says how long it
has waited) before new rows. A row that waited more than ``max_wait_days`` expires: the plan
names it (``expired``) and notebook 05 shows it, so a list that cannot keep up says so instead of
growing a queue nobody will reach.

The channel is the customer's preferred one when both the campaign and the value tier allow it
(a meeting is not offered to every small account, a poll is not made by phone), else the first
channel the campaign allows for the tier. The owner is the customer's account owner, or the
team named in the settings when there is none.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from churnlab.settings import CampaignSettings, Settings

__all__ = ["plan_campaigns", "campaign_frame", "triggered_since", "capacity_notes", "CampaignPlan", "TARGET_COLUMNS",
           "LISTS", "HISTORY_COLUMNS", "HOLDOUT_COLUMNS"]

#: Columns of every target list: those of docs/run-outputs.md, then what a caller needs to act.
TARGET_COLUMNS = ["customer_id", "name", "owner", "zone", "campaign", "action", "channel", "due_date",
                  "compensation_cap", "value", "churn_probability", "reasons",
                  "expected_gain", "offer", "trigger", "trigger_message", "triggered_on", "first_due_date",
                  "days_waiting", "also_due"]

#: The lists, by file name.
LISTS = ("proactive", "reactive", "exit_interviews")

#: Columns of the control groups (``holdouts.csv``): who was held out of which campaign since when.
HOLDOUT_COLUMNS = ["customer_id", "campaign", "held_out_on", "held_out_until", "trigger", "zone", "value",
                   "churn_probability", "expected_gain"]

#: Columns of a contact history (:func:`churnlab.report.history.contact_history`).
HISTORY_COLUMNS = ["customer_id", "list", "campaign", "on", "kind", "first_due_date", "trigger", "trigger_message",
                   "triggered_on"]


@dataclass(frozen=True)
class CampaignPlan:
    """The three target lists, the campaigns that could not run with their reason, the backlog
    (due but over capacity: listed first next week) and the rows that waited longer than
    ``max_wait_days`` and expired."""

    proactive: pd.DataFrame
    reactive: pd.DataFrame
    exit_interviews: pd.DataFrame
    skipped: pd.DataFrame
    backlog: pd.DataFrame | None = None
    expired: pd.DataFrame | None = None
    holdouts: pd.DataFrame | None = None

    def lists(self) -> dict[str, pd.DataFrame]:
        """The lists by file name (``proactive``, ``reactive``, ``exit_interviews``)."""
        return {"proactive": self.proactive, "reactive": self.reactive, "exit_interviews": self.exit_interviews}

    def summary(self) -> pd.DataFrame:
        """Rows and customers per list and campaign, and the rows carried to the next week."""
        rows = [(name, camp, len(g), g["customer_id"].nunique(), int((g["days_waiting"] > 0).sum()))
                for name, frame in self.lists().items() for camp, g in frame.groupby("campaign", sort=False)]
        out = pd.DataFrame(rows, columns=["list", "campaign", "rows", "customers", "carried_over"])
        for extra, label in ((self.backlog, "to_next_week"), (self.expired, "expired")):
            extra = extra if extra is not None else pd.DataFrame(columns=["list", "campaign"])
            counts = extra.groupby(["list", "campaign"]).size().rename(label).reset_index()
            out = out.merge(counts, on=["list", "campaign"], how="outer")
        counts = ["rows", "customers", "carried_over", "to_next_week", "expired"]
        return out.fillna({c: 0 for c in counts}).astype({c: int for c in counts})

    def by_owner(self) -> pd.DataFrame:
        """Rows per owner and list this week (the capacity check)."""
        parts = [f[["owner"]].assign(list=name) for name, f in self.lists().items()]
        if not parts or not sum(len(p) for p in parts):
            return pd.DataFrame(columns=list(LISTS))
        return pd.concat(parts).groupby(["owner", "list"]).size().unstack(fill_value=0).reindex(
            columns=list(LISTS), fill_value=0)


def plan_campaigns(scored: pd.DataFrame, as_of: str | date, *,
                   settings: Settings | CampaignSettings | None = None, history: pd.DataFrame | None = None,
                   churned: pd.DataFrame | None = None, effects: pd.DataFrame | None = None) -> CampaignPlan:
    """Plan this run's campaigns for every active customer of ``scored``.

    Parameters
    ----------
    scored : one row per active customer with ``customer_id``, ``zone``, ``value`` (missing where
        unknown), ``value_tier``, ``churn_probability`` and ``reasons``; optional ``name``,
        ``owner``, ``preferred_channel``, ``expected_gain``, ``priority`` and ``zone_reason`` (from
        the zones), ``symptoms`` and ``alerts`` (``;``-separated names of the rules that fired
        since the previous run), ``trigger_messages`` (``name: message; ...`` of those),
        ``critical`` (bool) and the features that proactive campaigns read (``tenure_days``,
        ``days_since_success_touch``, ...).
    as_of : the run's date; due dates count from it.
    settings : run settings, or their campaigns section (defaults when None).
    history : earlier contacts (:data:`HISTORY_COLUMNS`, from
        :func:`churnlab.report.history.contact_history`); None: nobody was contacted before.
    churned : the customers who churned since the previous run (``customer_id``, ``churn_date``,
        optional ``name``, ``owner``, ``preferred_channel``): invited to an exit interview.
    effects : what each campaign did against its control group
        (:func:`churnlab.decide.campaign_effects.campaign_effects`). A reactive campaign measured
        on at least ``measured_min_customers`` contacted and held-out customers has its rows'
        expected gain recomputed with the share of leavers it measurably keeps, uplift / (1 -
        retention of the held-out), in place of the history-based ``p_save`` (needs ``p_save``
        in ``scored``): gain + churn_probability x value x (keeps - p_save).

    Returns
    -------
    :class:`CampaignPlan`.
    """
    settings = settings.campaigns if isinstance(settings, Settings) else settings or CampaignSettings()
    as_of = pd.Timestamp(as_of).date()
    missing = [c for c in ("customer_id", "zone", "value", "value_tier", "churn_probability") if c not in scored]
    if missing:
        raise ValueError(f"plan_campaigns needs the columns {', '.join(missing)} (from value, segments and zones)")
    frame = _prepared(scored, settings)
    history = _history(history, as_of)
    skipped: list[tuple[str, str]] = []
    kept = _kept_holdouts(frame, as_of, settings, history)
    candidates = {
        "reactive": _reactive(frame, as_of, settings, history, kept, _measured(effects, settings)),
        "exit_interviews": _exit_interviews(frame, churned, as_of, settings, history),
        "proactive": _proactive(frame, as_of, settings, history, skipped),
    }
    candidates, expired = _with_carried(candidates, frame, as_of, settings, history)
    # a held-out customer is contacted by no list while it is held out
    held = set(kept["customer_id"])
    candidates = {name: cand[~cand["customer_id"].isin(held)] for name, cand in candidates.items()}
    lists, backlog = _one_list_each_within_capacity(candidates, as_of, settings)
    drawn = pd.DataFrame(columns=HOLDOUT_COLUMNS)
    if settings.holdout_share > 0:
        drawn, lists["reactive"] = _draw_holdouts(lists["reactive"], frame, as_of, settings)
    holdouts = pd.concat([h for h in (kept, drawn) if len(h)] or [kept], ignore_index=True) \
        .sort_values(["campaign", "customer_id"], kind="stable").reset_index(drop=True)
    return CampaignPlan(lists["proactive"], lists["reactive"], lists["exit_interviews"],
                        pd.DataFrame(skipped, columns=["campaign", "reason"]), backlog, expired, holdouts)


def triggered_since(now: pd.DataFrame, before: pd.DataFrame | None, ruleset=None) -> pd.DataFrame:
    """The rules that fired in this run but not in the previous one, per customer.

    ``now``/``before``: results of :func:`churnlab.decide.rules.evaluate_rules` for this run and for
    the previous run's date (``None``: everything that fired now is new). A standing risk factor
    that fired last week too is not a new trigger: reactive campaigns act on what changed.
    ``ruleset`` (:class:`churnlab.decide.rules.RuleSet`) says which rules are critical.

    Returns ``customer_id``, ``symptoms`` and ``alerts`` (``;``-separated, new ones only, in
    the order of ``now``), ``critical`` (a new critical rule fired) and ``trigger_messages``:
    ``name: message`` of each new one, ``; ``-separated (the rule's message with the customer's
    numbers, from ``symptom_text``; an alert's own message).
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
    said = _said(now, ruleset)
    out["trigger_messages"] = ["; ".join(f"{n}: {m.get(n, '')}" for n in dict.fromkeys(x for x in f"{s};{a}".split(";") if x))
                               for s, a, m in zip(out["symptoms"], out["alerts"], said)]
    return out


def _said(now: pd.DataFrame, ruleset) -> list[dict[str, str]]:
    """Per customer, rule or alert name -> its message as the rules result wrote it."""
    alert_text = {a.name: a.message for a in ruleset.alerts} if ruleset is not None else {}
    out = []
    texts = now["symptom_text"] if "symptom_text" in now else pd.Series("", index=now.index)
    for names, text in zip(_names(now["symptoms"]), texts.fillna("").astype(str)):
        said = dict(zip(names, text.split("; "))) if text else {}
        out.append({**alert_text, **said})
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
    out = out.merge(ids(zones, ["zone", "expected_gain", "p_save", "priority", "zone_reason"]), on="customer_id", how="left",
                    validate="one_to_one")
    out = out.merge(ids(segments, ["value_tier", "segment"]), on="customer_id", how="left", validate="one_to_one")
    touch = ["tenure_days", "nps_promoter"] + [c for c in features.columns if c.startswith("days_since_")]
    out = out.merge(ids(features, touch), on="customer_id", how="left", validate="one_to_one")
    out = out.merge(ids(customers, ["name", "owner", "preferred_channel"]), on="customer_id", how="left",
                    validate="one_to_one")
    if triggered is not None:
        out = out.merge(ids(triggered, ["symptoms", "alerts", "critical", "trigger_messages"]), on="customer_id", how="left",
                        validate="one_to_one")
    return out


def _prepared(scored: pd.DataFrame, settings: CampaignSettings) -> pd.DataFrame:
    frame = scored.copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    for col, default in (("name", ""), ("reasons", ""), ("symptoms", ""), ("alerts", ""), ("trigger_messages", ""),
                         ("zone_reason", "")):
        frame[col] = frame[col].fillna(default).astype(str) if col in frame else default
    frame["owner"] = (frame["owner"].astype("object").where(frame["owner"].notna(), settings.default_owner)
                      if "owner" in frame else settings.default_owner)
    if "preferred_channel" not in frame:
        frame["preferred_channel"] = None
    frame["critical"] = frame["critical"].fillna(False).astype(bool) if "critical" in frame else False
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["expected_gain"] = (pd.to_numeric(frame["expected_gain"], errors="coerce").astype("float64")
                              if "expected_gain" in frame else np.nan)
    frame["priority"] = (pd.to_numeric(frame["priority"], errors="coerce").astype("float64")
                         if "priority" in frame else np.nan)
    return frame.set_index("customer_id", drop=False)


def _history(history: pd.DataFrame | None, as_of: date) -> pd.DataFrame:
    if history is None or not len(history):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in HISTORY_COLUMNS})
    out = history.copy()
    for col in HISTORY_COLUMNS:
        if col not in out:
            out[col] = None
    out["customer_id"] = out["customer_id"].astype(str)
    out["on"] = pd.to_datetime(out["on"]).dt.date
    return out[out["on"] <= as_of][HISTORY_COLUMNS]


def _last_contact(history: pd.DataFrame, campaigns: set[str], kinds=("listed", "intervention")) -> pd.Series:
    """customer_id -> the latest date one of ``campaigns`` reached it (listed or acted on)."""
    rows = history[history["kind"].isin(kinds) & history["campaign"].isin(campaigns)]
    return rows.groupby("customer_id")["on"].max()


def _days_since(last: pd.Series, ids: pd.Index, as_of: date) -> pd.Series:
    on = last.reindex(ids)
    return pd.Series([(as_of - d).days if isinstance(d, date) else np.nan for d in on], index=ids, dtype="float64")


def _channel(frame: pd.DataFrame, allowed_by_campaign: list[str], by_tier: dict, settings: CampaignSettings) -> pd.Series:
    out = []
    for tier, pref in zip(frame["value_tier"].astype(str), frame["preferred_channel"]):
        tier_ok = settings.channels_by_tier.get(tier, settings.channels_by_tier.get("default", ["email"]))
        mine = by_tier.get(tier, allowed_by_campaign) or tier_ok
        both = [c for c in mine if c in tier_ok] or list(mine)
        out.append(pref if isinstance(pref, str) and pref in both else both[0])
    return pd.Series(out, index=frame.index, dtype="object")


def _candidates(chosen: pd.DataFrame, campaign, action, channel, trigger, message, triggered_on, due_in: int,
                as_of: date, cap=0.0, offer="", gain=None) -> pd.DataFrame:
    """Candidate rows of one campaign: the target columns and the sort keys (``_critical``,
    ``_due_in``)."""
    due = as_of + timedelta(days=int(due_in))
    return pd.DataFrame({
        "customer_id": chosen["customer_id"].to_numpy(), "name": chosen["name"].to_numpy(),
        "owner": chosen["owner"].to_numpy(), "zone": chosen["zone"].to_numpy(), "campaign": campaign,
        "action": action, "channel": channel, "due_date": due, "compensation_cap": cap,
        "value": chosen["value"].to_numpy(), "churn_probability": chosen["churn_probability"].to_numpy(),
        "reasons": chosen["reasons"].to_numpy(),
        "expected_gain": chosen["expected_gain"] if gain is None else gain, "offer": offer,
        "trigger": trigger, "trigger_message": message, "triggered_on": triggered_on, "first_due_date": due,
        "days_waiting": 0, "also_due": "", "_critical": chosen["critical"].to_numpy(), "_due_in": int(due_in)},
        index=chosen.index).reset_index(drop=True)


def _messages(text: str) -> dict[str, str]:
    out = {}
    for part in text.split("; "):
        name, _, message = part.partition(": ")
        if name:
            out[name.strip()] = message.strip()
    return out


def _names(text: pd.Series) -> pd.Series:
    return text.fillna("").astype(str).map(lambda s: [x for x in s.split(";") if x])


def _reactive(frame: pd.DataFrame, as_of: date, settings: CampaignSettings, history: pd.DataFrame,
              holdouts: pd.DataFrame | None = None, measured: dict[str, float] | None = None) -> pd.DataFrame:
    fired = (_names(frame["symptoms"]) + _names(frame["alerts"])).map(set)
    ours = {c.name for c in settings.reactive}
    # an intervention of a campaign that is none of ours is a retention contact for all of them
    foreign = history[(history["kind"] == "intervention") & ~history["campaign"].isin(ours)]
    taken = pd.Series(False, index=frame.index)
    others: dict[str, list[str]] = {}
    pieces = []
    for camp in settings.reactive:   # settings order is priority order: first match wins
        if camp.on:
            trig = fired.map(lambda names, on=camp.on: next((n for n in on if n in names), None))
            hit = trig.notna()
        else:   # the catch-all rescue: whom the zones rank for a rescue
            trig = "rescue:" + frame["zone"].astype(str)
            hit = frame["priority"].notna()
        hit &= frame["zone"].isin(camp.zones)
        last = pd.concat([_last_contact(history, {camp.name}), foreign.groupby("customer_id")["on"].max()])
        since = _days_since(last.groupby(level=0).max(), frame.index, as_of)
        cooling = since.notna() & (since < camp.cooldown_days) & ~frame["critical"]
        due = hit & ~cooling
        if holdouts is not None:   # the control group of this campaign is due but not contacted
            due &= ~frame.index.isin(holdouts.loc[holdouts["campaign"] == camp.name, "customer_id"])
        for cid in frame.index[due & taken]:
            others.setdefault(cid, []).append(camp.name)
        take = due & ~taken
        taken |= take
        chosen = frame[take]
        if not len(chosen):
            continue
        tiers = chosen["value_tier"].astype(str)
        action = tiers.map(lambda t, c=camp: c.actions_by_tier.get(t, c.action))
        channel = _channel(chosen, camp.channels, camp.channels_by_tier, settings)
        if camp.on:
            trigger = trig[take]
            message = [_messages(m).get(t, "") for m, t in zip(chosen["trigger_messages"], trigger)]
        else:
            trigger = chosen["zone"].map({"red": "red_zone"}).fillna("expected_gain")
            message = [r.split("; ")[-1] if r else "" for r in chosen["zone_reason"]]
        if measured and camp.name in measured and "p_save" in chosen:
            # the campaign's own measured effect replaces the history's P(save) in the gain
            keeps = measured[camp.name]
            p_save = pd.to_numeric(chosen["p_save"], errors="coerce")
            chosen = chosen.assign(expected_gain=chosen["expected_gain"]
                                   + chosen["churn_probability"] * chosen["value"] * (keeps - p_save))
        cap, offer, gain = _compensation(chosen, settings)
        pieces.append(_candidates(chosen, camp.name, action, channel, trigger, message, as_of,
                                  settings.reactive_due_in_days, as_of, cap, offer, gain))
    out = _concat(pieces)
    out["_also"] = [others.get(c, []) for c in out["customer_id"]]
    return out


def _measured(effects: pd.DataFrame | None, settings: CampaignSettings) -> dict[str, float]:
    """Campaign -> the share of leavers it keeps, for campaigns measured on enough customers."""
    if effects is None or not len(effects):
        return {}
    enough = effects[(effects["contacted"] >= settings.measured_min_customers)
                     & (effects["held_out"] >= settings.measured_min_customers)]
    left = (1.0 - enough["retention_held_out"]).clip(lower=1e-9)
    keeps = (enough["uplift"] / left).clip(0.0, 1.0)
    return dict(zip(enough["campaign"], keeps))


def _kept_holdouts(frame: pd.DataFrame, as_of: date, settings: CampaignSettings, history: pd.DataFrame) -> pd.DataFrame:
    """The customers an earlier run held out of a reactive campaign (history rows of kind
    ``held_out``) less than that campaign's ``cooldown_days`` ago and still scored: they stay
    held out, with the day they were first held out (:data:`HOLDOUT_COLUMNS`)."""
    held = history[history["kind"] == "held_out"]
    cooldown = {c.name: c.cooldown_days for c in settings.reactive}
    if not len(held):
        return _holdout_rows(frame, pd.DataFrame(columns=["customer_id", "campaign", "held_out_on", "trigger"]), cooldown)
    first = held.groupby(["customer_id", "campaign"])["on"].max().reset_index()
    first = first[[isinstance(on, date) and (as_of - on).days < cooldown.get(camp, 0)
                   for on, camp in zip(first["on"], first["campaign"])]]
    first = first[first["customer_id"].isin(frame.index)].drop_duplicates("customer_id")
    return _holdout_rows(frame, first.rename(columns={"on": "held_out_on"}).assign(trigger=""), cooldown)


def _draw_holdouts(reactive: pd.DataFrame, frame: pd.DataFrame, as_of: date,
                   settings: CampaignSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw this week's control groups from the reactive list itself: each row listed for the
    first time (not carried from an earlier week) is held out with probability
    ``holdout_share``, by a hash of the seed, the campaign, the customer and the date (the same
    inputs give the same draw). Drawn from the rows that fit the week's capacity, the held-out
    customers are like the contacted ones but for the call; their places are left empty rather
    than given to the next in line, who would differ. Returns (held out, the list without them)."""
    cooldown = {c.name: c.cooldown_days for c in settings.reactive}
    fresh = reactive["days_waiting"].fillna(0).to_numpy() == 0
    u = np.array([_uniform(settings.holdout_seed, camp, cid, as_of)
                  for camp, cid in zip(reactive["campaign"], reactive["customer_id"])])
    drawn = fresh & (u < settings.holdout_share) if len(reactive) else np.zeros(0, dtype=bool)
    rows = reactive[drawn]
    held = pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(), "campaign": rows["campaign"].to_numpy(),
                         "held_out_on": as_of, "trigger": rows["trigger"].astype(str).to_numpy()})
    return _holdout_rows(frame, held, cooldown), reactive[~drawn].reset_index(drop=True)


def _holdout_rows(frame: pd.DataFrame, held: pd.DataFrame, cooldown: dict[str, int]) -> pd.DataFrame:
    out = held[["customer_id", "campaign", "held_out_on", "trigger"]].copy()
    out["held_out_until"] = [on + timedelta(days=cooldown.get(c, 0)) for on, c in zip(out["held_out_on"], out["campaign"])]
    for col in ("zone", "value", "churn_probability", "expected_gain"):
        out[col] = frame[col].reindex(out["customer_id"]).to_numpy() if col in frame else np.nan
    return out[HOLDOUT_COLUMNS].reset_index(drop=True)


def _uniform(seed: int, campaign: str, customer_id: str, as_of: date) -> float:
    """A uniform draw in [0, 1) fixed by its arguments (sha256: no global random state)."""
    digest = hashlib.sha256(f"{seed}|{campaign}|{customer_id}|{as_of.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def _compensation(chosen: pd.DataFrame, settings: CampaignSettings) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The cap (the tier's, at most ``compensation_share_of_gain`` of the expected gain), the
    costliest offer of the menu that fits under it, and the expected gain less the offer."""
    caps = settings.compensation_caps
    tier_cap = chosen["value_tier"].astype(str).map(lambda t: caps.get(t, caps.get("default", 0.0))).astype("float64")
    gain = chosen["expected_gain"]
    share = (settings.compensation_share_of_gain * gain.clip(lower=0.0)).round(0)
    cap = tier_cap.where(gain.isna(), np.minimum(tier_cap, share))
    offers, net = [], []
    for tier, c, g in zip(chosen["value_tier"].astype(str), cap, gain):
        fits = [o for o in settings.offers if o.cost <= c and (not o.tiers or tier in o.tiers)]
        best = max(fits, key=lambda o: (o.cost, o.name)) if fits else None
        offers.append(best.name if best else "")
        net.append(g - best.cost if best is not None else g)
    return cap, pd.Series(offers, index=chosen.index), pd.Series(net, index=chosen.index, dtype="float64")


def _exit_interviews(frame: pd.DataFrame, churned: pd.DataFrame | None, as_of: date, settings: CampaignSettings,
                     history: pd.DataFrame) -> pd.DataFrame:
    asked = set(history.loc[history["campaign"] == "exit_interview", "customer_id"])
    channels = settings.exit_interview_channels
    pieces = []
    if churned is not None and len(churned):
        gone = _prepared(churned.assign(zone="churned", value=np.nan, value_tier="default",
                                        churn_probability=1.0), settings)
        gone = gone[~gone.index.isin(asked)]
        if len(gone):
            when = pd.to_datetime(gone["churn_date"]).dt.date if "churn_date" in gone else pd.Series(as_of, index=gone.index)
            piece = _candidates(gone, "exit_interview", settings.exit_interview_action,
                                _channel(gone, channels, {}, settings), "churned",
                                [f"churned on {d}" for d in when], list(when),
                                settings.exit_interview_due_in_days, as_of)
            pieces.append(piece.assign(_churned=True))
    dead = frame[(frame["zone"] == "dead") & (frame["churn_probability"] >= settings.exit_interview_min_probability)
                 & ~frame.index.isin(asked)]
    if len(dead):
        message = [r.split("; ")[-1] if r else "" for r in dead["zone_reason"]]
        pieces.append(_candidates(dead, "exit_interview", settings.exit_interview_action,
                                  _channel(dead, channels, {}, settings), "dead_zone", message, as_of,
                                  settings.exit_interview_due_in_days, as_of).assign(_churned=False))
    out = _concat(pieces)
    out["_also"] = [[] for _ in range(len(out))]
    return out


def _slot(customer_id: str, campaign: str, weeks: int) -> int:
    digest = hashlib.blake2b(f"{campaign}|{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % weeks


def _proactive(frame: pd.DataFrame, as_of: date, settings: CampaignSettings, history: pd.DataFrame,
               skipped: list) -> pd.DataFrame:
    taken = pd.Series(False, index=frame.index)
    others: dict[str, list[str]] = {}
    pieces = []
    week = as_of.toordinal() // 7
    for camp in settings.proactive:
        # no touch data (a flat table): churnlab's own lists are the memory, as for anyone never touched
        need = [c for c in camp.requires if c not in frame]
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
        listed = _days_since(_last_contact(history, {camp.name}), frame.index, as_of)
        touched = (frame[camp.last_touch].astype("float64") if camp.last_touch and camp.last_touch in frame
                   else pd.Series(np.nan, index=frame.index))
        since = pd.concat([touched, listed], axis=1).min(axis=1, skipna=True)
        if camp.cadence_days is None:
            # once: due until the first such touch since signup, and never listed again
            who &= ~(touched.notna() & (touched < frame["tenure_days"])) & listed.isna()
            message = pd.Series("not made yet since signup", index=frame.index)
        else:
            cadence = frame["value_tier"].astype(str).map(
                lambda t, c=camp.cadence_days: c.get(t, c.get("default"))).astype("float64")
            who &= cadence.notna() & (since.isna() | (since >= cadence))
            # long overdue and never listed by churnlab: spread over the cadence, a week each
            backlog = listed.isna() & (since.isna() | (since - cadence >= 7))
            weeks = (cadence // 7).clip(lower=1).fillna(1).astype(int)
            in_week = pd.Series([_slot(c, camp.name, w) == week % w for c, w in zip(frame.index, weeks)],
                                index=frame.index)
            who &= ~backlog | in_week
            message = pd.Series([f"never made; due every {c:.0f} days" if np.isnan(s)
                                 else f"last made {s:.0f} days ago; due every {c:.0f} days"
                                 for s, c in zip(since, cadence.fillna(0))], index=frame.index)
        for cid in frame.index[who & taken]:
            others.setdefault(cid, []).append(camp.name)
        take = who & ~taken   # one proactive touch per customer per run: the first due in settings order
        taken |= take
        chosen = frame[take]
        if not len(chosen):
            continue
        channel = _channel(chosen, camp.channels, {}, settings)
        pieces.append(_candidates(chosen, camp.name, camp.action, channel, "cadence" if camp.cadence_days else "once",
                                  message[take].tolist(), as_of, camp.due_in_days, as_of))
    out = _concat(pieces)
    out["_also"] = [others.get(c, []) for c in out["customer_id"]]
    return out


def _concat(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    if pieces:
        return pd.concat(pieces, ignore_index=True)
    return pd.DataFrame(columns=[*TARGET_COLUMNS, "_critical", "_due_in"])


#: The columns a row keeps from the customer's scores of this run when it is carried over.
_FRESH = ["name", "owner", "zone", "value", "churn_probability", "reasons", "expected_gain"]


def _with_carried(candidates: dict[str, pd.DataFrame], frame: pd.DataFrame, as_of: date,
                  settings: CampaignSettings, history: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The rows the previous run could not fit (history rows of kind ``carried``, with every
    target column) come back with their first due date and trigger; a customer also due anew
    keeps the older row's dates. A carried customer acted on since, or now in the Dead Zone (for
    the rescue and proactive lists), or no longer a customer (but for an exit interview), is
    not carried further. A row that has waited more than ``max_wait_days`` expires: it is
    returned as the second value (shown in the notebook), not listed again."""
    carried = history[history["kind"] == "carried"]
    acted = history[history["kind"] == "intervention"].groupby("customer_id")["on"].max()
    due_in = {"reactive": settings.reactive_due_in_days, "exit_interviews": settings.exit_interview_due_in_days}
    proactive_due = {c.name: c.due_in_days for c in settings.proactive}
    out = {}
    expired: list[pd.DataFrame] = []
    for name, cand in candidates.items():
        cand = cand.assign(_carried=False)
        rows = carried[carried["list"] == name]
        since = [isinstance(a, date) and a >= on for a, on in zip(rows["customer_id"].map(acted), rows["on"])]
        rows = rows[~np.array(since, dtype=bool)]
        if name != "exit_interviews":
            zone = frame["zone"].reindex(rows["customer_id"]).to_numpy()
            rows = rows[pd.notna(zone) & (zone != "dead")]
        rows = rows.drop_duplicates("customer_id").set_index("customer_id", drop=False)
        if len(cand):
            again = cand["customer_id"].isin(rows.index).to_numpy()
            ids = cand.loc[again, "customer_id"]
            cand.loc[again, "first_due_date"] = [_day(d) or n for d, n in zip(rows.loc[ids, "first_due_date"],
                                                                                cand.loc[again, "first_due_date"])]
            cand.loc[again, "triggered_on"] = [_day(t) or n for t, n in zip(rows.loc[ids, "triggered_on"],
                                                                              cand.loc[again, "triggered_on"])]
            cand.loc[again, "_carried"] = True
        back = rows[~rows.index.isin(cand["customer_id"])].copy()
        if len(back):
            for col in _FRESH:   # this run's figures where the customer was scored
                fresh = frame[col].reindex(back.index) if col in frame else pd.Series(np.nan, index=back.index)
                back[col] = fresh.where(fresh.notna(), back.get(col))
            back["_due_in"] = [due_in.get(name, proactive_due.get(c, 7)) for c in back["campaign"]]
            back["due_date"] = [as_of + timedelta(days=int(d)) for d in back["_due_in"]]
            back["first_due_date"] = [_day(d) for d in back["first_due_date"]]
            back["triggered_on"] = [_day(d) for d in back["triggered_on"]]
            back["_critical"] = False
            back["_carried"] = True
            back["_also"] = [[] for _ in range(len(back))]
            for col in ("offer", "trigger", "trigger_message"):
                back[col] = back[col].fillna("").astype(str) if col in back else ""
            keep = [c for c in cand.columns if c in back.columns]
            cand = pd.concat([cand, back[keep].reset_index(drop=True)], ignore_index=True)
        cand["days_waiting"] = [max(0, (as_of - d).days) if isinstance(d, date) else 0 for d in cand["first_due_date"]]
        stale = (cand["days_waiting"] > settings.max_wait_days).to_numpy()
        expired.append(cand[stale][TARGET_COLUMNS].assign(list=name))
        out[name] = cand[~stale]
    expired = [e for e in expired if len(e)]
    return out, (pd.concat(expired, ignore_index=True) if expired else pd.DataFrame(columns=[*TARGET_COLUMNS, "list"]))


def _day(value) -> date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT or str(value) in ("", "nan"):
        return None
    return value if isinstance(value, date) and not isinstance(value, pd.Timestamp) else pd.Timestamp(value).date()


def _one_list_each_within_capacity(candidates: dict[str, pd.DataFrame], as_of: date,
                                   settings: CampaignSettings) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Each customer on the first list of ``list_priority`` it is due on (the others in
    ``also_due``); each owner's rows of a list up to the weekly capacity, in priority order;
    the rest to the backlog with next week's due date."""
    due_where: dict[str, list[str]] = {}
    for name in settings.list_priority:
        for cid, camp, also in zip(candidates[name]["customer_id"], candidates[name]["campaign"],
                                   candidates[name].get("_also", pd.Series([[]] * len(candidates[name])))):
            due_where.setdefault(cid, []).extend([camp, *also])
    placed: set[str] = set()
    lists, backlog = {}, []
    for name in settings.list_priority:
        cand = candidates[name]
        cand = cand[~cand["customer_id"].isin(placed)].copy()
        placed |= set(cand["customer_id"])
        cand["also_due"] = [";".join(dict.fromkeys(x for x in due_where.get(c, []) if x != camp))
                            for c, camp in zip(cand["customer_id"], cand["campaign"])]
        cand = _ordered(cand, name, settings)
        room = settings.weekly_capacity[name]
        # the team that holds the accounts without an owner has team_size people
        rooms = np.where(cand["owner"].to_numpy() == settings.default_owner, room * settings.team_size, room)
        fits = (cand.groupby("owner", sort=False).cumcount().to_numpy() < rooms)
        lists[name] = cand[fits][TARGET_COLUMNS].reset_index(drop=True)
        later = cand[~fits].copy()
        later["due_date"] = [d + timedelta(days=7) for d in later["due_date"]]
        backlog.append(later[TARGET_COLUMNS].assign(list=name))
    backlog = [b for b in backlog if len(b)]
    back = pd.concat(backlog, ignore_index=True) if backlog else pd.DataFrame(columns=[*TARGET_COLUMNS, "list"])
    return lists, back.reset_index(drop=True)


def _ordered(cand: pd.DataFrame, name: str, settings: CampaignSettings) -> pd.DataFrame:
    """Priority order: for the reactive list critical first, then by expected gain (a carried row
    before a new one of the same gain); for the others carried rows first, then the list's own
    key (churned before dying for exit interviews, campaign order and value for the proactive
    list)."""
    cand = cand.assign(_crit=cand["_critical"].fillna(False).astype(bool),
                       _back=cand["_carried"].fillna(False).astype(bool),
                       _gain=pd.to_numeric(cand["expected_gain"], errors="coerce").fillna(-np.inf),
                       _p=pd.to_numeric(cand["churn_probability"], errors="coerce").fillna(0.0),
                       _v=pd.to_numeric(cand["value"], errors="coerce").fillna(0.0))
    if name == "proactive":
        order = {c.name: k for k, c in enumerate(settings.proactive)}
        cand["_k"] = cand["campaign"].map(order).fillna(len(order))
        keys, up = ["_back", "_k", "_v", "customer_id"], [False, True, False, True]
    elif name == "exit_interviews":
        cand["_k"] = (cand["zone"] == "churned")
        keys, up = ["_back", "_k", "_p", "customer_id"], [False, False, False, True]
    else:
        keys, up = ["_crit", "_gain", "_back", "_p", "customer_id"], [False, False, False, False, True]
    return cand.sort_values(keys, ascending=up, kind="stable")


def capacity_notes(plan: CampaignPlan, settings: Settings | CampaignSettings | None = None) -> list[str]:
    """One sentence per list whose rows due this week did not all fit the owners' weekly capacity,
    and per list with rows that expired: what to change so that the lists keep up."""
    settings = settings.campaigns if isinstance(settings, Settings) else settings or CampaignSettings()
    notes = []
    back = plan.backlog if plan.backlog is not None else pd.DataFrame(columns=["list"])
    gone = plan.expired if plan.expired is not None else pd.DataFrame(columns=["list"])
    for name, listed in plan.lists().items():
        waiting, expired = int((back["list"] == name).sum()), int((gone["list"] == name).sum())
        if not waiting and not expired:
            continue
        owners = listed["owner"].nunique() if len(listed) else 0
        room = settings.weekly_capacity[name]
        team = f", the team of accounts without an owner {room * settings.team_size}" if settings.team_size > 1 else ""
        text = (f"{name.replace('_', ' ')}: {len(listed) + waiting:,} rows were due this week for {owners} owner(s) "
                f"of {room} places each{team}; {waiting:,} wait for next week")
        if expired:
            text += f" and {expired:,} expired after waiting over {settings.max_wait_days} days"
        notes.append(text + f" (raise campaigns.weekly_capacity.{name}"
                     + (" or lengthen the cadences)" if name == "proactive" else ")"))
    return notes

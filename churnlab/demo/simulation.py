"""A simulated SMB B2B SaaS customer base with its ground truth (``churnlab demo-data``).

The world, month by month
-------------------------
Each account has two hidden traits: *fit* (how well the product suits it) and *engagement*
(how much it uses the product). A latent monthly churn hazard follows from the traits and from
episodes that come and go:

* **disengagement**: usage fades over a few months and the hazard rises steeply; most (not
  all) churners go through it, so usage declines before most churns;
* **support trouble**: more tickets, more of them high or critical, slower to close, low CSAT;
* **billing trouble**: late and failed payments;
* **finance dispute**: negative inbound contacts with finance while usage looks healthy;
* **low NPS** follows fit and the episodes above, and survey comments are worded after the score.

Annual contracts churn mostly at renewal; monthly contracts any month. About one account in
ten is *low-usage but loyal*: it uses little yet rarely leaves (it needs training, not rescue).
A few accounts are *vocal*: their reviews and social mentions reach a large audience; some are
detractors on small contracts. At-risk accounts sometimes received a retention action in the
past; it worked only for truly saveable accounts, and then lowered their hazard by an effect
that depends on the action and the company size (``churnlab.demo.world.ACTION_EFFECTS``: a
discount works for up to 50 employees, an executive call above, a training session for all
alike). Six contacts in ten were a **retention trial** (campaign ``retention_trial``): the arm
was drawn at random, each action or a hold-out (action ``none``, outcome ``held_out``, not
contacted) with probability 1/4, so the trial's rows measure each action's uplift. The others
were the team's choice by company size (up to 10: discount, 11-50: training, above: executive
call; campaigns save_desk, health_check, renewal_rescue).

Output
------
``<out>/<table>.parquet`` for every table of the data contract, nothing dated after ``end``,
and ``<out>-truth/`` beside it (never read by churnlab's own work):

* ``customers.parquet``: customer_id, true_churn_date (also after ``end``; null when the account
  survives the simulated horizon), fit, engagement, low_usage_loyal, vocal, p_save, saveable,
  true_value (discounted future margin plus advocacy value at ``end``), mrr_at_end;
* ``hazard.parquet``: customer_id, month (first day), hazard (true churn probability that month,
  on the path the world took: it includes episodes that began after any given as-of date);
* ``latent.parquet``: what the hazard is made of, per customer: customer_id, signup_date, fit,
  engagement (full precision), low_usage_loyal, annual, saveable, rate_disengagement,
  rate_support, rate_billing, rate_dispute (monthly onset probability of each episode kind),
  retention_month (first day of the month of the one retention action, null when none; it is
  drawn in a risky month inside the data and lowers the hazard from the next month when
  accepted), retention_accepted, retention_arm (the action, ``none`` for the hold-out),
  retention_effect (the hazard multiplier from the month after it; 1 unless accepted),
  company_size (as drawn, never missing);
* ``interventions.parquet``: one row per row of the interventions table: customer_id, ts,
  action, trial (drawn at random), company_size, p_accept, and p_stay_none, p_stay_<action>
  for each action: the probability that the account is still a customer 90 days after ts
  (no churn_date on or before ts + 90 days) had it been held out, or given that action, on the
  hazard path it was on. An action's true uplift on a row is p_stay_<action> - p_stay_none;
* ``episodes.parquet``: customer_id, month (first day), episode (disengagement, support, billing
  or dispute): one row per episode onset, over every simulated month. A disengagement lasts 6
  months, the others 2, counting the onset month; overlapping episodes merge;
* ``world.json``: start and end of the data (retention actions fall only in whole months inside);
* ``dirt.csv``: table, rule, count of the planted data dirt (rule names as the validator's);
* ``missing.csv``: table, column, count of planted missing optional values;
* ``README.md``: this description.

The hazard of a month is ``1 - exp(-exp(log h))``, at most 0.95, with ``log h`` the traits' term
plus the month's terms: first six months since signup, inside a disengagement and how many
months into it, the month after a support, billing or dispute month, the renewal month (or any
other month) of an annual contract, and after an accepted retention action. The formula lives
in ``churnlab.demo.world`` (``trait_log_hazard``, ``episode_rates``, ``log_hazard``,
``monthly_hazard``), used by the generator and by the as-of oracle alike.

**Which oracle.** ``hazard.parquet`` is the hazard of the path the world took, so scoring with
it peeks at episodes that had not begun at the as-of date. The fair reference for a model is
``churnlab.demo.oracle.expected_hazard(<out>-truth, as_of)``: the expected probability of churn within
each horizon given everything latent up to the as-of month (traits, episodes begun, contract
and renewal timing, a past retention action), with the onsets of later episodes and a later
retention action integrated out by seeded Monte Carlo.

Everything is drawn from ``numpy.random.default_rng`` seeded per chunk of customers from one
``SeedSequence(seed)``: the same arguments give byte-identical files.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .world import (ACTIONS, CHUNK, EPISODE_MONTHS, EPISODES, HISTORY_MONTHS, HOLD_OUT, RETENTION_ACCEPT_P,
                    TRUTH_MONTHS, World, arm_multiplier, contact_arm, TRIAL_SHARE,
                    episode_depth, episode_months, episode_rates, log_hazard, monthly_hazard,
                    retention_contacted, trait_log_hazard, usage_fade, usage_rate, usage_season)

__all__ = ["DemoSummary", "generate_demo_data", "TABLE_NAMES"]

TABLE_NAMES = ("customers", "subscriptions", "usage_events", "support_tickets", "surveys",
               "invoices", "touchpoints", "advocacy", "interventions")

MS_PER_DAY = 86_400_000
SAVED_AFTER_DAYS = 90   # the truth's "still a customer" horizon: settings.zones.saved_after_days' default

INDUSTRIES = np.array(["software", "retail", "manufacturing", "healthcare", "finance",
                       "education", "logistics", "media"])
REGIONS = np.array(["north america", "europe", "latin america", "asia pacific"])
CHANNELS = np.array(["email", "phone", "meeting", "chat", "in_app"])
OWNERS = np.array(["Ana Ruiz", "Ben Okafor", "Chen Wei", "Dana Levi", "Eli Novak", "Fay Morgan",
                   "Gus Haddad", "Hana Sato"])
PLANS = np.array(["starter", "growth", "pro", "enterprise"])
PLAN_PRICE = np.array([15.0, 30.0, 45.0, 70.0])  # per seat per month
EVENT_TYPES = np.array(["login", "report_run", "dashboard_view", "export", "api_call",
                        "invite_user", "integration_sync", "alert_configured"])
EVENT_P = np.array([0.34, 0.18, 0.18, 0.09, 0.10, 0.03, 0.06, 0.02])
TICKET_CATEGORIES = np.array(["bug", "how_to", "billing", "integration", "performance", "access"])
SEVERITIES = np.array(["low", "medium", "high", "critical"])
DEPARTMENTS = np.array(["sales", "marketing", "finance", "rnd", "support", "success"])
TOUCH_CHANNELS = np.array(["email", "phone", "meeting", "chat"])
CHURN_REASONS = np.array(["product fit", "support experience", "billing", "pricing dispute",
                          "low adoption", "competitor"])

COMMENTS = {
    "neg": np.array([
        "Very disappointed, the product keeps failing us.",
        "Terrible support experience, nobody answers our tickets.",
        "Frustrating and slow, we are considering alternatives.",
        "Awful billing problems and no help to fix them.",
        "Poor reliability, our team hates the constant errors.",
    ]),
    "neu": np.array([
        "It works, nothing special.",
        "Some features are fine, others are missing.",
        "Average experience overall.",
        "Okay for now, we will see after the renewal.",
    ]),
    "pos": np.array([
        "Great product, our team loves it.",
        "Excellent support, very helpful and fast.",
        "Really happy with the new dashboards, thank you!",
        "Fantastic value, it saves us hours every week.",
        "Love it, we recommend it to everyone.",
    ]),
}
TOUCH_NOTES = {
    "neg": np.array(["Customer complained about the invoice.", "Escalation: angry about outage.",
                     "Disputes charges on last invoice."]),
    "neu": np.array(["Routine check-in.", "Sent product update.", "Answered a question."]),
    "pos": np.array(["Customer praised the new release.", "Happy with onboarding.",
                     "Asked about expanding seats."]),
}


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo_data`` wrote: folders, customer count, rows per table, seconds."""

    out: Path
    truth: Path
    customers: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------

def generate_demo_data(out: str | Path, customers: int = 5000, seed: int = 7,
                       start: str | date = "2023-07-01", end: str | date = "2026-06-30",
                       progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Simulate ``customers`` accounts from ``start`` to ``end`` and write the contract tables.

    Parameters
    ----------
    out : folder for ``<table>.parquet``; the ground truth goes to ``<out>-truth``.
    customers : number of accounts (>= 1).
    seed : the same seed and arguments give byte-identical files.
    start, end : first and last day of the data (ISO dates); churn after ``end`` is truth only.
    progress : called as ``progress(done_chunks, total_chunks)`` after each chunk.

    Returns
    -------
    DemoSummary with the folders written, rows per table and wall seconds.

    Example
    -------
    >>> generate_demo_data("data/demo", customers=5000, seed=7)   # doctest: +SKIP
    """
    started = time.perf_counter()
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    start_d, end_d = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end_d <= start_d:
        raise ValueError(f"end ({end_d.date()}) must be after start ({start_d.date()})")
    out = Path(out)
    truth = Path(f"{out}-truth")
    out.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)

    world = World(start_d, end_d, width=max(5, len(str(customers))))
    n_chunks = -(-customers // CHUNK)
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    writers: dict[str, _Writer] = {}
    dirt: dict[tuple[str, str], int] = {}
    missing: dict[tuple[str, str], int] = {}
    id_offsets = {"subscriptions": 0, "support_tickets": 0, "invoices": 0}
    try:
        for k in range(n_chunks):
            first = k * CHUNK
            size = min(CHUNK, customers - first)
            rng = np.random.default_rng(seeds[k])
            tables, truth_tables, chunk_dirt, chunk_missing = _simulate_chunk(
                world, rng, first, size, id_offsets)
            for name, table in {**tables, **{f"truth/{n}": t for n, t in truth_tables.items()}}.items():
                path = truth / f"{name[6:]}.parquet" if name.startswith("truth/") else out / f"{name}.parquet"
                if name not in writers:
                    writers[name] = _Writer(path, table.schema)
                writers[name].write(table)
            for key, n in chunk_dirt.items():
                dirt[key] = dirt.get(key, 0) + n
            for key, n in chunk_missing.items():
                missing[key] = missing.get(key, 0) + n
            if progress is not None:
                progress(k + 1, n_chunks)
    finally:
        for writer in writers.values():
            writer.close()

    (truth / "world.json").write_text(json.dumps({"start": str(start_d.date()), "end": str(end_d.date())})
                                      + "\n", encoding="utf-8")
    _write_counts(truth / "dirt.csv", ("table", "rule"), dirt)
    _write_counts(truth / "missing.csv", ("table", "column"), missing)
    (truth / "README.md").write_text(_truth_readme(), encoding="utf-8")
    rows = {name: writers[name].rows for name in TABLE_NAMES}
    return DemoSummary(out=out, truth=truth, customers=customers, rows=rows,
                       seconds=time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# The month-by-month simulation
# ---------------------------------------------------------------------------------------------

def _simulate_chunk(world: World, rng: np.random.Generator, first: int, size: int,
                    id_offsets: dict[str, int]):
    mstart = world.month_starts            # M + 1 boundaries
    M = len(mstart) - 1
    mlen = np.diff(mstart)
    end_day = world.end_day
    # -- accounts and traits ----------------------------------------------------------------
    c = _accounts(world, rng, first, size)
    signup_m = np.searchsorted(mstart, c["signup_day"], side="right") - 1
    month_idx = np.arange(M)[None, :]
    age = month_idx - signup_m[:, None]                    # months since signup
    alive_m = age >= 0

    # -- episodes (C x M booleans) ------------------------------------------------------------
    fit, eng = c["fit"], c["engagement"]
    rates = episode_rates(fit, eng)
    onsets = {kind: _draw_onsets(rng, size, M, rates[kind]) for kind in EPISODES}
    disengage, support, billing, dispute = (episode_months(onsets[kind], EPISODE_MONTHS[kind])
                                            for kind in EPISODES)
    # how many months into a disengagement episode, for the usage fade
    dis_depth = episode_depth(disengage)

    # -- latent hazard --------------------------------------------------------------------------
    base = trait_log_hazard(fit, eng, c["low_usage_loyal"])
    log_h = log_hazard(base[:, None], age, c["annual"][:, None], disengage, dis_depth,
                       support, billing, dispute)

    # past retention actions: among risky months, some accounts were contacted once
    in_data = (mstart[None, :-1] >= 0) & (mstart[None, 1:] <= end_day + 1)
    risky = retention_contacted(log_h, alive_m & in_data, rng.random((size, M)))
    has_iv = risky.any(axis=1)
    iv_month = np.where(has_iv, risky.argmax(axis=1), -1)
    # the arm (trial or the team's choice) comes from a stream of its own, so the main stream's
    # draws stay where they were before actions had effects of their own
    u_arm = rng.spawn(1)[0].random(size)
    arm = contact_arm(u_arm, c["company_size"])
    iv_accepted = has_iv & c["saveable"] & (rng.random(size) < RETENTION_ACCEPT_P) & (arm != HOLD_OUT)
    effect = arm_multiplier(arm, c["company_size"])
    after_iv = np.where((month_idx > iv_month[:, None]) & iv_accepted[:, None], effect[:, None], 1.0)
    hazard = monthly_hazard(log_h, after_iv)

    # -- churn ----------------------------------------------------------------------------------
    draws = (rng.random((size, M)) < hazard) & alive_m
    # no churn in the signup month itself
    draws &= age >= 1
    churned = draws.any(axis=1)
    churn_m = np.where(churned, draws.argmax(axis=1), M)
    churn_day = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    cm = churn_m[churned]
    offset = (rng.random(churned.sum()) * mlen[cm]).astype(np.int64)
    # annual accounts leave on their contract anniversary within the renewal month
    anniv = c["signup_day"][churned] + np.round((cm - signup_m[churned]) * 30.4375).astype(np.int64)
    anniv = np.clip(anniv, mstart[cm], mstart[cm + 1] - 1)
    churn_day[churned] = np.where(c["annual"][churned], anniv, mstart[cm] + offset)
    churn_day[churned] = np.maximum(churn_day[churned], c["signup_day"][churned] + 1)
    active_m = alive_m & (month_idx <= churn_m[:, None])
    observed_churn = churned & (churn_day <= end_day)
    # each account's last observable day in the data
    last_day = np.minimum(np.where(churned, churn_day, end_day), end_day)

    # -- usage ----------------------------------------------------------------------------------
    seats = c["seats"]
    lam = usage_rate(eng, seats, seats.mean(), c["low_usage_loyal"])[:, None] \
        * usage_fade(np.where(disengage, dis_depth, 0.0)) * usage_season(month_idx)
    usage = _events_in_cells(rng, lam, active_m, c, mstart, last_day)
    cust_i, ts_ms = usage
    n_ev = len(cust_i)
    etype = rng.choice(len(EVENT_TYPES), size=n_ev, p=EVENT_P)
    quantity = np.round(rng.gamma(2.0, 1.5, size=n_ev) + 0.01, 2)
    users = np.maximum(1, np.round(seats * np.clip(0.3 + 0.2 * eng, 0.1, 0.9))).astype(np.int64)
    user_k = (rng.random(n_ev) * users[cust_i]).astype(np.int64) + 1

    ids = c["customer_id"]
    usage_tbl = pa.table({
        "customer_id": pc.take(ids, pa.array(cust_i)),
        "ts": _ts(world, ts_ms),
        "event_type": pc.take(pa.array(EVENT_TYPES), pa.array(etype)),
        "quantity": pa.array(quantity),
        "user_id": pc.binary_join_element_wise(
            pc.take(ids, pa.array(cust_i)), pc.cast(pa.array(user_k), pa.string()), "-U"),
    })

    # -- support tickets ------------------------------------------------------------------------
    t_lam = np.where(support, 1.4, 0.12 * np.exp(-0.3 * fit)[:, None])
    t_cust, t_open = _events_in_cells(rng, t_lam, active_m, c, mstart, last_day)
    t_month = np.searchsorted(mstart, _day(t_open), side="right") - 1
    t_trouble = support[t_cust, t_month]
    sev_p_ok = np.array([0.45, 0.38, 0.13, 0.04])
    sev_p_bad = np.array([0.10, 0.30, 0.35, 0.25])
    u = rng.random(len(t_cust))
    sev = np.where(t_trouble, np.searchsorted(np.cumsum(sev_p_bad), u, side="right"),
                   np.searchsorted(np.cumsum(sev_p_ok), u, side="right")).clip(max=3)
    resolve_h = rng.exponential(np.where(t_trouble, 160.0, 40.0)) + 0.5
    t_close = t_open + (resolve_h * 3_600_000).astype(np.int64)
    still_open = t_close > (end_day + 1) * MS_PER_DAY - 1
    reopened = rng.random(len(t_cust)) < np.where(t_trouble, 0.25, 0.06)
    csat = np.where(t_trouble, rng.integers(1, 4, len(t_cust)), rng.integers(3, 6, len(t_cust))).astype(float)
    csat_present = (rng.random(len(t_cust)) < 0.45) & ~still_open
    # dirt: a handful of tickets closed before they were opened
    n_bad = max(1, len(t_cust) // 4000) if len(t_cust) else 0
    bad = np.zeros(len(t_cust), dtype=bool)
    if n_bad:
        closable = np.flatnonzero(~still_open)
        bad[rng.choice(closable, size=min(n_bad, len(closable)), replace=False)] = True
        t_close = np.where(bad, t_open - (rng.integers(1, 48, len(t_cust)) * 3_600_000), t_close)
    t_ids = id_offsets["support_tickets"] + np.arange(len(t_cust)) + 1
    id_offsets["support_tickets"] += len(t_cust)
    tickets_tbl = pa.table({
        "ticket_id": _ids("T-", t_ids, 9),
        "customer_id": pc.take(ids, pa.array(t_cust)),
        "opened_at": _ts(world, t_open),
        "closed_at": _ts(world, t_close, mask=still_open),
        "severity": pc.take(pa.array(SEVERITIES), pa.array(sev)),
        "category": pc.take(pa.array(TICKET_CATEGORIES), pa.array(rng.integers(0, len(TICKET_CATEGORIES), len(t_cust)))),
        "reopened": pa.array(reopened),
        "csat": pa.array(csat, mask=~csat_present),
    })

    # -- surveys --------------------------------------------------------------------------------
    sat = fit[:, None] * 1.1 - 1.6 * support - 1.4 * billing - 1.8 * dispute - 1.2 * disengage
    s_cust, s_ts = _events_in_cells(rng, np.full((size, M), 0.12), active_m, c, mstart, last_day)
    s_month = np.searchsorted(mstart, _day(s_ts), side="right") - 1
    s_sat = sat[s_cust, s_month] + rng.normal(0, 0.7, len(s_cust))
    kind_i = rng.choice(3, size=len(s_cust), p=[0.6, 0.3, 0.1])
    nps = np.clip(np.round(7.6 + 1.6 * s_sat), 0, 10)
    csat_s = np.clip(np.round(3.8 + 0.8 * s_sat), 1, 5)
    ces = np.clip(np.round(3.0 - 1.0 * s_sat), 1, 7)     # effort: lower is better
    score = np.choose(kind_i, [nps, csat_s, ces])
    tone = np.choose(kind_i, [np.digitize(nps, [6.5, 8.5]), np.digitize(csat_s, [2.5, 3.5]),
                              2 - np.digitize(ces, [3.5, 5.5])])
    comment = _pick_text(rng, COMMENTS, tone)
    has_comment = rng.random(len(s_cust)) < 0.6
    surveys_tbl = pa.table({
        "customer_id": pc.take(ids, pa.array(s_cust)),
        "responded_at": _ts(world, s_ts),
        "kind": pc.take(pa.array(["nps", "csat", "ces"]), pa.array(kind_i)),
        "score": pa.array(score.astype(float)),
        "comment": pa.array(comment, mask=~has_comment),
    })

    # -- subscriptions and invoices --------------------------------------------------------------
    subs_tbl, inv_tbl, mrr_at_end = _billing(world, rng, c, signup_m, churn_day, observed_churn,
                                             billing, mstart, id_offsets)

    # -- touchpoints -------------------------------------------------------------------------------
    tp_lam = 0.45 + 2.0 * dispute + 0.8 * support
    tp_cust, tp_ts = _events_in_cells(rng, tp_lam, active_m, c, mstart, last_day)
    tp_month = np.searchsorted(mstart, _day(tp_ts), side="right") - 1
    tp_dispute = dispute[tp_cust, tp_month]
    tp_support = support[tp_cust, tp_month]
    dept = rng.choice(len(DEPARTMENTS), size=len(tp_cust), p=[0.18, 0.14, 0.08, 0.05, 0.2, 0.35])
    dept = np.where(tp_dispute & (rng.random(len(tp_cust)) < 0.7), 2, dept)
    dept = np.where(tp_support & ~tp_dispute & (rng.random(len(tp_cust)) < 0.5), 4, dept)
    direction = np.where(tp_dispute | tp_support, rng.random(len(tp_cust)) < 0.8,
                         rng.random(len(tp_cust)) < 0.3)      # True = inbound
    sentiment = np.clip(np.round(rng.normal(0.25, 0.3, len(tp_cust))
                                 - 0.9 * tp_dispute - 0.5 * tp_support, 2), -1, 1)
    tone_tp = np.digitize(sentiment, [-0.2, 0.3])
    tp_sent_present = rng.random(len(tp_cust)) < 0.85
    touch_tbl = pa.table({
        "customer_id": pc.take(ids, pa.array(tp_cust)),
        "ts": _ts(world, tp_ts),
        "department": pc.take(pa.array(DEPARTMENTS), pa.array(dept)),
        "channel": pc.take(pa.array(TOUCH_CHANNELS), pa.array(rng.integers(0, 4, len(tp_cust)))),
        "direction": pa.array(np.where(direction, "inbound", "outbound")),
        "sentiment": pa.array(sentiment, mask=~tp_sent_present),
        "note": pa.array(_pick_text(rng, TOUCH_NOTES, tone_tp)),
    })

    # -- advocacy -------------------------------------------------------------------------------
    adv_lam = np.where(c["vocal"], 0.35, 0.012)[:, None] * np.ones((1, M))
    a_cust, a_ts = _events_in_cells(rng, adv_lam, active_m, c, mstart, last_day)
    a_month = np.searchsorted(mstart, _day(a_ts), side="right") - 1
    a_sat = sat[a_cust, a_month] + np.where(c["detractor"][a_cust], -2.5, 0.0) + rng.normal(0, 0.5, len(a_cust))
    a_kind = np.where(c["vocal"][a_cust], rng.choice(2, size=len(a_cust), p=[0.5, 0.5]) * 2,  # review/social
                      rng.choice(4, size=len(a_cust), p=[0.5, 0.25, 0.15, 0.10]))
    a_kind = np.where((a_kind == 1) & (a_sat < 0), 0, a_kind)            # detractors don't refer
    a_kind = np.where((a_kind == 3) & (a_sat < 0.5), 0, a_kind)          # nor write case studies
    rating = np.clip(np.round(3.4 + 1.0 * a_sat), 1, 5)
    rating_present = np.isin(a_kind, [0])
    reach = np.where(c["vocal"][a_cust], c["reach"][a_cust], rng.integers(20, 400, len(a_cust)))
    a_sent = np.clip(np.round(0.3 * a_sat + rng.normal(0, 0.15, len(a_cust)), 2), -1, 1)
    adv_tbl = pa.table({
        "customer_id": pc.take(ids, pa.array(a_cust)),
        "ts": _ts(world, a_ts),
        "kind": pc.take(pa.array(["review", "referral", "social_mention", "case_study"]), pa.array(a_kind)),
        "rating": pa.array(rating, mask=~rating_present),
        "reach": pa.array(reach.astype(np.int64)),
        "sentiment": pa.array(a_sent),
    })

    # -- interventions -------------------------------------------------------------------------
    iv = np.flatnonzero(has_iv & (iv_month < M))
    iv_m = iv_month[iv]
    iv_ts = (mstart[iv_m] * MS_PER_DAY + (rng.random(len(iv)) * mlen[iv_m] * MS_PER_DAY).astype(np.int64))
    ok = iv_ts < (np.minimum(churn_day[iv], end_day + 1)) * MS_PER_DAY
    ok &= iv_ts >= c["signup_day"][iv] * MS_PER_DAY
    iv, iv_ts = iv[ok], iv_ts[ok]
    iv_arm = arm[iv]
    held_out = iv_arm == HOLD_OUT
    outcome = np.where(iv_accepted[iv], 0, np.where(rng.random(len(iv)) < 0.5, 1, 2))
    outcome = np.where(held_out, 3, outcome)
    trial = u_arm[iv] < TRIAL_SHARE
    campaign = np.where(trial, 3, np.minimum(iv_arm, 2))
    iv_tbl = pa.table({
        "customer_id": pc.take(ids, pa.array(iv)),
        "ts": _ts(world, iv_ts),
        "campaign": pc.take(pa.array(["save_desk", "renewal_rescue", "health_check", "retention_trial"]),
                            pa.array(campaign)),
        "action": pc.take(pa.array([*ACTIONS, "none"]), pa.array(iv_arm)),
        "channel": pc.take(pa.array(["phone", "meeting", "email", None]), pa.array(iv_arm)),
        "cost": pa.array(np.where(held_out, 0.0, np.round(
            np.choose(np.minimum(iv_arm, 2), [120.0, 300.0, 200.0]) * rng.uniform(0.8, 1.2, len(iv)), 2))),
        "outcome": pc.take(pa.array(["accepted", "declined", "no_response", "held_out"]), pa.array(outcome)),
    })
    # the truth of every action: how likely the account was to stay ``SAVED_AFTER_DAYS`` after it
    # under each arm, given the hazard path it was on (episodes are not moved by actions)
    d0 = _day(iv_ts) + 1
    p_accept = np.where(c["saveable"][iv], RETENTION_ACCEPT_P, 0.0)
    stay_none = _stay_probability(log_h[iv], iv_month[iv], d0, np.ones(len(iv)), c, iv, signup_m, mstart)
    stay = {"none": stay_none}
    for i, name in enumerate(ACTIONS):
        treated = _stay_probability(log_h[iv], iv_month[iv], d0,
                                    arm_multiplier(np.full(len(iv), i), c["company_size"][iv]),
                                    c, iv, signup_m, mstart)
        stay[name] = p_accept * treated + (1.0 - p_accept) * stay_none
    truth_interventions = pa.table({
        "customer_id": pc.take(ids, pa.array(iv)),
        "ts": _ts(world, iv_ts),
        "action": pc.take(pa.array([*ACTIONS, "none"]), pa.array(iv_arm)),
        "trial": pa.array(trial),
        "company_size": pa.array(c["company_size"][iv]),
        "p_accept": pa.array(p_accept),
        **{f"p_stay_{name}": pa.array(np.round(stay[name], 6)) for name in ("none", *ACTIONS)},
    })

    # -- dirt ------------------------------------------------------------------------------------
    dirt: dict[tuple[str, str], int] = {}
    usage_tbl = _plant_dirt(rng, usage_tbl, "usage_events", first, world.width, dirt, rate=2e-4)
    touch_tbl = _plant_dirt(rng, touch_tbl, "touchpoints", first, world.width, dirt, rate=1e-3)
    for name, tbl in (("surveys", surveys_tbl), ("advocacy", adv_tbl), ("interventions", iv_tbl)):
        n = _count_duplicates(tbl)
        if n:
            dirt[(name, "duplicate_row")] = dirt.get((name, "duplicate_row"), 0) + n
    if bad.any():
        dirt[("support_tickets", "closed_before_opened")] = int(bad.sum())

    customers_tbl, missing = _customers_table(world, rng, c, churn_day, observed_churn)

    # -- truth ---------------------------------------------------------------------------------
    value = _true_value(hazard, churn_m, mrr_at_end, c, world, mstart)
    true_churn = np.where(churned, churn_day, np.iinfo(np.int64).min)
    truth_customers = pa.table({
        "customer_id": ids,
        "true_churn_date": _dates(world, true_churn, mask=~churned),
        "fit": pa.array(np.round(fit, 4)),
        "engagement": pa.array(np.round(eng, 4)),
        "low_usage_loyal": pa.array(c["low_usage_loyal"]),
        "vocal": pa.array(c["vocal"]),
        "vocal_detractor": pa.array(c["vocal"] & c["detractor"]),
        "p_save": pa.array(np.round(c["p_save"], 4)),
        "saveable": pa.array(c["saveable"]),
        "true_value": pa.array(np.round(value, 2)),
        "mrr_at_end": pa.array(np.round(mrr_at_end, 2)),
    })
    hz_mask = active_m & (mstart[None, :-1] <= end_day + TRUTH_MONTHS * 31)
    hc, hm = np.nonzero(hz_mask)
    month_dates = pa.array((np.datetime64(world.start.date()) + mstart[:-1]).astype("datetime64[D]"))
    truth_hazard = pa.table({
        "customer_id": pc.take(ids, pa.array(hc)),
        "month": pc.take(month_dates, pa.array(hm)),
        "hazard": pa.array(np.round(hazard[hc, hm], 6)),
    })
    # what the as-of oracle (expected_hazard) needs besides the traits: full-precision traits,
    # the onset rates and every episode onset, and the month of the one retention action
    truth_latent = pa.table({
        "customer_id": ids,
        "signup_date": _dates(world, c["signup_day"]),
        "fit": pa.array(fit),
        "engagement": pa.array(eng),
        "low_usage_loyal": pa.array(c["low_usage_loyal"]),
        "annual": pa.array(c["annual"]),
        "saveable": pa.array(c["saveable"]),
        **{f"rate_{kind}": pa.array(rates[kind]) for kind in EPISODES},
        "retention_month": pc.take(month_dates, pa.array(iv_month, mask=~has_iv)),
        "retention_accepted": pa.array(iv_accepted),
        "retention_arm": pa.array(np.where(has_iv, np.array([*ACTIONS, "none"], dtype=object)[arm], None),
                                  type=pa.string()),
        "retention_effect": pa.array(np.where(iv_accepted, effect, 1.0)),
        "company_size": pa.array(c["company_size"]),
    })
    kind_i = np.stack([onsets[kind] for kind in EPISODES], axis=-1)        # C x M x kinds
    ec, em, ek = np.nonzero(kind_i)                                         # sorted: customer, month, kind
    truth_episodes = pa.table({
        "customer_id": pc.take(ids, pa.array(ec)),
        "month": pc.take(month_dates, pa.array(em)),
        "episode": pc.take(pa.array(EPISODES), pa.array(ek)),
    })
    tables = {"customers": customers_tbl, "subscriptions": subs_tbl, "usage_events": usage_tbl,
              "support_tickets": tickets_tbl, "surveys": surveys_tbl, "invoices": inv_tbl,
              "touchpoints": touch_tbl, "advocacy": adv_tbl, "interventions": iv_tbl}
    truth_tables = {"customers": truth_customers, "hazard": truth_hazard, "latent": truth_latent,
                    "episodes": truth_episodes, "interventions": truth_interventions}
    return tables, truth_tables, dirt, missing


# ---------------------------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------------------------

def _accounts(world: World, rng: np.random.Generator, first: int, size: int) -> dict:
    span = world.end_day - 30
    back = HISTORY_MONTHS * 30
    signup_day = rng.integers(-back, span, size=size).astype(np.int64)
    fit = rng.normal(0, 1, size)
    eng = 0.5 * fit + rng.normal(0, 0.85, size)
    low_usage_loyal = rng.random(size) < 0.10
    eng = np.where(low_usage_loyal, eng - 1.6, eng)
    fit = np.where(low_usage_loyal, np.abs(fit) + 0.3, fit)
    company_size = np.round(rng.lognormal(3.3, 1.0, size)).astype(np.int64) + 2
    seats = np.maximum(1, np.round(company_size * rng.uniform(0.15, 0.5, size))).astype(np.int64)
    plan = np.clip(np.digitize(np.log(company_size) + rng.normal(0, 0.6, size), [3.0, 3.9, 4.8]), 0, 3)
    annual = rng.random(size) < np.clip(0.25 + 0.12 * plan, 0, 0.9)
    vocal = rng.random(size) < 0.012
    detractor = vocal & (rng.random(size) < 0.45)
    # a few loud detractors sit on small contracts
    plan = np.where(detractor & (rng.random(size) < 0.7), 0, plan)
    seats = np.where(detractor & (plan == 0), np.minimum(seats, 5), seats)
    reach = np.where(vocal, np.round(rng.lognormal(9.0, 1.0, size)), 0).astype(np.int64)
    p_save = 1.0 / (1.0 + np.exp(-(0.2 + 1.1 * fit + rng.normal(0, 0.6, size))))
    saveable = rng.random(size) < p_save
    ids_int = np.arange(first + 1, first + size + 1)
    return {
        "customer_id": _ids("C-", ids_int, world.width),
        "signup_day": signup_day, "fit": fit, "engagement": eng,
        "low_usage_loyal": low_usage_loyal, "company_size": company_size, "seats": seats,
        "plan": plan, "annual": annual, "vocal": vocal, "detractor": detractor, "reach": reach,
        "p_save": p_save, "saveable": saveable,
        "industry": rng.integers(0, len(INDUSTRIES), size),
        "region": rng.integers(0, len(REGIONS), size),
        "channel": rng.choice(len(CHANNELS), size=size, p=[0.4, 0.2, 0.15, 0.15, 0.1]),
        "owner": rng.integers(0, len(OWNERS), size),
    }


def _stay_probability(log_h: np.ndarray, month: np.ndarray, d0: np.ndarray, effect: np.ndarray,
                      c: dict, rows: np.ndarray, signup_m: np.ndarray, mstart: np.ndarray,
                      days: int = SAVED_AFTER_DAYS) -> np.ndarray:
    """P(no churn on days ``d0`` .. ``d0 + days - 1`` | no churn before day ``d0``) of accounts
    ``rows`` contacted in ``month``, their hazard multiplied by ``effect`` from the next month:
    the same churn months and churn days the generator draws (a monthly account leaves on a
    uniform day of its churn month, an annual one on its anniversary)."""
    n, M = log_h.shape
    last = d0 + days - 1
    p_before = np.zeros(n)
    p_window = np.zeros(n)
    alive = np.ones(n)
    signup_day = c["signup_day"][rows]
    annual = c["annual"][rows]
    for step in range(days // 28 + 2):
        j = month + step
        inside = j < M
        jj = np.minimum(j, M - 1)
        lh = log_h[np.arange(n), jj]
        h = monthly_hazard(lh, np.where(step > 0, effect, 1.0))
        h = np.where(inside & (jj - signup_m[rows] >= 1), h, 0.0)
        lo, hi = mstart[jj], mstart[jj + 1] - 1
        anniv = np.clip(signup_day + np.round((jj - signup_m[rows]) * 30.4375).astype(np.int64), lo, hi)
        anniv = np.maximum(anniv, signup_day + 1)
        length = (hi - lo + 1).astype(np.float64)
        q_before = np.where(annual, anniv < d0, np.clip(np.minimum(hi, d0 - 1) - lo + 1, 0, None) / length)
        q_window = np.where(annual, (anniv >= d0) & (anniv <= last),
                            np.clip(np.minimum(hi, last) - np.maximum(lo, d0) + 1, 0, None) / length)
        p_before += alive * h * q_before
        p_window += alive * h * q_window
        alive = alive * (1.0 - h)
    return 1.0 - p_window / (1.0 - p_before)


def _draw_onsets(rng: np.random.Generator, size: int, M: int, rate: np.ndarray) -> np.ndarray:
    """Episode onsets, one Bernoulli(``rate``) draw per customer and month (C x M booleans)."""
    return rng.random((size, M)) < rate[:, None]


def _events_in_cells(rng, lam, active_m, c, mstart, last_day):
    """Poisson counts per (customer, month) cell, timestamps uniform over the observable part.

    Returns (customer index, ms since ``start``), sorted by customer then time.
    """
    size, M = active_m.shape
    lo = np.maximum(mstart[None, :-1], c["signup_day"][:, None])
    hi = np.minimum(mstart[None, 1:], (last_day + 1)[:, None])
    open_days = np.clip(hi - lo, 0, None)
    mlen = np.diff(mstart)[None, :]
    ok = active_m & (open_days > 0) & (mstart[None, :-1] >= 0)
    counts = np.zeros((size, M), dtype=np.int64)
    lam_cells = np.broadcast_to(lam, (size, M))[ok] * open_days[ok] / mlen.repeat(size, 0)[ok]
    counts[ok] = rng.poisson(lam_cells)
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    cust = cell // M
    lo_ms = lo.ravel()[cell] * MS_PER_DAY
    width = open_days.ravel()[cell] * MS_PER_DAY
    ts = lo_ms + (rng.random(cell.size) * width).astype(np.int64)
    order = np.lexsort((ts, cust))
    return cust[order], ts[order]


def _billing(world, rng, c, signup_m, churn_day, observed_churn, billing, mstart, id_offsets):
    size = len(c["signup_day"])
    end_day = world.end_day
    price = PLAN_PRICE[c["plan"]]
    discount = np.where(rng.random(size) < 0.2, rng.choice([0.1, 0.15, 0.25], size=size), 0.0)
    mrr1 = np.round(price * c["seats"] * (1 - discount), 2)
    # one in five accounts changed plan once (upgrade more often than downgrade)
    changes = rng.random(size) < 0.2
    change_day = c["signup_day"] + rng.integers(90, 720, size)
    stop = np.where(observed_churn, churn_day, np.iinfo(np.int64).max)
    changes &= change_day < np.minimum(stop, end_day + 1)
    factor = np.where(rng.random(size) < 0.7, rng.uniform(1.2, 1.8, size), rng.uniform(0.5, 0.85, size))
    mrr2 = np.round(mrr1 * factor, 2)
    seats2 = np.maximum(1, np.round(c["seats"] * factor)).astype(np.int64)

    idx = np.concatenate([np.arange(size), np.flatnonzero(changes)])
    s_start = np.concatenate([c["signup_day"], change_day[changes]])
    s_end = np.concatenate([np.where(changes, change_day, stop), stop[changes]])
    s_mrr = np.concatenate([mrr1, mrr2[changes]])
    s_seats = np.concatenate([c["seats"], seats2[changes]])
    order = np.lexsort((s_start, idx))
    idx, s_start, s_end, s_mrr, s_seats = idx[order], s_start[order], s_end[order], s_mrr[order], s_seats[order]
    keep = s_start <= end_day
    idx, s_start, s_end, s_mrr, s_seats = idx[keep], s_start[keep], s_end[keep], s_mrr[keep], s_seats[keep]
    annual = c["annual"][idx]
    period_days = np.where(annual, 365, 30)
    running = s_end > end_day
    # the next renewal after the subscription's last day in the data (for an ended one: the
    # renewal it did not reach). Annual plans are co-termed: a mid-term plan change keeps the
    # account's signup anniversary, the date the churn model of this world renews (or leaves) on.
    years = np.where(annual, 365.25, 30.0)
    anchor = np.where(annual, c["signup_day"][idx], s_start)
    last_seen = np.minimum(s_end - 1, end_day)
    cycles = np.maximum(0, (last_seen - anchor) // years + 1)
    renewal = anchor + np.round(cycles * years).astype(np.int64)
    sub_ids = id_offsets["subscriptions"] + np.arange(len(idx)) + 1
    id_offsets["subscriptions"] += len(idx)
    subs = pa.table({
        "subscription_id": _ids("S-", sub_ids, 8),
        "customer_id": pc.take(c["customer_id"], pa.array(idx)),
        "plan": pc.take(pa.array(PLANS), pa.array(c["plan"][idx])),
        "start_date": _dates(world, s_start),
        "end_date": _dates(world, s_end, mask=running),
        "renewal_date": _dates(world, renewal),
        "billing_period": pa.array(np.where(annual, "annual", "monthly")),
        "mrr": pa.array(s_mrr),
        "seats": pa.array(s_seats),
    })
    mrr_at_end = np.zeros(size)
    np.maximum.at(mrr_at_end, idx[running], s_mrr[running])

    # invoices: one per billing period from the subscription's start while it runs
    # the data starts at `start`: earlier billing periods of backdated accounts are not exported
    first_inv = s_start + np.maximum(0, -(s_start // period_days)) * period_days
    last_inv = np.minimum(s_end - 1, end_day)
    n_inv = np.where(last_inv >= first_inv, (last_inv - first_inv) // period_days + 1, 0)
    sub_rep = np.repeat(np.arange(len(idx)), n_inv)
    k = np.arange(n_inv.sum()) - np.repeat(np.cumsum(n_inv) - n_inv, n_inv)
    issued_day = first_inv[sub_rep] + k * period_days[sub_rep]
    cust = idx[sub_rep]
    M = billing.shape[1]
    month = np.clip(np.searchsorted(mstart, issued_day, side="right") - 1, 0, M - 1)
    trouble = billing[cust, month]
    u = rng.random(len(cust))
    status = np.where(trouble, np.searchsorted([0.35, 0.7, 0.99], u, side="right"),
                      np.searchsorted([0.93, 0.985, 0.997], u, side="right"))  # 0 paid 1 late 2 failed 3 void
    status = np.clip(status, 0, 3)
    issued_ms = issued_day * MS_PER_DAY + 9 * 3_600_000
    due_ms = issued_ms + 30 * MS_PER_DAY
    paid_ms = np.where(status == 0, issued_ms + (rng.uniform(0, 25, len(cust)) * MS_PER_DAY).astype(np.int64),
                       due_ms + (rng.uniform(3, 45, len(cust)) * MS_PER_DAY).astype(np.int64))
    unpaid = (status >= 2) | (paid_ms > (end_day + 1) * MS_PER_DAY - 1)
    amount = np.round(s_mrr[sub_rep] * np.where(annual[sub_rep], 12, 1), 2)
    inv_ids = id_offsets["invoices"] + np.arange(len(cust)) + 1
    id_offsets["invoices"] += len(cust)
    order = np.lexsort((issued_ms, cust))
    inv = pa.table({
        "invoice_id": _ids("INV-", inv_ids, 9),
        "customer_id": pc.take(c["customer_id"], pa.array(cust[order])),
        "issued_at": _ts(world, issued_ms[order]),
        "due_at": _ts(world, due_ms[order]),
        "paid_at": _ts(world, paid_ms[order], mask=unpaid[order]),
        "amount": pa.array(amount[order]),
        "status": pc.take(pa.array(["paid", "late", "failed", "void"]), pa.array(status[order])),
    })
    return subs, inv, mrr_at_end


def _customers_table(world, rng, c, churn_day, observed_churn):
    size = len(c["signup_day"])
    missing = {}
    masks = {}
    for col in ("industry", "company_size", "preferred_channel", "owner"):
        m = rng.random(size) < 0.02
        masks[col] = m
        if m.any():
            missing[("customers", col)] = int(m.sum())
    reason = rng.integers(0, len(CHURN_REASONS), size)
    tbl = pa.table({
        "customer_id": c["customer_id"],
        "signup_date": _dates(world, c["signup_day"]),
        "churn_date": _dates(world, churn_day, mask=~observed_churn),
        "name": pc.binary_join_element_wise(pa.array(["Account"] * size), c["customer_id"], " "),
        "industry": pa.array(INDUSTRIES[c["industry"]], mask=masks["industry"]),
        "region": pa.array(REGIONS[c["region"]]),
        "company_size": pa.array(c["company_size"], mask=masks["company_size"]),
        "preferred_channel": pa.array(CHANNELS[c["channel"]], mask=masks["preferred_channel"]),
        "owner": pa.array(OWNERS[c["owner"]], mask=masks["owner"]),
        "churn_reason": pa.array(CHURN_REASONS[reason], mask=~observed_churn),
    })
    return tbl, missing


def _true_value(hazard, churn_m, mrr_at_end, c, world, mstart, margin=0.7, annual_discount=0.10):
    """Discounted expected margin over the simulated months after ``end``, plus advocacy value."""
    size, M = hazard.shape
    after = np.flatnonzero(mstart[:-1] > world.end_day)
    h = hazard[:, after]
    surv = np.cumprod(1.0 - h, axis=1)
    disc = (1.0 + annual_discount) ** (-np.arange(1, len(after) + 1) / 12.0)
    alive_at_end = churn_m > np.searchsorted(mstart, world.end_day, side="right") - 1
    margin_value = np.where(alive_at_end, margin * mrr_at_end * (surv * disc).sum(axis=1), 0.0)
    advocacy = np.where(c["vocal"], c["reach"] * 0.25, 0.0) * alive_at_end
    return margin_value + advocacy


def _plant_dirt(rng, tbl: pa.Table, name: str, first: int, width: int, dirt: dict, rate: float) -> pa.Table:
    """Append orphan rows (unknown customer ids) and exact duplicates; count them in ``dirt``."""
    n = tbl.num_rows
    if n == 0:
        return tbl
    k = max(1, int(round(n * rate)))
    picks = np.sort(rng.choice(n, size=2 * k, replace=False))
    orphan_src, dup_src = picks[:k], picks[k:]
    orphans = tbl.take(pa.array(orphan_src))
    fake = _ids("C-X", first + np.arange(k) + 1, width)
    orphans = orphans.set_column(0, "customer_id", fake)
    dups = tbl.take(pa.array(dup_src))
    out = pa.concat_tables([tbl, orphans, dups])
    dirt[(name, "unknown_customer")] = dirt.get((name, "unknown_customer"), 0) + k
    dirt[(name, "duplicate_row")] = dirt.get((name, "duplicate_row"), 0) + _count_duplicates(out)
    return out


def _count_duplicates(tbl: pa.Table) -> int:
    """Rows that repeat an earlier row exactly (what the validator calls duplicate_row)."""
    if tbl.num_rows == 0:
        return 0
    hashed = pd.util.hash_pandas_object(tbl.to_pandas(), index=False).to_numpy()
    return int(tbl.num_rows - np.unique(hashed).size)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.array([prefix] * len(numbers), pa.string()), digits, "")


def _ts(world: World, ms: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    base = np.datetime64(world.start.date(), "ms")
    values = base + np.asarray(ms, dtype=np.int64).astype("timedelta64[ms]") if mask is None else \
        base + np.where(mask, 0, ms).astype(np.int64).astype("timedelta64[ms]")
    return pa.array(values, type=pa.timestamp("ms"), mask=mask)


def _dates(world: World, days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    base = np.datetime64(world.start.date(), "D")
    safe = np.where(mask, 0, days) if mask is not None else days
    values = base + np.asarray(safe, dtype=np.int64).astype("timedelta64[D]")
    return pa.array(values, type=pa.date32(), mask=mask)


def _day(ms: np.ndarray) -> np.ndarray:
    return np.floor_divide(ms, MS_PER_DAY)


def _pick_text(rng, pools: dict[str, np.ndarray], tone: np.ndarray) -> np.ndarray:
    """Pick a sentence from the negative (0), neutral (1) or positive (2) pool for each row."""
    out = np.empty(len(tone), dtype=object)
    for i, key in enumerate(("neg", "neu", "pos")):
        where = np.flatnonzero(tone == i)
        out[where] = pools[key][rng.integers(0, len(pools[key]), where.size)]
    return out


class _Writer:
    """A Parquet file written chunk by chunk (one row group per chunk)."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path, self.schema, self.rows = path, schema, 0
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table.cast(self.schema))
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


def _write_counts(path: Path, keys: tuple[str, str], counts: dict) -> None:
    frame = pd.DataFrame([(*k, v) for k, v in sorted(counts.items())], columns=[*keys, "count"])
    frame.to_csv(path, index=False, lineterminator="\n")


def _truth_readme() -> str:
    doc = __doc__ or ""
    return "# Ground truth of the churnlab demo data\n\n" + doc.split("Output\n------\n", 1)[-1]

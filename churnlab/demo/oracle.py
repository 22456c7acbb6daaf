"""The as-of oracle: the best prediction the demo world's latent state allows at an as-of date.

:func:`expected_hazard` reads a truth folder of :func:`churnlab.demo.simulation.generate_demo_data`
and gives, per customer alive at the as-of date, the expected probability of churn within each
horizon given everything latent up to the as-of month, with later episodes integrated out by
Monte Carlo through the world's own hazard formula (``churnlab.demo.world``).
:func:`usage_limited_oracle` is the same oracle made to infer the disengagement from the usage
counts in the data: the ceiling of what any model of the data can see.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .world import (CHUNK, EPISODE_MONTHS, EPISODES, HOLD_OUT, MAX_HAZARD, RETENTION_ACCEPT_P, World,
                    arm_multiplier, contact_arm, episode_depth,
                    episode_months, log_hazard, month_index, monthly_hazard, retention_contacted,
                    trait_log_hazard, usage_fade, usage_rate, usage_season)

__all__ = ["expected_hazard", "usage_limited_oracle", "AsOfState", "as_of_state", "expected_from_state",
           "path_hazard", "ORACLE_CELLS"]

ORACLE_CELLS = 2_000_000   # customer x path x month cells simulated at once (memory only: results do not depend on it)


def expected_hazard(truth: str | Path, as_of: str | date, months: Sequence[int] = (3, 12),
                    draws: int = 400, seed: int = 0) -> pd.DataFrame:
    """The demo world's best possible churn prediction at ``as_of``: what its latent state knows.

    For every customer alive at ``as_of`` (signed up by then, not churned by then): the expected
    probability of churning within each horizon, E[1 - prod_k (1 - h_k)] over the months k after
    the as-of month, given the traits, every episode begun up to the as-of month (how far into
    it, how many months are left), contract and renewal timing and a retention action already
    taken. Onsets of later episodes, and a later retention action with its acceptance, are
    integrated out by Monte Carlo: ``draws`` paths per customer, drawn with the world's own rates
    and passed through the generator's own hazard formula (:func:`log_hazard`,
    :func:`monthly_hazard`). ``hazard.parquet`` instead holds the one path the world took, which
    already contains episodes no one could know at ``as_of``.

    Parameters
    ----------
    truth : the ``<out>-truth`` folder of :func:`generate_demo_data` (reads ``latent.parquet``,
        ``episodes.parquet``, ``customers.parquet`` and ``world.json``).
    as_of : the as-of date. The latent state is known through the end of its month and the
        horizons count whole months after it, so a month's last day is the exact case.
    months : horizons in whole months after the as-of month (each >= 1).
    draws : Monte Carlo paths per customer, shared by all customers (common random numbers).
        With 400, on the 5,000-customer demo as of 2025-06-30, the ROC AUC of ``p_within_3m``
        moves by 0.0002 and the concordance of ``cumulative_hazard`` by 0.0013 across three
        seeds (``benchmarks/oracle.py``).
    seed : seeds the paths; the same arguments give the same frame.

    Returns
    -------
    DataFrame sorted by customer_id: ``customer_id``, ``p_within_<h>m`` for each horizon, and
    ``cumulative_hazard``, ``-log`` of the expected survival over the longest horizon (the
    cumulative hazard of the as-of survival curve: a ranking of time to churn).

    Example
    -------
    >>> expected_hazard("data/demo-truth", "2025-06-30", months=(3, 12))   # doctest: +SKIP
    """
    months = tuple(int(h) for h in months)
    if not months or min(months) < 1:
        raise ValueError(f"months must be whole months after the as-of month, each >= 1; got {months}")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    state = as_of_state(Path(truth), pd.Timestamp(as_of).normalize(), max(months))
    return expected_from_state(state, months, draws, seed)


def expected_from_state(state: "AsOfState", months: Sequence[int], draws: int, seed: int) -> pd.DataFrame:
    """:func:`expected_hazard` of a given as-of state (also a state altered on purpose, as the
    benchmarks do to see what part of the latent knowledge buys what)."""
    H, n = state.horizon, len(state.customer_id)
    # common random numbers: every customer's paths use the same uniform draws, so two customers
    # alike but for a higher onset rate get at least as many onsets on every path and their
    # estimates keep their true order; each estimate is still an unbiased mean of its own paths
    rng = np.random.default_rng(seed)
    u_onset = {kind: rng.random((1, draws, H)) for kind in EPISODES}
    u_contact, u_accept = rng.random((1, draws, H)), rng.random((1, draws))
    block = max(1, ORACLE_CELLS // (draws * (H + max(EPISODE_MONTHS.values()))))
    survival = np.empty((n, H))
    for lo in range(0, n, block):
        part = state.take(slice(lo, min(lo + block, n)))
        future = {kind: u_onset[kind] < part.rates[kind][:, None, None] for kind in EPISODES}
        hazard = path_hazard(part, future, u_contact, u_accept)
        survival[lo:lo + len(part.customer_id)] = np.cumprod(1.0 - hazard, axis=-1).mean(axis=1)
    out = pd.DataFrame({"customer_id": state.customer_id})
    for h in months:
        out[f"p_within_{h}m"] = 1.0 - survival[:, h - 1]
    out["cumulative_hazard"] = -np.log(survival[:, H - 1])
    return out


@dataclass(frozen=True)
class AsOfState:
    """What the latent world knows at the end of the as-of month, per alive customer."""

    customer_id: np.ndarray
    horizon: int                  # H months simulated after the as-of month
    base: np.ndarray              # trait term of the log hazard
    annual: np.ndarray
    saveable: np.ndarray
    age: np.ndarray               # C x (H + 1): months since signup, as-of month first
    rates: dict                   # kind -> C onset probabilities
    recent: dict                  # kind -> C x L: onsets of the last L months up to the as-of month
    depth: np.ndarray             # months into a disengagement at the as-of month (0 outside)
    after_retention: np.ndarray   # C x H: hazard multiplier of an accepted retention action taken by the as-of month (1: none)
    retention_open: np.ndarray    # C: no retention action yet, so one may still come
    contactable: np.ndarray       # H: months a retention action can fall in (inside the data)
    company_size: np.ndarray      # C: what the arm of a later retention action and its effect depend on

    def take(self, rows) -> "AsOfState":
        """The state of the customers ``rows`` (an index or slice of the customer axis)."""
        return AsOfState(self.customer_id[rows], self.horizon, self.base[rows], self.annual[rows],
                          self.saveable[rows], self.age[rows],
                          {k: v[rows] for k, v in self.rates.items()},
                          {k: v[rows] for k, v in self.recent.items()}, self.depth[rows],
                          self.after_retention[rows], self.retention_open[rows], self.contactable,
                          self.company_size[rows])


def path_hazard(state: AsOfState, future: dict, u_contact: np.ndarray, u_accept: np.ndarray) -> np.ndarray:
    """Monthly hazard of each path (C x D x H) after the as-of month.

    ``future[kind]`` holds each path's episode onsets in the H months after the as-of month
    (C x D x H); ``u_contact`` (C x D x H) and ``u_accept`` (C x D) are the uniform draws that
    decide a retention action not yet taken, as the generator uses them (arrays broadcast, so
    draws shared by all customers may have a leading 1).
    """
    L = max(EPISODE_MONTHS.values())
    d = next(iter(future.values())).shape[1]
    # onsets from L - 1 months before the as-of month on: enough for every episode state from
    # the as-of month on (an episode lasts at most L months, its onset month included)
    states = {kind: episode_months(np.concatenate(
        [np.broadcast_to(state.recent[kind][:, None, :], (len(state.base), d, L)), future[kind]], axis=-1),
        EPISODE_MONTHS[kind])[..., L - 1:] for kind in EPISODES}                   # C x D x (H + 1)
    dis = states["disengagement"]
    depth = np.concatenate([np.broadcast_to(state.depth[:, None, None], dis.shape[:2] + (1,)),
                            episode_depth(dis[..., 1:], run=state.depth[:, None])], axis=-1)
    log_h = log_hazard(state.base[:, None, None], state.age[:, None, :], state.annual[:, None, None],
                       dis, depth, states["support"], states["billing"], states["dispute"])[..., 1:]
    contacted = retention_contacted(log_h, state.contactable & state.retention_open[:, None, None], u_contact)
    first = np.where(contacted.any(axis=-1), contacted.argmax(axis=-1), state.horizon)
    # given acceptance, u_accept / RETENTION_ACCEPT_P is uniform again: it draws the contact's
    # arm, independent of the acceptance as in the generator
    arm = contact_arm(u_accept / RETENTION_ACCEPT_P, state.company_size[:, None])
    accepted = state.saveable[:, None] & (u_accept < RETENTION_ACCEPT_P) & (arm != HOLD_OUT)
    later = (np.arange(state.horizon) > first[..., None]) & accepted[..., None]
    effect = np.where(later, arm_multiplier(arm, state.company_size[:, None])[..., None], 1.0)
    return monthly_hazard(log_h, state.after_retention[:, None, :] * effect)


def as_of_state(truth: Path, as_of: pd.Timestamp, horizon: int) -> AsOfState:
    """What the latent world of the truth folder ``truth`` knows at the end of the month of
    ``as_of``, for every customer alive then, ready to simulate ``horizon`` months after it (the
    state :func:`expected_from_state` and :func:`path_hazard` take)."""
    needed = ("world.json", "latent.parquet", "episodes.parquet", "customers.parquet")
    missing = [name for name in needed if not (truth / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"{truth}: the as-of oracle needs {', '.join(needed)}; missing {', '.join(missing)} "
            "(a truth folder from an older churnlab: generate the demo again with churnlab demo-data)")
    world = _truth_world(truth)
    mstart = world.month_starts
    n_months = len(mstart) - 1
    m = month_index(world, as_of)
    if m < 0 or m + horizon >= n_months:
        last = world.month0 + pd.DateOffset(months=n_months - 1 - horizon)
        raise ValueError(f"as_of {as_of.date()} with a horizon of {horizon} months is outside the simulated "
                         f"world of {truth}: the as-of month must lie between {world.month0.date()} and "
                         f"{last.date()}")

    latent = pd.read_parquet(truth / "latent.parquet")
    if "retention_effect" not in latent.columns:
        raise ValueError(f"{truth / 'latent.parquet'} has no retention_effect column: a truth folder from "
                         "before retention actions had effects of their own; generate the demo again "
                         "with churnlab demo-data")
    churn = pd.read_parquet(truth / "customers.parquet", columns=["customer_id", "true_churn_date"])
    latent = latent.merge(churn, on="customer_id", how="left", validate="one_to_one")
    signup = pd.to_datetime(latent["signup_date"])
    churned = pd.to_datetime(latent["true_churn_date"])
    alive = (signup <= as_of) & (churned.isna() | (churned > as_of))
    latent = latent[alive.to_numpy()].sort_values("customer_id", kind="stable").reset_index(drop=True)
    n = len(latent)
    signup_m = month_index(world, pd.to_datetime(latent["signup_date"])).to_numpy()

    # every onset up to the as-of month: the episode states and how deep a disengagement runs
    L = max(EPISODE_MONTHS.values())
    onsets = pd.read_parquet(truth / "episodes.parquet")
    onsets = onsets.assign(row=pd.Index(latent["customer_id"]).get_indexer(onsets["customer_id"]),
                           m=month_index(world, pd.to_datetime(onsets["month"])))
    onsets = onsets[(onsets["row"] >= 0) & (onsets["m"] <= m)]
    unknown = set(onsets["episode"]) - set(EPISODES)
    if unknown:
        raise ValueError(f"{truth / 'episodes.parquet'}: episode must be one of {', '.join(EPISODES)}; "
                         f"found {', '.join(sorted(map(str, unknown)))}")
    known = {}
    for kind in EPISODES:
        grid = np.zeros((n, m + 1 + L), dtype=bool)          # L leading empty months: before the world
        rows = onsets[onsets["episode"] == kind]
        grid[rows["row"].to_numpy(), rows["m"].to_numpy() + L] = True
        known[kind] = grid
    depth = episode_depth(episode_months(known["disengagement"], EPISODE_MONTHS["disengagement"]))[:, -1]

    steps = np.arange(horizon + 1)
    retention_m = month_index(world, pd.to_datetime(latent["retention_month"]))
    taken = (retention_m <= m).to_numpy()                  # NaN (none) compares False
    after = taken[:, None] & latent["retention_accepted"].to_numpy()[:, None] \
        & (m + steps[1:][None, :] > np.nan_to_num(retention_m.to_numpy(), nan=0)[:, None])
    in_data = (mstart[:-1] >= 0) & (mstart[1:] <= world.end_day + 1)
    return AsOfState(
        customer_id=latent["customer_id"].to_numpy(),
        horizon=horizon,
        base=trait_log_hazard(latent["fit"].to_numpy(), latent["engagement"].to_numpy(),
                              latent["low_usage_loyal"].to_numpy()),
        annual=latent["annual"].to_numpy(),
        saveable=latent["saveable"].to_numpy(),
        age=(m + steps)[None, :] - signup_m[:, None],
        rates={kind: latent[f"rate_{kind}"].to_numpy(dtype=np.float64) for kind in EPISODES},
        recent={kind: known[kind][:, -L:] for kind in EPISODES},
        depth=depth,
        after_retention=np.where(after, latent["retention_effect"].to_numpy(dtype=np.float64)[:, None], 1.0),
        retention_open=~taken,
        contactable=in_data[m + 1:m + 1 + horizon],
        company_size=latent["company_size"].to_numpy(),
    )


def _truth_world(truth: Path) -> World:
    """The calendar of the world a truth folder was simulated in (its ``world.json``)."""
    spec = json.loads((truth / "world.json").read_text(encoding="utf-8"))
    return World(pd.Timestamp(spec["start"]), pd.Timestamp(spec["end"]), width=5)


# ---------------------------------------------------------------------------------------------
# The usage-limited oracle: the as-of oracle made to infer the disengagement from usage counts
# ---------------------------------------------------------------------------------------------

def usage_limited_oracle(folder: str | Path, as_of: str | date, draws: int = 400,
                         seed: int = 0) -> tuple[pd.DataFrame, AsOfState]:
    """Per customer alive at ``as_of``: the usage-limited oracle's P(churn within 3 months) and
    cumulative hazard over 12, the best churn probability any model of the demo data could give.

    It is the as-of oracle made to *infer* the disengagement from the monthly usage counts in
    the data (``<folder>/usage_events.parquet``) instead of knowing it. It still knows every trait
    (so each account's exact usage rate before the season) and every other episode, and it uses
    the generator's own formulas, so no model of the data can do better at seeing the
    disengagement; its ROC AUC and concordance bound what the data reveals. For each account it
    weighs seven histories of the last six months (no disengagement onset, or one onset 0-5
    months before the as-of month) by prior (the account's onset rate), survival (an account deep
    in a disengagement would likely have churned already) and the Poisson likelihood of the usage
    counts of the last seven calendar months (season and exposure after signup included), and
    averages the as-of oracle's P(churn) and survival under each. Overlapping onsets and the
    hazard's age and renewal terms before the as-of month are left out of the weights (rare or
    shared by all seven).

    Parameters
    ----------
    folder : the demo data folder of :func:`churnlab.demo.simulation.generate_demo_data`; its
        ground truth is read from ``<folder>-truth``.
    as_of, draws, seed : as for :func:`expected_hazard`.

    Returns
    -------
    The frame (``customer_id``, ``p_within_3m``, ``cumulative_hazard``, and
    ``posterior_no_disengagement``, the weight of the history without an onset) and the as-of
    oracle's own state (to judge the frame against the oracle that knows the episode).
    """
    import duckdb

    folder = Path(folder)
    truth = folder.with_name(folder.name + "-truth")
    as_of = pd.Timestamp(as_of)
    state = as_of_state(truth, as_of, 12)
    m = month_index(_truth_world(truth), as_of)
    L = EPISODE_MONTHS["disengagement"]
    ids = pd.Index(state.customer_id)

    # the usage rate of every account before the season: traits, first subscription's seats, and
    # the mean seats of its generation chunk
    latent = pd.read_parquet(truth / "latent.parquet").sort_values("customer_id").reset_index(drop=True)
    subs = pd.read_parquet(folder / "subscriptions.parquet", columns=["customer_id", "start_date", "seats"])
    seats = subs.sort_values(["customer_id", "start_date"], kind="stable").groupby("customer_id")["seats"].first()
    seats = latent["customer_id"].map(seats).to_numpy(dtype=np.float64)
    chunk = np.arange(len(latent)) // CHUNK
    seat_mean = pd.Series(seats).groupby(chunk).transform("mean").to_numpy()
    rate = usage_rate(latent["engagement"], seats, seat_mean, latent["low_usage_loyal"].to_numpy())
    rate = pd.Series(rate, index=latent["customer_id"]).reindex(ids).to_numpy()
    signup = pd.to_datetime(latent.set_index("customer_id")["signup_date"].reindex(ids))

    # usage counts of the last L + 1 calendar months, and the share of each month after signup
    months = pd.date_range(end=as_of.to_period("M").to_timestamp(), periods=L + 1, freq="MS")
    counts = duckdb.sql(f"""
        SELECT customer_id, date_trunc('month', ts) AS month, count(*) AS n
        FROM read_parquet('{folder / "usage_events.parquet"}')
        WHERE ts >= TIMESTAMP '{months[0].date()}' AND ts < TIMESTAMP '{(as_of + pd.Timedelta(days=1)).date()}'
        GROUP BY 1, 2""").df()
    n = np.zeros((len(ids), L + 1))
    row, col = ids.get_indexer(counts["customer_id"]), months.get_indexer(pd.to_datetime(counts["month"]))
    ok = (row >= 0) & (col >= 0)
    np.add.at(n, (row[ok], col[ok]), counts["n"].to_numpy()[ok])
    starts = months.values.astype("datetime64[D]").astype(np.int64)
    stops = (months + pd.offsets.MonthBegin(1)).values.astype("datetime64[D]").astype(np.int64)
    first = signup.values.astype("datetime64[D]").astype(np.int64)
    exposure = np.clip((stops[None, :] - np.maximum(starts[None, :], first[:, None])) / (stops - starts)[None, :], 0, 1)
    lam = rate[:, None] * exposure * usage_season(m - L + np.arange(L + 1))[None, :]

    # seven histories: no onset in the last L months, or one k = 0..L-1 months before the as-of month
    r = state.rates["disengagement"]
    base_log_h = state.base + np.where(state.annual, np.log(0.12), 0.0)
    log_w, p3, cum = [], [], []
    for k in [None, *range(L)]:
        onsets = np.zeros_like(state.recent["disengagement"])
        depth_path = np.zeros(L + 1)                       # depth in each of the last L + 1 months
        if k is not None:
            onsets[:, L - 1 - k] = True
            depth_path[L - k:] = np.arange(1, k + 2)
        prior = np.log1p(-r) * L if k is None else np.log(r) + np.log1p(-r) * (L - 1)
        # survival through the episode's months so far, against that of no episode
        inside = depth_path[depth_path > 0]
        h_in = 1 - np.exp(-np.exp(base_log_h[:, None] + 0.3 + 0.8 * inside[None, :]))
        h_out = 1 - np.exp(-np.exp(base_log_h))[:, None]
        surv = np.log1p(-np.minimum(h_in, MAX_HAZARD)).sum(axis=1) - len(inside) * np.log1p(-h_out[:, 0])
        fade = usage_fade(depth_path)[None, :]
        like = (n * np.log(fade) - lam * fade).sum(axis=1)
        log_w.append(prior + surv + like)
        hyp = dataclasses.replace(state, recent={**state.recent, "disengagement": onsets},
                                  depth=np.full(len(ids), 0.0 if k is None else k + 1.0))
        out = expected_from_state(hyp, (3, 12), draws, seed)
        p3.append(out["p_within_3m"].to_numpy())
        cum.append(np.exp(-out["cumulative_hazard"].to_numpy()))      # survival over 12 months
    log_w = np.array(log_w)
    w = np.exp(log_w - log_w.max(axis=0))
    w /= w.sum(axis=0)
    return pd.DataFrame({"customer_id": state.customer_id, "p_within_3m": (w * np.array(p3)).sum(axis=0),
                         "cumulative_hazard": -np.log((w * np.array(cum)).sum(axis=0)),
                         "posterior_no_disengagement": w[0]}), state

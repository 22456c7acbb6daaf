"""The simulated demo world: its calendar, its parameters and the latent hazard formula.

What the month-by-month simulation (``churnlab.demo.simulation``) and the as-of oracle
(``churnlab.demo.oracle``) share: the calendar (:class:`World`, :func:`month_index`), the
episode kinds and their lengths, the retention action's parameters, and the formulas of the
monthly churn hazard (:func:`trait_log_hazard`, :func:`episode_rates`, :func:`log_hazard`,
:func:`retention_contacted`, :func:`monthly_hazard`) and of usage (:func:`usage_rate`,
:func:`usage_fade`, :func:`usage_season`). The world itself is described in
``churnlab.demo.simulation``, whose docstring is the truth folder's ``README.md``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["World", "month_index", "CHUNK", "HISTORY_MONTHS", "TRUTH_MONTHS", "EPISODES", "EPISODE_MONTHS",
           "RETENTION_RISK", "RETENTION_CONTACT_P", "RETENTION_ACCEPT_P", "RETENTION_EFFECT", "MAX_HAZARD",
           "ACTIONS", "HOLD_OUT", "TRIAL_SHARE", "ACTION_EFFECTS", "contact_arm", "arm_multiplier",
           "episode_rates", "trait_log_hazard", "log_hazard", "retention_contacted", "monthly_hazard",
           "usage_rate", "usage_fade", "usage_season", "episode_months", "episode_depth"]

CHUNK = 50_000        # customers simulated together (one seed each; usage scales with the chunk's mean seats)
HISTORY_MONTHS = 24   # accounts may have signed up up to two years before `start`
TRUTH_MONTHS = 24     # churn is simulated this far past `end` (truth only)


# ---------------------------------------------------------------------------------------------
# The world's calendar
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class World:
    """The simulated world's calendar: the data runs from ``start`` to ``end``; accounts sign up
    from ``HISTORY_MONTHS`` before ``start`` and churn is simulated ``TRUTH_MONTHS`` past ``end``;
    ``width`` is the digit count of the customer ids. Days are counted from ``start``."""

    start: pd.Timestamp
    end: pd.Timestamp
    width: int

    @property
    def month0(self) -> pd.Timestamp:
        """The first day of the first simulated month (``HISTORY_MONTHS`` before ``start``)."""
        return (self.start - pd.DateOffset(months=HISTORY_MONTHS)).to_period("M").to_timestamp()

    @property
    def month_starts(self) -> np.ndarray:
        """Day offsets (from ``start``) of each simulated month's first day, plus one past the last."""
        last = (self.end + pd.DateOffset(months=TRUTH_MONTHS + 1)).to_period("M").to_timestamp()
        months = pd.date_range(self.month0, last, freq="MS")
        return ((months - self.start) // pd.Timedelta(days=1)).to_numpy().astype(np.int64)

    @property
    def end_day(self) -> int:
        """The day offset of ``end`` (the data's last day) from ``start``."""
        return int((self.end - self.start) // pd.Timedelta(days=1))


def month_index(world: World, when):
    """Months since the world's first simulated month (scalar or Series of timestamps)."""
    m0 = world.month0
    parts = when.dt if isinstance(when, pd.Series) else when
    return (parts.year - m0.year) * 12 + (parts.month - m0.month)


# ---------------------------------------------------------------------------------------------
# The latent hazard: one formula, used by the generator and by the as-of oracle
# ---------------------------------------------------------------------------------------------

EPISODES = ("disengagement", "support", "billing", "dispute")
EPISODE_MONTHS = {"disengagement": 6, "support": 2, "billing": 2, "dispute": 2}
RETENTION_RISK = 0.06       # an account is "risky" in a month whose hazard exceeds this
RETENTION_CONTACT_P = 0.25  # chance that a risky month is the month of the one retention action
RETENTION_ACCEPT_P = 0.85   # chance that a saveable account accepts it (others never do)
RETENTION_EFFECT = 0.35     # hazard multiplier of ``monthly_hazard`` given a boolean ``after_retention``
MAX_HAZARD = 0.95

# The retention actions and their true effects. A contacted account is in the retention trial
# with probability TRIAL_SHARE: its arm is then drawn at random, each of the three actions or the
# hold-out (no contact) with probability 1/4. Otherwise the team chose by company size (the
# policy of POLICY_ACTION), so outside the trial the action says something about the account.
# An accepted action multiplies the monthly hazard from the month after it by its effect, which
# depends on company size: a discount helps small accounts, an executive call large ones.
ACTIONS = ("discount_offer", "executive_call", "training_session")
HOLD_OUT = len(ACTIONS)     # arm index of the trial's hold-out
TRIAL_SHARE = 0.6
ACTION_EFFECTS = {          # action -> (multiplier up to 50 employees, above 50)
    "discount_offer": (0.30, 0.75),
    "executive_call": (0.70, 0.20),
    "training_session": (0.45, 0.45),
}
_SMALL = 50


def contact_arm(u: np.ndarray, company_size: np.ndarray) -> np.ndarray:
    """The arm of a retention contact from one uniform draw ``u``: an index into
    :data:`ACTIONS`, or :data:`HOLD_OUT`. ``u < TRIAL_SHARE`` is the trial (arm drawn from ``u``
    itself, uniform over the four arms); above it the team's choice by company size (up to 10:
    discount, 11-50: training, above 50: executive call)."""
    u = np.asarray(u, dtype=np.float64)
    size = np.asarray(company_size)
    policy = np.where(size > _SMALL, 1, np.where(size > 10, 2, 0))
    trial_arm = np.minimum((u / TRIAL_SHARE * (len(ACTIONS) + 1)).astype(np.int64), HOLD_OUT)
    return np.where(u < TRIAL_SHARE, trial_arm, policy)


def arm_multiplier(arm: np.ndarray, company_size: np.ndarray) -> np.ndarray:
    """The hazard multiplier of an *accepted* contact of ``arm`` (1 for the hold-out)."""
    arm = np.asarray(arm)
    large = np.asarray(company_size) > _SMALL
    out = np.ones(np.broadcast(arm, large).shape)
    for i, name in enumerate(ACTIONS):
        small_m, large_m = ACTION_EFFECTS[name]
        out = np.where(arm == i, np.where(large, large_m, small_m), out)
    return out


def episode_rates(fit: np.ndarray, engagement: np.ndarray) -> dict[str, np.ndarray]:
    """Monthly onset probability of each episode kind per customer (constant over time)."""
    fit, engagement = np.asarray(fit, dtype=np.float64), np.asarray(engagement, dtype=np.float64)
    return {"disengagement": 0.016 * np.exp(-0.7 * fit - 0.4 * engagement),
            "support": 0.020 * np.exp(-0.5 * fit),
            "billing": 0.010 * np.exp(-0.3 * fit),
            "dispute": 0.006 * np.ones(fit.shape)}


def trait_log_hazard(fit: np.ndarray, engagement: np.ndarray, low_usage_loyal: np.ndarray) -> np.ndarray:
    """The part of the monthly log hazard that follows from the hidden traits alone."""
    engagement_term = np.where(low_usage_loyal, 0.0, -0.35 * engagement)
    return np.log(0.0035) - 0.45 * fit + engagement_term


def log_hazard(base: np.ndarray, age: np.ndarray, annual: np.ndarray, disengage: np.ndarray,
               dis_depth: np.ndarray, support: np.ndarray, billing: np.ndarray,
               dispute: np.ndarray) -> np.ndarray:
    """Monthly log hazard before any retention action, months along the last axis.

    ``base`` from :func:`trait_log_hazard`, ``age`` months since signup, ``annual`` the contract
    kind, the episode arrays whether each month is inside an episode of that kind and
    ``dis_depth`` how many months into a disengagement. Arrays broadcast against each other.
    """
    # customers leave after living through trouble, not while it starts: a support, billing or
    # dispute episode raises the hazard from the month after it shows in the data (symptoms
    # precede churn); a fading usage is its own symptom, month by month
    log_h = base \
        + 0.5 * (age < 6) \
        + 0.3 * disengage + 0.8 * dis_depth \
        + 0.9 * _lag(support) + 0.8 * _lag(billing) + 1.0 * _lag(dispute)
    # annual contracts churn mostly at renewal (every twelfth month after signup)
    renewal_month = (age % 12 == 0) & (age >= 12)
    return log_h + np.where(annual, np.where(renewal_month, np.log(9.0), np.log(0.12)), 0.0)


def usage_rate(engagement: np.ndarray, seats: np.ndarray, seat_mean: float,
               low_usage_loyal: np.ndarray) -> np.ndarray:
    """Usage events per month of an account outside any disengagement, before the season
    (``seat_mean``: the mean seats of the accounts generated with it, one chunk of customers)."""
    rate = 6.0 * np.exp(0.45 * np.asarray(engagement, dtype=np.float64) - 0.1) * (seats / seat_mean) ** 0.3
    return np.where(low_usage_loyal, 1.2, rate)


def usage_fade(depth: np.ndarray) -> np.ndarray:
    """The share of its usage an account keeps ``depth`` months into a disengagement (1 at 0)."""
    depth = np.asarray(depth, dtype=np.float64)
    return np.where(depth > 0, np.clip(1.0 - 0.2 * depth, 0.08, 1.0), 1.0)


def usage_season(month_idx: np.ndarray) -> np.ndarray:
    """The seasonal factor of usage in each month (months since the world's first month)."""
    return 1.0 + 0.15 * np.sin(2 * np.pi * np.asarray(month_idx) / 12)


def retention_contacted(log_h: np.ndarray, eligible: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Months that may be the month of the retention action: eligible (alive, inside the data),
    risky by the hazard before any action (``log_h``), and the uniform draw ``u`` says so. Only
    the first such month of an account counts."""
    h0 = 1.0 - np.exp(-np.exp(log_h))
    return eligible & (h0 > RETENTION_RISK) & (u < RETENTION_CONTACT_P)


def monthly_hazard(log_h: np.ndarray, after_retention: np.ndarray) -> np.ndarray:
    """The true churn probability of each month: the log hazard of :func:`log_hazard`, lowered
    in the months after an accepted retention action. ``after_retention`` is boolean (lowered by
    :data:`RETENTION_EFFECT`) or the hazard multiplier of each month (1: no action)."""
    after_retention = np.asarray(after_retention)
    if after_retention.dtype == bool:
        log_h = log_h + np.where(after_retention, np.log(RETENTION_EFFECT), 0.0)
    else:
        log_h = log_h + np.log(after_retention)
    return np.clip(1.0 - np.exp(-np.exp(log_h)), 0.0, MAX_HAZARD)


# ---------------------------------------------------------------------------------------------
# Episodes along the month axis
# ---------------------------------------------------------------------------------------------

def episode_months(onset: np.ndarray, length: int) -> np.ndarray:
    """Months inside an episode (along the last axis): each onset lasts ``length`` months,
    counting its own; overlapping episodes merge."""
    csum = np.cumsum(onset, axis=-1)
    lagged = np.zeros_like(csum)
    lagged[..., length:] = csum[..., :-length]
    return (csum - lagged) > 0


def _lag(x: np.ndarray, months: int = 1) -> np.ndarray:
    """``x`` shifted ``months`` later along the month (last) axis (zeros at the start)."""
    out = np.zeros_like(x)
    out[..., months:] = x[..., :-months]
    return out


def episode_depth(episode: np.ndarray, run: np.ndarray | float = 0.0) -> np.ndarray:
    """How many consecutive episode months up to and including each month (0 outside), along
    the last axis; ``run`` is the count just before the first month (0: none)."""
    depth = np.zeros(episode.shape, dtype=np.float64)
    run = np.broadcast_to(np.asarray(run, dtype=np.float64), episode.shape[:-1])
    for m in range(episode.shape[-1]):
        run = np.where(episode[..., m], run + 1, 0)
        depth[..., m] = run
    return depth


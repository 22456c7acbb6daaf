"""The as-of oracle (``churnlab.demo.oracle.expected_hazard``): what the demo world's latent state knows
at an as-of date, with later episodes integrated out.

The hand-made worlds below are as of 2025-06-30 (the as-of month is June 2025, the horizons
count July, August, September, ...). A customer's monthly hazard is 1 - exp(-exp(log h)); with
fit 0 and engagement 0 on a monthly contract, more than six months after signup and outside any
episode, log h = log(0.0035), so exp(log h) = 0.0035 and the month's survival is exp(-0.0035).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnlab.demo.oracle import as_of_state, expected_hazard, path_hazard, usage_limited_oracle
from churnlab.demo.simulation import generate_demo_data
from churnlab.demo.world import ACTIONS, EPISODES, RETENTION_ACCEPT_P, TRIAL_SHARE

AS_OF = "2025-06-30"
BASE = 0.0035            # exp(log h) of a fit-0, engagement-0 customer in a quiet month


def _customer(customer_id: str, **overrides) -> dict:
    row = {"customer_id": customer_id, "signup_date": pd.Timestamp("2023-01-15"), "fit": 0.0,
           "engagement": 0.0, "low_usage_loyal": False, "annual": False, "saveable": False,
           "rate_disengagement": 0.0, "rate_support": 0.0, "rate_billing": 0.0, "rate_dispute": 0.0,
           "retention_month": pd.NaT, "retention_accepted": False, "retention_effect": 1.0,
           "company_size": 20, "true_churn_date": pd.NaT}
    row.update(overrides)
    return row


def _truth(folder: Path, customers: list[dict], onsets: list[tuple[str, str, str]] = ()) -> Path:
    """A truth folder with the files the oracle reads; ``onsets`` as (customer, month, episode)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "world.json").write_text(json.dumps({"start": "2023-07-01", "end": "2026-06-30"}))
    frame = pd.DataFrame(customers)
    for col in ("signup_date", "retention_month", "true_churn_date"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    frame.drop(columns="true_churn_date").to_parquet(folder / "latent.parquet")
    frame[["customer_id", "true_churn_date"]].to_parquet(folder / "customers.parquet")
    episodes = pd.DataFrame(list(onsets), columns=["customer_id", "month", "episode"])
    episodes["month"] = pd.to_datetime(episodes["month"]).dt.date
    episodes.to_parquet(folder / "episodes.parquet")
    return folder


def _row(frame: pd.DataFrame, customer_id: str) -> pd.Series:
    return frame.set_index("customer_id").loc[customer_id]


def test_a_customer_without_random_future_gets_exactly_its_deterministic_hazard(tmp_path):
    truth = _truth(tmp_path, [_customer("C-1")])
    got = _row(expected_hazard(truth, AS_OF, months=(3, 12), draws=5, seed=1), "C-1")
    assert got["p_within_3m"] == pytest.approx(1 - math.exp(-3 * BASE), rel=1e-12)
    assert got["p_within_12m"] == pytest.approx(1 - math.exp(-12 * BASE), rel=1e-12)
    assert got["cumulative_hazard"] == pytest.approx(12 * BASE, rel=1e-12)


def test_an_annual_contract_renewing_in_the_horizon_carries_its_renewal_hazard(tmp_path):
    # signed up in August 2023: August 2025 (the second month after the as-of month) is the
    # second anniversary, hazard x 9; the other months of an annual contract are x 0.12
    truth = _truth(tmp_path, [_customer("C-1", annual=True, signup_date=pd.Timestamp("2023-08-10"))])
    got = _row(expected_hazard(truth, AS_OF, months=(3,), draws=5, seed=1), "C-1")
    assert got["p_within_3m"] == pytest.approx(1 - math.exp(-BASE * (0.12 + 9.0 + 0.12)), rel=1e-9)


def test_a_customer_mid_disengagement_keeps_its_known_remaining_months(tmp_path):
    # onset in April 2025: a six-month episode April..September, so July, August and September
    # are its months 4, 5 and 6 (log h + 0.3 + 0.8 x depth); October is quiet again
    truth = _truth(tmp_path, [_customer("C-1")], [("C-1", "2025-04-01", "disengagement")])
    got = _row(expected_hazard(truth, AS_OF, months=(3, 4), draws=5, seed=1), "C-1")
    inside = [BASE * math.exp(0.3 + 0.8 * depth) for depth in (4, 5, 6)]
    assert got["p_within_3m"] == pytest.approx(1 - math.exp(-sum(inside)), rel=1e-9)
    assert got["p_within_4m"] == pytest.approx(1 - math.exp(-sum(inside) - BASE), rel=1e-9)


def test_trouble_begun_in_the_as_of_month_raises_the_hazard_of_the_two_months_after(tmp_path):
    # a support episode June..July 2025 weighs on the month after each of its months (x e^0.9)
    truth = _truth(tmp_path, [_customer("C-1")], [("C-1", "2025-06-01", "support")])
    got = _row(expected_hazard(truth, AS_OF, months=(3,), draws=5, seed=1), "C-1")
    assert got["p_within_3m"] == pytest.approx(1 - math.exp(-BASE * (2 * math.exp(0.9) + 1)), rel=1e-9)


def test_an_accepted_retention_action_before_the_as_of_date_keeps_lowering_the_hazard(tmp_path):
    truth = _truth(tmp_path, [_customer("C-1", saveable=True, retention_month=pd.Timestamp("2025-03-01"),
                                        retention_accepted=True, retention_effect=0.3)])
    got = _row(expected_hazard(truth, AS_OF, months=(3,), draws=5, seed=1), "C-1")
    assert got["p_within_3m"] == pytest.approx(1 - math.exp(-3 * BASE * 0.3), rel=1e-9)


def test_only_customers_alive_at_the_as_of_date_are_scored(tmp_path):
    truth = _truth(tmp_path, [_customer("C-1"),
                              _customer("C-2", true_churn_date=pd.Timestamp("2025-05-20")),
                              _customer("C-3", true_churn_date=pd.Timestamp("2025-07-03")),
                              _customer("C-4", signup_date=pd.Timestamp("2025-07-01"))])
    assert expected_hazard(truth, AS_OF, draws=5)["customer_id"].tolist() == ["C-1", "C-3"]


def _exact_dispute_survival(b: float, r: float) -> float:
    """E[survival over July..September] when only dispute onsets are random (probability r a
    month). A dispute lasts two months and raises the hazard (x e) of the month after each of
    them: an onset in July weighs on August and September, one in August on September, and one
    in September only on October, outside the horizon."""
    e = math.e
    return (r * math.exp(-b * (1 + e + e))                   # onset in July
            + (1 - r) * r * math.exp(-b * (1 + 1 + e))       # first onset in August
            + (1 - r) ** 2 * math.exp(-3 * b))               # none that matters


def test_monte_carlo_expectation_converges_to_the_exact_one(tmp_path):
    # fit -4 makes the quiet hazard 0.0035 e^1.8 ~ 0.021 and the dispute rate is set high, so
    # the random future matters: the exact p_within_3m (~0.090) is well above the quiet 0.062
    b, r = BASE * math.exp(0.45 * 4), 0.5
    truth = _truth(tmp_path, [_customer("C-1", fit=-4.0, rate_dispute=r)])
    exact = 1 - _exact_dispute_survival(b, r)
    draws = 20_000
    got = {seed: _row(expected_hazard(truth, AS_OF, months=(3,), draws=draws, seed=seed), "C-1")["p_within_3m"]
           for seed in (1, 2)}
    # one path's survival lies in [exp(-b(1+2e)), exp(-3b)], a range w = 0.068 wide, so its
    # standard deviation is at most w / 2 and the mean of 20,000 paths has a standard error of
    # at most w / (2 sqrt(20,000)) ~ 0.00024: four of those bound an honest Monte Carlo error
    w = math.exp(-3 * b) - math.exp(-b * (1 + 2 * math.e))
    tolerance = 4 * w / (2 * math.sqrt(draws))
    assert abs(got[1] - exact) < tolerance
    assert abs(got[2] - exact) < tolerance
    assert abs(got[1] - got[2]) < tolerance * math.sqrt(2)
    assert got[1] != got[2]           # the seeds do draw different paths


def test_the_same_seed_gives_the_same_frame(tmp_path):
    truth = _truth(tmp_path, [_customer("C-1", rate_dispute=0.3, rate_disengagement=0.2)])
    a = expected_hazard(truth, AS_OF, draws=50, seed=4)
    pd.testing.assert_frame_equal(a, expected_hazard(truth, AS_OF, draws=50, seed=4))


def test_fed_the_worlds_own_onsets_the_oracle_path_is_the_generated_hazard(tmp_path):
    """The oracle and the generator share one hazard formula, and the truth folder holds all it
    needs: given the episodes and retention action that did happen, the path is hazard.parquet."""
    generate_demo_data(tmp_path / "demo", customers=300, seed=11)
    truth = tmp_path / "demo-truth"
    horizon = 12
    state = as_of_state(truth, pd.Timestamp(AS_OF), horizon)
    rows = pd.Index(state.customer_id)
    month = lambda col: (pd.to_datetime(col).dt.year - 2025) * 12 + pd.to_datetime(col).dt.month - 6  # noqa: E731
    episodes = pd.read_parquet(truth / "episodes.parquet").assign(k=lambda f: month(f["month"]),
                                                                  row=lambda f: rows.get_indexer(f["customer_id"]))
    episodes = episodes[(episodes["row"] >= 0) & episodes["k"].between(1, horizon)]
    future = {}
    for kind in EPISODES:
        grid = np.zeros((len(rows), 1, horizon), dtype=bool)
        e = episodes[episodes["episode"] == kind]
        grid[e["row"], 0, e["k"] - 1] = True
        future[kind] = grid
    latent = pd.read_parquet(truth / "latent.parquet").set_index("customer_id").loc[rows]
    k = month(latent["retention_month"].reset_index(drop=True)).to_numpy()
    u_contact = np.ones((len(rows), 1, horizon))               # no contact ...
    later = np.flatnonzero((k >= 1) & (k <= horizon))
    u_contact[later, 0, k[later].astype(int) - 1] = 0.0         # ... but in the month it came
    # an accepted draw u_accept < RETENTION_ACCEPT_P whose u_accept / RETENTION_ACCEPT_P falls in
    # the trial's slot of the arm the generator drew
    arm = pd.Series(latent["retention_arm"].to_numpy()).map({a: i for i, a in enumerate(ACTIONS)})
    slot = TRIAL_SHARE * (arm.fillna(0).to_numpy() + 0.5) / (len(ACTIONS) + 1)
    u_accept = np.where(latent["retention_accepted"].to_numpy(), RETENTION_ACCEPT_P * slot, 1.0)[:, None]
    path = path_hazard(state, future, u_contact, u_accept)[:, 0, :]

    hazard = pd.read_parquet(truth / "hazard.parquet").assign(k=lambda f: month(f["month"]),
                                                              row=lambda f: rows.get_indexer(f["customer_id"]))
    hazard = hazard[(hazard["row"] >= 0) & hazard["k"].between(1, horizon)]
    assert len(hazard) > 1000
    np.testing.assert_array_equal(np.round(path[hazard["row"], hazard["k"] - 1], 6), hazard["hazard"])


def test_an_as_of_date_too_late_for_the_horizon_is_refused_with_the_range(tmp_path):
    truth = _truth(tmp_path, [_customer("C-1")])
    with pytest.raises(ValueError, match=r"as_of 2028-05-31 .* between 2021-07-01 and"):
        expected_hazard(truth, "2028-05-31", months=(12,))


def test_a_truth_folder_without_the_oracle_files_names_what_is_missing(tmp_path):
    truth = _truth(tmp_path, [_customer("C-1")])
    (truth / "episodes.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="missing episodes.parquet"):
        expected_hazard(truth, AS_OF)


def test_the_usage_limited_oracle_infers_a_fade_from_usage_counts_but_not_all_of_it(tmp_path):
    """The oracle that must infer the disengagement from the usage counts (what bounds the
    Red Zone's figures in ``benchmarks/zones.py --bounds``) scores the customers the as-of oracle
    scores, in its order; it gives the accounts truly inside a disengagement a far higher
    posterior of one than the others, and a churn probability above the others' but below what
    the as-of oracle, which knows the episode, gives them."""
    generate_demo_data(tmp_path / "demo", customers=1000, seed=11)
    inferred, state = usage_limited_oracle(tmp_path / "demo", AS_OF, draws=100)
    full = expected_hazard(tmp_path / "demo-truth", AS_OF, months=(3,), draws=100)
    assert inferred["customer_id"].tolist() == full["customer_id"].tolist()
    assert inferred["p_within_3m"].between(0, 1).all() and (inferred["cumulative_hazard"] >= 0).all()
    inside = state.depth > 0
    assert inside.sum() >= 20                          # enough accounts mid-fade to judge
    posterior = 1 - inferred["posterior_no_disengagement"].to_numpy()
    assert posterior[inside].mean() > 4 * posterior[~inside].mean()
    p = inferred["p_within_3m"].to_numpy()
    assert p[~inside].mean() < p[inside].mean() < full["p_within_3m"].to_numpy()[inside].mean()

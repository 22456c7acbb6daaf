"""The demo customer base: contract-shaped, deterministic, honest about its dirt, with dynamics."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnlab.demo.simulation import TABLE_NAMES, generate_demo_data
from churnlab.data.loading import load_data
from churnlab.data.contract import CONTRACT

END = pd.Timestamp("2026-06-30")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "tables"
    generate_demo_data(out, customers=1500, seed=3)
    return out


def _read(demo: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(demo / f"{name}.parquet")


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate_demo_data(a, customers=300, seed=5)
    generate_demo_data(b, customers=300, seed=5)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in ("customers.parquet", "hazard.parquet", "latent.parquet", "episodes.parquet",
                 "world.json", "dirt.csv", "missing.csv", "README.md"):
        assert (Path(f"{a}-truth") / name).read_bytes() == (Path(f"{b}-truth") / name).read_bytes()


def test_a_different_seed_gives_different_data(tmp_path):
    generate_demo_data(tmp_path / "a", customers=200, seed=1)
    generate_demo_data(tmp_path / "b", customers=200, seed=2)
    assert (tmp_path / "a" / "usage_events.parquet").read_bytes() != (tmp_path / "b" / "usage_events.parquet").read_bytes()


def test_every_contract_table_is_written_with_the_contract_columns(demo):
    for name in TABLE_NAMES:
        frame = _read(demo, name)
        assert list(frame.columns) == [c.name for c in CONTRACT[name].columns if c.name in frame.columns]
        assert set(c.name for c in CONTRACT[name].columns) == set(frame.columns), name
        assert len(frame) > 0, name


def test_nothing_is_dated_after_the_end_of_the_data(demo):
    for name, cols in {"customers": ["signup_date", "churn_date"], "usage_events": ["ts"],
                       "support_tickets": ["opened_at", "closed_at"], "surveys": ["responded_at"],
                       "invoices": ["issued_at", "paid_at"], "touchpoints": ["ts"],
                       "advocacy": ["ts"], "interventions": ["ts"],
                       "subscriptions": ["start_date", "end_date"]}.items():
        frame = _read(demo, name)
        for col in cols:
            assert pd.to_datetime(frame[col]).max() < END + pd.Timedelta(days=1), (name, col)


def test_events_fall_between_signup_and_churn(demo):
    customers = _read(demo, "customers")
    usage = _read(demo, "usage_events").merge(customers, on="customer_id")
    assert (usage["ts"] >= pd.to_datetime(usage["signup_date"])).all()
    churned = usage["churn_date"].notna()
    assert (usage.loc[churned, "ts"] < pd.to_datetime(usage.loc[churned, "churn_date"]) + pd.Timedelta(days=1)).all()


def test_dirt_counts_match_a_direct_recount(demo):
    dirt = pd.read_csv(Path(f"{demo}-truth") / "dirt.csv").set_index(["table", "rule"])["count"]
    known = set(_read(demo, "customers")["customer_id"])
    for name in ("usage_events", "touchpoints"):
        frame = _read(demo, name)
        orphans = ~frame["customer_id"].isin(known)
        assert orphans.sum() == dirt[(name, "unknown_customer")] > 0
        assert frame[~orphans].duplicated().sum() == dirt[(name, "duplicate_row")] > 0
    tickets = _read(demo, "support_tickets")
    assert (tickets["closed_at"] < tickets["opened_at"]).sum() == dirt[("support_tickets", "closed_before_opened")] > 0


def test_validation_reports_exactly_the_planted_dirt(demo):
    truth = Path(f"{demo}-truth")
    dirt = pd.read_csv(truth / "dirt.csv").sort_values(["table", "rule"]).reset_index(drop=True)
    dataset = load_data(demo)
    found = dataset.summary().sort_values(["table", "rule"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(found[["table", "rule", "count"]], dirt, check_dtype=False)
    planted = pd.read_csv(truth / "missing.csv").set_index(["table", "column"])["count"]
    missing = dataset.missing.set_index(["table", "column"])["count"]
    for key, count in planted.items():
        assert missing[key] == count, key


def test_usage_declines_before_churn(demo):
    customers = _read(demo, "customers")
    churners = customers[customers["churn_date"].notna()].copy()
    churners["churn_date"] = pd.to_datetime(churners["churn_date"])
    churners = churners[churners["churn_date"] > pd.Timestamp("2024-01-01")]
    usage = _read(demo, "usage_events").merge(churners[["customer_id", "churn_date"]], on="customer_id")
    days = (usage["churn_date"] - usage["ts"]).dt.days
    last = usage[days.between(0, 59)].groupby("customer_id").size().reindex(churners["customer_id"], fill_value=0)
    prior = usage[days.between(60, 119)].groupby("customer_id").size().reindex(churners["customer_id"], fill_value=0)
    assert last.mean() < 0.85 * prior.mean()
    assert (last < prior).mean() > 0.5     # most, not all, churners fade first


def test_annual_contracts_churn_at_renewal(demo):
    customers = _read(demo, "customers")
    subs = _read(demo, "subscriptions")
    first = subs.sort_values("start_date").groupby("customer_id").first()
    churned = customers.set_index("customer_id")["churn_date"].dropna()
    annual = first.loc[first.index.intersection(churned.index)]
    annual = annual[annual["billing_period"] == "annual"]
    months = ((pd.to_datetime(churned[annual.index]) - pd.to_datetime(customers.set_index("customer_id").loc[annual.index, "signup_date"])).dt.days / 30.4375).round() % 12
    near_renewal = months.isin([11, 0, 1]).mean()
    assert near_renewal > 0.6     # 3 of 12 months would hold 25% by chance


def test_vocal_detractors_on_small_contracts_exist(demo):
    truth = pd.read_parquet(Path(f"{demo}-truth") / "customers.parquet")
    advocacy = _read(demo, "advocacy")
    loud = advocacy[(advocacy["reach"] > 2000) & (advocacy["sentiment"] < 0)]
    assert loud["customer_id"].nunique() >= 3
    small = truth.set_index("customer_id").loc[loud["customer_id"].unique(), "mrr_at_end"]
    assert (small[small > 0] < 200).any()


def test_low_usage_loyal_customers_use_little_and_stay(demo):
    truth = pd.read_parquet(Path(f"{demo}-truth") / "customers.parquet")
    usage = _read(demo, "usage_events").groupby("customer_id").size()
    loyal = truth["low_usage_loyal"].to_numpy()
    per = usage.reindex(truth["customer_id"], fill_value=0).to_numpy()
    assert np.median(per[loyal]) < 0.5 * np.median(per[~loyal])
    churn = truth["true_churn_date"].notna().to_numpy()
    assert churn[loyal].mean() < churn[~loyal].mean()


def test_retention_actions_worked_only_for_saveable_customers(demo):
    truth = pd.read_parquet(Path(f"{demo}-truth") / "customers.parquet").set_index("customer_id")
    iv = _read(demo, "interventions")
    accepted = iv[iv["outcome"] == "accepted"]["customer_id"]
    assert len(accepted) > 0 and truth.loc[accepted, "saveable"].all()
    refused = iv[iv["outcome"].isin(["declined", "no_response"])]["customer_id"]
    assert truth.loc[refused, "saveable"].mean() < 0.5
    assert not iv.loc[iv["outcome"] == "held_out", "action"].ne("none").any()


def test_survey_comments_follow_the_score(demo):
    surveys = _read(demo, "surveys")
    nps = surveys[(surveys["kind"] == "nps") & surveys["comment"].notna()]
    low = nps[nps["score"] <= 4]["comment"].str.contains("disappointed|Terrible|Frustrating|Awful|Poor").mean()
    high = nps[nps["score"] >= 9]["comment"].str.contains("Great|Excellent|happy|Fantastic|Love").mean()
    assert low > 0.9 and high > 0.9


def test_truth_hazard_covers_every_customer(demo):
    hazard = pd.read_parquet(Path(f"{demo}-truth") / "hazard.parquet")
    assert hazard["hazard"].between(0, 1).all()
    assert hazard["customer_id"].nunique() == len(_read(demo, "customers"))

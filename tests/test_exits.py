"""Why customers left: churn_reason answers by period and segment."""
from __future__ import annotations

import pandas as pd

from churnlab.decide.exits import NO_ANSWER, churn_reasons


def churned() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": list("abcdefg"),
        "churn_date": ["2026-01-10", "2026-02-01", "2026-04-15", "2026-05-01", None, "2026-07-02", "2025-01-01"],
        "churn_reason": ["pricing", "pricing", "competitor", None, None, "pricing", "pricing"],
        "industry": ["retail", "media", "retail", "retail", "retail", "media", "retail"],
        "company_size": [10, 500, 12, 800, 5, 20, 30],
    })


def test_reasons_are_counted_per_quarter_with_the_share_that_answered():
    out = churn_reasons(churned(), "2026-06-30")
    # f churned after the as-of date, g more than 12 months before it, e never
    assert out.index.tolist() == ["2026Q1", "2026Q2"]
    assert out.loc["2026Q1", "pricing"] == 2 and out.loc["2026Q2", "competitor"] == 1
    assert out.loc["2026Q2", NO_ANSWER] == 1 and out.loc["2026Q2", "answered_share"] == 0.5
    assert out["churners"].sum() == 4


def test_reasons_split_by_a_segment_and_company_size_by_its_bands():
    out = churn_reasons(churned(), "2026-06-30", by="industry")
    assert out.loc[("2026Q1", "media"), "pricing"] == 1
    bands = churn_reasons(churned(), "2026-06-30", by="company_size", size_bands={"small": 0, "large": 100})
    assert bands.loc[("2026Q2", "large"), NO_ANSWER] == 1 and bands.loc[("2026Q2", "small"), "competitor"] == 1


def test_without_reasons_or_churners_the_table_is_empty():
    assert churn_reasons(churned().drop(columns="churn_reason"), "2026-06-30").empty
    assert churn_reasons(churned(), "2020-01-01").empty


def test_churned_customers_come_with_what_they_said_and_what_the_previous_run_saw(tmp_path):
    from churnlab.report.history import churned_since

    previous = tmp_path / "2026-06-23"
    previous.mkdir()
    pd.DataFrame({"customer_id": ["A", "B"], "churn_probability": [0.41, 0.05], "zone": ["red", "healthy"],
                  "reasons": ["usage fell by 60%", None]}).to_csv(previous / "scores.csv", index=False)
    customers = pd.DataFrame({"customer_id": ["A", "B", "C", "D"],
                              "churn_date": ["2026-06-25", "2026-06-28", "2026-06-29", "2026-06-20"],
                              "churn_reason": ["price", None, "  ", "price"]})
    got = churned_since(customers, tmp_path, "2026-06-30").set_index("customer_id")["reasons"]
    assert list(got.index) == ["A", "B", "C"]          # D left before the previous run
    assert got["A"] == "said: price; on 2026-06-23: red zone, 41% likely to leave: usage fell by 60%"
    assert got["B"] == "on 2026-06-23: healthy zone, 5% likely to leave"
    assert got["C"] == ""                               # a blank answer and never scored: nothing made up


def test_exit_interview_rows_of_churned_customers_carry_those_reasons():
    from churnlab.decide.campaigns import plan_campaigns

    frame = pd.DataFrame({"customer_id": ["X"], "zone": ["healthy"], "value": [100.0], "value_tier": ["low"],
                          "churn_probability": [0.01], "reasons": [""], "tenure_days": [400]})
    churned = pd.DataFrame({"customer_id": ["A"], "churn_date": [pd.Timestamp("2026-06-25").date()],
                            "reasons": ["said: price"]})
    plan = plan_campaigns(frame, pd.Timestamp("2026-06-30").date(), churned=churned)
    rows = plan.lists()["exit_interviews"].set_index("customer_id")
    assert rows.loc["A", "reasons"] == "said: price"

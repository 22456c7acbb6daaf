"""What the data-health notebook shows: table sizes, time coverage, quarantine and movements.

Frames in, frames out; the plot helpers return the matplotlib ``Axes`` they drew on.
"""
from __future__ import annotations

import pandas as pd

from churnlab.data.contract import TABLES
from churnlab.data.loading import ROW_TIME, Dataset
from churnlab.features.catalogue import CUSTOMER_RECORDS, feature_names
from churnlab.features.engine import connect
from churnlab.plotting import axes

#: What each contract table gives the kit, and what a run goes without when it is absent.
TABLE_ROLES: dict[str, tuple[str, str]] = {
    "customers": ("the customer base: tenure, churn labels; extra columns become features", ""),
    "subscriptions": ("plan, MRR and ARR, seats, renewal dates",
                      "no ARR or plan: the ARR baseline ranks nothing and value at stake is unknown"),
    "usage_events": ("product usage and its trend, days since last use",
                     "no usage features: the rule baseline's usage signs never show, churn: inactivity cannot apply"),
    "support_tickets": ("support load, open high and critical tickets, CSAT",
                        "no support features"),
    "surveys": ("NPS, CSAT and CES answers", "no satisfaction features (no NPS detractors)"),
    "invoices": ("failed and overdue payments", "no payment features"),
    "touchpoints": ("contacts by department, channel and sentiment", "no 360-degree contact features"),
    "advocacy": ("reviews, referrals and mentions", "no advocacy features"),
    "interventions": ("past retention actions and their outcomes", "no history of retention actions"),
}

def table_overview(dataset: Dataset) -> pd.DataFrame:
    """One row per table present: rows, customers referenced, first and last dated row.

    Columns: table, rows, customers, first, last. Counted by DuckDB, so a table kept on disk
    (``Dataset.file``) is scanned, never loaded whole.
    """
    records = []
    with connect(dataset) as con:
        for name in dataset.tables:
            columns = _columns(con, name)
            time_col = ROW_TIME.get(name) if ROW_TIME.get(name) in columns else None
            who = "count(DISTINCT customer_id)" if "customer_id" in columns else "0"
            when = f"min({time_col})::DATE, max({time_col})::DATE" if time_col else "NULL, NULL"
            rows, customers, first, last = con.execute(f"SELECT count(*), {who}, {when} FROM {name}").fetchone()
            records.append({"table": name, "rows": rows, "customers": int(customers), "first": first, "last": last})
    return pd.DataFrame.from_records(records, columns=["table", "rows", "customers", "first", "last"])


def _columns(con, name: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]


def table_coverage(dataset: Dataset) -> pd.DataFrame:
    """Every contract table: present or absent, its rows and features, and what that means.

    Columns: table, present, rows, features (catalogue features it feeds, plus on customers its
    filled attribute and extra columns), meaning (what the kit uses it for, or what a run goes without). A flat CRM
    export read through a mapping has customers only: this says which parts had no data.
    """
    records = []
    for name in TABLES:
        present = name in dataset
        features = len(feature_names({name})) if present else 0
        if present and name == "customers":  # filled attribute columns become features too
            frame = dataset["customers"]
            features += sum(1 for c in frame.columns if c not in CUSTOMER_RECORDS and frame[c].notna().any())
        uses, without = TABLE_ROLES[name]
        records.append({"table": name, "present": present, "rows": dataset.rows(name) if present else 0,
                        "features": features, "meaning": uses if present else without})
    return pd.DataFrame.from_records(records, columns=["table", "present", "rows", "features", "meaning"])


def monthly_movements(customers: pd.DataFrame) -> pd.DataFrame:
    """Signups, churns and active customers at each month's end.

    ``customers`` is the point-in-time customers table (churn_date null while active).
    Returns columns month (period start), signups, churns, active_at_month_end.
    """
    signup = customers["signup_date"].dt.to_period("M")
    churn = customers["churn_date"].dt.to_period("M")
    months = pd.period_range(signup.min(), max(signup.max(), churn.max() if churn.notna().any() else signup.max()), freq="M")
    signups = signup.value_counts().reindex(months, fill_value=0)
    churns = churn.dropna().value_counts().reindex(months, fill_value=0)
    active = (signups - churns).cumsum()
    frame = pd.DataFrame({"month": months.to_timestamp(), "signups": signups.to_numpy(),
                          "churns": churns.to_numpy(), "active_at_month_end": active.to_numpy()})
    return frame.reset_index(drop=True)


def monthly_rows(dataset: Dataset) -> pd.DataFrame:
    """Rows per month for every dated table except customers (wide: one column per table),
    counted by DuckDB (a table kept on disk is scanned, never loaded whole)."""
    series = {}
    with connect(dataset) as con:
        for name in dataset.tables:
            col = ROW_TIME.get(name)
            if name == "customers" or col not in _columns(con, name):
                continue
            counts = con.execute(f"SELECT date_trunc('month', {col})::TIMESTAMP AS month, count(*) AS n FROM {name} "
                                 f"WHERE {col} IS NOT NULL GROUP BY 1 ORDER BY 1").df()
            series[name] = pd.Series(counts["n"].to_numpy(), index=pd.PeriodIndex(counts["month"], freq="M"))
    if not series:
        return pd.DataFrame()
    wide = pd.DataFrame(series).fillna(0).astype("int64").sort_index()
    wide.index = wide.index.to_timestamp()
    wide.index.name = "month"
    return wide


def plot_monthly_movements(movements: pd.DataFrame, ax=None):
    """Bars of signups and churns per month, with the active base on a second axis."""
    ax = axes(ax, (10, 4))
    width = 20
    ax.bar(movements["month"], movements["signups"], width=width, label="signups", color="#4c78a8")
    ax.bar(movements["month"], -movements["churns"], width=width, label="churns (negative)", color="#e45756")
    ax.set_title("Customer movements per month")
    ax.set_xlabel("month")
    ax.set_ylabel("customers per month")
    ax.axhline(0, color="black", linewidth=0.5)
    right = ax.twinx()
    right.plot(movements["month"], movements["active_at_month_end"], color="black", label="active at month end")
    right.set_ylabel("active customers")
    lines, labels = ax.get_legend_handles_labels()
    lines2, labels2 = right.get_legend_handles_labels()
    ax.legend(lines + lines2, labels + labels2, loc="upper left")
    return ax


def plot_monthly_rows(rows: pd.DataFrame, ax=None):
    """One line per table: rows per month (log scale, tables differ by orders of magnitude)."""
    ax = axes(ax, (10, 4))
    for name in rows.columns:
        ax.plot(rows.index, rows[name].clip(lower=1), label=name)
    ax.set_yscale("log")
    ax.set_title("Input rows per month, by table")
    ax.set_xlabel("month")
    ax.set_ylabel("rows per month (log scale)")
    ax.legend(loc="upper left", ncol=2, fontsize="small")
    return ax

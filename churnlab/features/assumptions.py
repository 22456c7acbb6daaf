"""What a run assumed, in words: the churn definition, what a churn flag was taken to mean, and
which tables and columns fed which features.

A model is only as right as its definition of churn, and some of that definition is a choice the
kit made for the user (a flat table's yes/no churn flag has no date; a source without
subscriptions has no contract to end). :func:`run_assumptions` gathers those choices from the
settings and the tables read, as a JSON-ready dict (``manifest.json`` keeps it under
``assumptions``); :func:`assumptions_frame` shows it as a small table (notebook 01).
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from churnlab.data.contract import TABLES
from churnlab.data.mapping import churn_month_date
from churnlab.features.catalogue import CUSTOMER_RECORDS, FEATURES
from churnlab.settings import Settings

__all__ = ["run_assumptions", "assumptions_frame", "ASSUMPTION_COLUMNS"]

#: Columns of :func:`assumptions_frame`.
ASSUMPTION_COLUMNS = ["topic", "assumption"]


def _flag(settings: Settings):
    customers = settings.mapping.tables.get("customers") if settings.mapping is not None else None
    return customers.churn_flag if customers is not None else None


def _churn_definition(settings: Settings, tables: set[str]) -> str:
    ms = settings.models
    contract = ("a customer churned on its customers.churn_date (the end of its contract); one without a churn_date "
                "is active" + ("; here churn_date comes from the churn flag (see churn flag)" if _flag(settings) else ""))
    if ms.churn == "contract":
        return f"models.churn: contract — {contract}"
    if "usage_events" not in tables:
        return (f"models.churn: inactivity, but the source has no usage_events: read as contract — {contract}")
    n = "the window chosen from the data" if ms.inactivity_days is None else f"{ms.inactivity_days} days"
    return (f"models.churn: inactivity — {contract}; a customer without any subscription also churned {n} "
            f"after its last use when no use followed within it (models.inactivity_days), and is active again "
            f"from its next use: only customers active on the as-of date are scored and listed")


def _churn_flag(settings: Settings, as_of) -> str:
    flag = _flag(settings)
    if flag is None:
        return "no churn flag: churn dates are read from customers.churn_date as given"
    churned = [k for k, v in flag.values.items() if v == "churned"]
    active = [k for k, v in flag.values.items() if v == "active"]
    day = f" ({churn_month_date(as_of).date().isoformat()})" if as_of is not None else ""
    return (f"tables.customers.churn_flag: {flag.column} = {' or '.join(churned) or '(none)'} was taken to mean "
            f"the customer left in the month ending on the as-of date: its churn_date is that month's first "
            f"day{day}, the true day being unknown; {' or '.join(active) or '(none)'} means active; any other "
            f"value is quarantined. The flag column itself is no feature (it is the answer)")


def _read_from(settings: Settings, table: str) -> str:
    """Where a contract table came from: the source and its renamed columns, under a mapping."""
    mapping = settings.mapping
    entry = mapping.tables.get(table) if mapping is not None else None
    if entry is None:
        return f"the source's {table} table, as the data contract names its columns"
    parts = [f"{contract} <- {source}" for contract, source in entry.columns.items()]
    if entry.tenure_months:
        parts.append(f"signup_date <- {entry.tenure_months} (whole months as a customer, counted back from the as-of date)")
    if entry.churn_flag is not None:
        parts.append(f"churn_date <- {entry.churn_flag.column} (the churn flag, see above)")
    where = f"source {entry.source!r}" if entry.source else (
        "the file given as --data" if table == "customers" else f"source {table!r}")
    return where + (f": {'; '.join(parts)}" if parts else "")


def run_assumptions(settings: Settings, tables: Iterable[str], customers: pd.DataFrame | None = None,
                    as_of=None) -> dict:
    """The assumptions of a run, JSON-ready.

    Parameters
    ----------
    settings : the run's settings (churn definition, horizon, snapshots, mapping).
    tables : the contract tables the source had (e.g. ``dataset.tables``).
    customers : the customers table as loaded; its filled-in columns outside the contract's
        records (names, dates, the outcome) are features as they are (all-empty ones are not).
    as_of : the run's as-of date, to give a churn flag's date.

    Returns
    -------
    ``{"churn_definition", "horizon", "training", "churn_flag": sentences,
    "features": [{"table", "read_from", "features": [names]}]}``; ``features`` has one entry per
    contract table (an absent one with no features and ``read_from`` "absent") and one,
    ``"customers (own columns)"``, for the customer columns used as they are.
    """
    present = set(tables)
    h = settings.horizon_days
    out = {
        "churn_definition": _churn_definition(settings, present),
        "horizon": (f"horizon_days: {h} — a snapshot's label is churn within {h} days after it; churn_probability is "
                    f"P(churn within {h} days after the as-of date)"),
        "training": (f"models.snapshots: {settings.models.snapshots} month ends before the as-of date; a snapshot is "
                     f"labelled once its {h}-day horizon ended by the as-of date; nothing after the as-of date is read"),
        "churn_flag": _churn_flag(settings, as_of),
        "features": [],
    }
    for table in TABLES:
        names = [f.name for f in FEATURES if f.table == table]
        if table in present:
            out["features"].append({"table": table, "read_from": _read_from(settings, table), "features": names})
        else:
            out["features"].append({"table": table, "read_from": "absent", "features": []})
    own = [] if customers is None else [c for c in customers.columns
                                        if c not in CUSTOMER_RECORDS and customers[c].notna().any()]
    if own:
        out["features"].append({"table": "customers (own columns)", "read_from": "the customers table's other columns, "
                                "each a feature as it is (the leakage guard checks them)", "features": own})
    return out


def assumptions_frame(assumed: dict) -> pd.DataFrame:
    """:func:`run_assumptions` as a table of :data:`ASSUMPTION_COLUMNS`, one row per assumption and
    per table (its source and the features it fed)."""
    rows = [{"topic": key.replace("_", " "), "assumption": assumed[key]}
            for key in ("churn_definition", "horizon", "training", "churn_flag")]
    for entry in assumed["features"]:
        if entry["read_from"] == "absent":
            words = "absent: no features from it"
        else:
            shown = ", ".join(entry["features"]) or "none"
            words = f"from {entry['read_from']} -> features: {shown}"
        rows.append({"topic": f"table {entry['table']}", "assumption": words})
    return pd.DataFrame(rows, columns=ASSUMPTION_COLUMNS)

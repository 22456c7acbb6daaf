"""The figures of the landing page, read from the files of a run and of the runs before it.

A customer-success lead opens ``index.html`` on Monday to see what moved: the zones and the
value at stake run by run (:func:`zone_trend`, drawn by :func:`plot_zone_sizes` and
:func:`plot_value_at_stake`), each owner's lists (:func:`owner_lists`), the top rescues
(:func:`top_rescues`), who came into or went out of the Red Zone (:func:`red_zone_moves`) and
how the model and the input held up (:func:`model_health`, :func:`quarantined_rows`).

Everything here reads files only, the ones the run wrote and those of the earlier runs beside
it in the reports folder; a file or an optional column that is missing gives an empty answer,
never an error, so a first run or a run with a step left out still gets its page.
"""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from churnlab.plotting import axes

__all__ = ["earlier_runs", "zone_trend", "plot_zone_sizes", "plot_value_at_stake", "owner_lists",
           "top_rescues", "red_zone_moves", "model_health", "quarantined_rows",
           "ZONES", "LISTS", "TREND_RUNS", "RESCUE_COLUMNS"]

#: The zones in the order the page shows them, with the colour each is drawn in.
ZONES: dict[str, str] = {"red": "#c62828", "dead": "#616161", "watch": "#f9a825", "healthy": "#2e7d32"}
#: The target lists, file stem and the name a reader knows it by.
LISTS: dict[str, str] = {"proactive": "proactive", "reactive": "reactive", "exit_interviews": "exit interviews",
                         "win_back": "win-back"}
#: How many runs the trend shows at most (this one and the latest earlier ones).
TREND_RUNS = 12
#: The columns of a target list the top rescues show, optional ones included, in page order.
RESCUE_COLUMNS = ("customer_id", "name", "owner", "campaign", "action", "trigger_message", "trigger",
                  "triggered_on", "offer", "expected_gain", "days_waiting", "also_due", "reasons",
                  "value", "churn_probability", "due_date")

_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _read(path: Path, **kwargs) -> pd.DataFrame | None:
    """A CSV as a frame (ids as text), an empty frame for an empty file, None when absent."""
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype={"customer_id": str}, **kwargs)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def earlier_runs(reports: str | Path, as_of: date) -> list[Path]:
    """The finished report folders in ``reports`` dated before ``as_of``, oldest first.

    Only ``YYYY-MM-DD`` folders count: a run writes into a ``.staging-...`` folder, and failed
    runs sit under ``.failed/``, so neither is ever taken for an earlier week.
    """
    reports = Path(reports)
    if not reports.is_dir():
        return []
    return sorted((p for p in reports.iterdir()
                   if p.is_dir() and _DATED.match(p.name) and p.name < as_of.isoformat()),
                  key=lambda p: p.name)


def _zone_figures(scores: pd.DataFrame) -> dict[str, float]:
    """Customers per zone and value at stake (churn probability x value), overall and per zone."""
    row: dict[str, float] = {"customers": len(scores)}
    zone = scores["zone"] if "zone" in scores else pd.Series("", index=scores.index)
    stake = (scores["churn_probability"] * scores["value"]
             if {"churn_probability", "value"} <= set(scores.columns) else None)
    for name in ZONES:
        mine = zone == name
        row[name] = int(mine.sum())
        row[f"{name}_at_stake"] = float(stake[mine].sum()) if stake is not None else float("nan")
    row["value_at_stake"] = float(stake.sum()) if stake is not None else float("nan")
    return row


def zone_trend(folder: str | Path, as_of: date, runs: int = TREND_RUNS) -> pd.DataFrame:
    """Zone sizes and value at stake of this run and the earlier ones beside it, oldest first.

    ``folder`` is this run's folder (its staging folder while the run writes); the earlier runs
    are the dated folders next to it (:func:`earlier_runs`), the latest ``runs - 1`` of them that
    hold a ``scores.csv``. Returns one row per run with ``as_of`` (text), ``customers``, a count
    per zone of :data:`ZONES`, ``<zone>_at_stake`` and ``value_at_stake`` (the sum of
    churn_probability x value; NaN when those columns are missing). Empty when no run has scores.
    """
    folder = Path(folder)
    wanted = ["zone", "churn_probability", "value"]
    found = []
    for when, path in [*((p.name, p) for p in earlier_runs(folder.parent, as_of)), (as_of.isoformat(), folder)]:
        scores = _read(path / "scores.csv", usecols=lambda c: c in wanted)
        if scores is not None:
            found.append({"as_of": when, **_zone_figures(scores)})
    columns = ["as_of", "customers", *ZONES, *(f"{z}_at_stake" for z in ZONES), "value_at_stake"]
    return pd.DataFrame(found[-runs:], columns=columns).reset_index(drop=True)


def _date_ticks(ax, trend: pd.DataFrame) -> None:
    """Runs as evenly spaced points labelled by date (weekly runs, the odd one skipped)."""
    labels = [pd.Timestamp(d).strftime("%d %b") for d in trend["as_of"]]
    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 6 else 0)
    ax.set_xlim(-0.6, len(labels) - 0.4)


def plot_zone_sizes(trend: pd.DataFrame, ax=None):
    """Customers per zone, run by run: one line per zone of :data:`ZONES` (``trend`` from
    :func:`zone_trend`). Returns the Axes."""
    ax = axes(ax, (6.0, 3.6))
    x = range(len(trend))
    for zone, colour in ZONES.items():
        ax.plot(x, trend[zone], marker="o", color=colour, label=zone)
    _date_ticks(ax, trend)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.22 if len(trend) > 6 else -0.14),
              frameon=False, fontsize="small")
    ax.set_title("Customers per zone")
    ax.set_xlabel("run (as-of date)")
    ax.set_ylabel("customers")
    return ax


def plot_value_at_stake(trend: pd.DataFrame, ax=None):
    """Value at stake (churn probability x value) run by run, one stacked bar per run split by
    zone (``trend`` from :func:`zone_trend`). Returns the Axes."""
    ax = axes(ax, (6.0, 3.6))
    x = range(len(trend))
    bottom = pd.Series(0.0, index=trend.index)
    for zone, colour in ZONES.items():
        height = trend[f"{zone}_at_stake"].fillna(0.0)
        ax.bar(x, height, bottom=bottom, color=colour, width=0.6, label=zone)
        bottom = bottom + height
    _date_ticks(ax, trend)
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.22 if len(trend) > 6 else -0.14),
              frameon=False, fontsize="small")
    ax.set_title("Value at stake")
    ax.set_xlabel("run (as-of date)")
    ax.set_ylabel("churn probability x value")
    return ax


def owner_lists(folder: str | Path, as_of: date, days: int = 7) -> pd.DataFrame:
    """Each owner's rows on each target list, how many are due within ``days`` of ``as_of``
    (overdue ones included) and, when the lists carry ``days_waiting``, how many were carried
    over from an earlier week (``days_waiting > 0``).

    Returns one row per owner, most rows due first: ``owner``, a count per list of :data:`LISTS`
    that exists, ``total``, ``due`` and ``carried_over`` (only when some list has ``days_waiting``).
    Rows without an owner count under ``(no owner)``. Empty when there is no list.
    """
    folder = Path(folder)
    last_day = pd.Timestamp(as_of + timedelta(days=days))
    parts, present, waiting = [], [], False
    for stem in LISTS:
        rows = _read(folder / "targets" / f"{stem}.csv")
        if rows is None:
            continue
        present.append(stem)
        owner = rows["owner"].fillna("(no owner)").astype(str) if "owner" in rows else pd.Series(
            "(no owner)", index=rows.index)
        due = (pd.to_datetime(rows["due_date"], errors="coerce") <= last_day
               if "due_date" in rows else pd.Series(False, index=rows.index))
        carried = None
        if "days_waiting" in rows:
            waiting = True
            carried = pd.to_numeric(rows["days_waiting"], errors="coerce").fillna(0) > 0
        parts.append(pd.DataFrame({"owner": owner, "list": stem, "due": due.astype(int),
                                   "carried_over": carried.astype(int) if carried is not None else 0}))
    columns = ["owner", *present, "total", "due", *(["carried_over"] if waiting else [])]
    if not parts or not sum(len(p) for p in parts):
        return pd.DataFrame(columns=columns)
    rows = pd.concat(parts, ignore_index=True)
    out = pd.crosstab(rows["owner"], rows["list"]).reindex(columns=present, fill_value=0)
    out.columns.name = None
    out["total"] = out.sum(axis=1)
    sums = rows.groupby("owner")[["due", "carried_over"]].sum()
    out = out.join(sums).reset_index()
    out = out.sort_values(["due", "total", "owner"], ascending=[False, False, True], kind="stable")
    return out[columns].reset_index(drop=True)


def top_rescues(folder: str | Path, n: int = 10) -> pd.DataFrame:
    """The first ``n`` rows of ``targets/reactive.csv`` (the list is in priority order), with
    those of :data:`RESCUE_COLUMNS` it has. Empty when the list is absent."""
    rows = _read(Path(folder) / "targets" / "reactive.csv")
    if rows is None:
        return pd.DataFrame()
    return rows.head(n)[[c for c in RESCUE_COLUMNS if c in rows.columns]].reset_index(drop=True)


def red_zone_moves(folder: str | Path, previous: str | Path | None = None) -> pd.DataFrame | None:
    """Who entered or left the Red Zone since the previous run, from ``changes.csv``.

    Returns ``customer_id``, ``name`` (from the target lists, else empty), ``change``
    (``entered``/``left``), ``reason`` and ``value``, most valuable first within each change:
    the value of this run's ``scores.csv`` for an entry, of the ``previous`` run's for an exit,
    since a customer who left may be gone from this run. None when there is no ``changes.csv``.
    """
    folder = Path(folder)
    changes = _read(folder / "changes.csv")
    if changes is None:
        return None
    columns = ["customer_id", "name", "change", "reason", "value"]
    if not {"customer_id", "zone", "change"} <= set(changes.columns):
        return pd.DataFrame(columns=columns)
    red = changes[(changes["zone"] == "red") & changes["change"].isin(["entered", "left"])].copy()
    red["reason"] = red["reason"].fillna("") if "reason" in red else ""
    names = pd.concat([t[["customer_id", "name"]] for stem in LISTS
                       for t in [_read(folder / "targets" / f"{stem}.csv")]
                       if t is not None and {"customer_id", "name"} <= set(t.columns)] or [pd.DataFrame(
                          columns=["customer_id", "name"])]).drop_duplicates("customer_id")
    red = red.merge(names, on="customer_id", how="left")
    red["name"] = red["name"].fillna("")
    red["value"] = float("nan")
    for change, where in (("entered", folder), ("left", previous)):
        scores = _read(Path(where) / "scores.csv", usecols=lambda c: c in ("customer_id", "value")) if where else None
        if scores is not None and "value" in scores:
            mine = red["change"] == change
            red.loc[mine, "value"] = red.loc[mine, "customer_id"].map(scores.set_index("customer_id")["value"])
    red = red.sort_values(["change", "value", "customer_id"], ascending=[True, False, True],
                          na_position="last", kind="stable")
    return red[columns].reset_index(drop=True)


def model_health(folder: str | Path) -> dict | None:
    """The selected classifier of the run in ``folder`` and its backtest figures, from
    ``model_metrics.json``: ``{"classifier", "roc_auc", "pr_auc", "lift_top10", "survival",
    "concordance", "backtest", "folds"}`` (a figure the file lacks is None). None when the file
    is absent or unreadable."""
    path = Path(folder) / "model_metrics.json"
    if not path.is_file():
        return None
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    chosen = metrics.get("chosen") or {}
    models = metrics.get("models") or {}

    def mean(model, figure):
        return (models.get(model) or {}).get("mean", {}).get(figure)

    classifier, survival = chosen.get("classifier"), chosen.get("survival")
    return {"classifier": classifier, "roc_auc": mean(classifier, "roc_auc"), "pr_auc": mean(classifier, "pr_auc"),
            "lift_top10": mean(classifier, "lift_top10"), "survival": survival,
            "concordance": mean(survival, "concordance"), "backtest": metrics.get("backtest"),
            "folds": len(metrics.get("folds") or [])}


def quarantined_rows(folder: str | Path) -> pd.DataFrame | None:
    """Quarantined input rows of the run in ``folder`` per table and rule, most first, from
    ``data_quality.csv`` (columns ``table``, ``rule``, ``rows``). None when the file is absent."""
    quality = _read(Path(folder) / "data_quality.csv", usecols=lambda c: c in ("table", "rule"))
    if quality is None:
        return None
    for column in ("table", "rule"):
        if column not in quality:
            quality[column] = ""
    if quality.empty:
        return pd.DataFrame(columns=["table", "rule", "rows"])
    counts = quality.fillna("").groupby(["table", "rule"]).size().rename("rows").reset_index()
    return counts.sort_values(["rows", "table", "rule"], ascending=[False, True, True], kind="stable").reset_index(drop=True)

"""The files a run leaves behind, written the same way every time.

Notebooks hand their results to these functions instead of writing files themselves, so a
notebook run by hand with ``out=...`` and a scheduled run produce the same files. Intermediate
results pass between notebooks through :mod:`churnlab.report.handoff`; the published files
(``scores.csv``, ``model_metrics.json``, ``models/``, ``targets/``, ``data_quality.csv``) follow
``docs/run-outputs.md``. CSVs are sorted by ``customer_id``, use ``\\n`` line ends and print
floats with 6 decimals, so the same inputs and settings give byte-identical files.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from churnlab.data.loading import Dataset
from churnlab.models.bundle import ModelBundle, save_bundle
from churnlab.report.handoff import Handoff
from churnlab.report.workbook import LISTS, write_workbook

__all__ = ["write_data_quality", "write_model_outputs", "write_scores_csv", "write_targets", "write_win_back",
           "WIN_BACK_COLUMNS", "segments_with_symptoms",
           "SCORES_COLUMNS"]

#: Columns of scores.csv in the order of docs/run-outputs.md.
SCORES_COLUMNS = ["customer_id", "churn_probability", "expected_lifetime_days", "value", "arr",
                  "health_score", "health_band", "zone", "segment", "symptoms", "reasons", "holdout"]


def write_data_quality(dataset: Dataset, out: str | Path) -> Path:
    """Write ``<out>/data_quality.csv``: every input row ``dataset`` quarantined, with its table,
    rule and reason, in the order validation found them."""
    path = Path(out) / "data_quality.csv"
    dataset.quarantine.to_csv(path, index=False, lineterminator="\n")
    return path


def write_model_outputs(bundle: ModelBundle, out: str | Path) -> None:
    """Publish the model bundle (``<out>/models/``) and ``<out>/model_metrics.json``."""
    out = Path(out)
    save_bundle(bundle, out / "models")
    (out / "model_metrics.json").write_text(json.dumps(bundle.metrics, indent=2, sort_keys=False) + "\n",
                                            encoding="utf-8")


def write_scores_csv(hand: Handoff) -> Path:
    """Assemble ``<out>/scores.csv`` from the results the notebooks handed over (``hand``).

    The model scores are required; ``arr`` comes from the features the models scored; later
    steps (value, health, zones, segments) add their columns when their results exist. Columns
    not produced by any step are left out rather than written empty.
    """
    out = Path(hand.out)
    scores = hand.take("model_scores")
    features = hand.take("features")
    # arr: the value step's (12 x the money column where there are no subscriptions), else the features'
    value = hand.take("value") if hand.has("value") else None
    arr_from = value if value is not None and "arr" in value else features
    table = scores.merge(arr_from[["customer_id", "arr"]] if "arr" in arr_from else features[["customer_id"]],
                         on="customer_id", how="left")
    if "arr" in table:
        table["arr"] = table["arr"].fillna(0.0)
    for extra in ("value", "health", "zones", "segments", "holdouts"):
        if hand.has(extra):
            more = hand.take(extra)
            table = table.merge(more[[c for c in more.columns if c == "customer_id" or c not in table]],
                                on="customer_id", how="left")
    columns = [c for c in SCORES_COLUMNS if c in table.columns]
    table = table[columns].sort_values("customer_id", kind="stable")
    path = out / "scores.csv"
    table.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")
    return path


def segments_with_symptoms(segments: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Each customer's ``segment`` and fired ``symptoms`` (all rules firing now, not only the new
    ones): the ``segments`` result notebook 05 hands to :func:`write_scores_csv`."""
    return segments[["customer_id", "segment"]].merge(rules[["customer_id", "symptoms"]], on="customer_id",
                                                       how="left", validate="one_to_one")


def write_targets(out: str | Path, lists: dict[str, pd.DataFrame], as_of, backlog: pd.DataFrame | None = None,
                  expired: pd.DataFrame | None = None, holdouts: pd.DataFrame | None = None,
                  effects: pd.DataFrame | None = None) -> Path:
    """Write the campaign lists to ``<out>/targets/<list>.csv`` and one ``targets.xlsx``, and the
    ``backlog`` (rows due but over capacity, for the next run; not a list to call from) to
    ``<out>/targets/backlog.csv`` when given, and the rows that waited too long and ``expired`` to
    ``<out>/targets/expired.csv`` (nothing leaves a list without a trace); the control groups
    ``holdouts`` to ``<out>/holdouts.csv`` and, when there is any row, ``effects``
    (:func:`churnlab.decide.campaign_effects.campaign_effects`) to ``<out>/campaign_effects.csv``.

    The CSVs keep the list's priority order (it is the order to work through), the column names
    of ``docs/run-outputs.md``, floats with 6 decimals and dates as ISO, so the same lists give
    byte-identical files. The workbook (:func:`churnlab.report.workbook.write_workbook`) is for
    the people who make the calls: an About sheet, headers in words, money, percent and date
    formats; the same lists give the same cell values, though not the same bytes (the zip
    container stamps its members with the time of writing).
    """
    folder = Path(out) / "targets"
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in lists.items():
        frame.to_csv(folder / f"{name}.csv", index=False, float_format="%.6f", lineterminator="\n")
    if backlog is not None:
        backlog.to_csv(folder / "backlog.csv", index=False, float_format="%.6f", lineterminator="\n")
    if expired is not None:
        expired.to_csv(folder / "expired.csv", index=False, float_format="%.6f", lineterminator="\n")
    # the control groups (read back by the next runs' contact history) and, once a horizon has
    # passed, what each campaign did against its control group
    if holdouts is not None:
        holdouts.to_csv(Path(out) / "holdouts.csv", index=False, float_format="%.6f", lineterminator="\n")
    if effects is not None and len(effects):
        effects.to_csv(Path(out) / "campaign_effects.csv", index=False, float_format="%.6f", lineterminator="\n")
    return write_workbook(folder / "targets.xlsx", lists, as_of)


#: the columns of ``targets/win_back.csv``
WIN_BACK_COLUMNS = ["customer_id", "name", "owner", "campaign", "action", "channel", "lapsed_on", "due_date"]


def write_win_back(out: str | Path, lapsed: pd.DataFrame, customers: pd.DataFrame, as_of,
                   due_in_days: int = 7) -> Path:
    """Write ``<out>/targets/win_back.csv``: the customers who lapsed (stopped buying) since the
    previous run (:func:`churnlab.report.history.lapsed_since`), one row each, latest first, for a
    win-back offer. They are not in scores.csv nor in the rescue lists (only active customers
    are scored), and not asked for an exit interview: they ended nothing and may come back.
    When the campaigns' ``targets.xlsx`` is there, it is written again with a "Win-back" sheet
    after the other lists."""
    info = [c for c in ("customer_id", "name", "owner", "preferred_channel") if c in customers]
    table = lapsed.merge(customers[info].astype({"customer_id": str}), on="customer_id", how="left")
    table = table.assign(campaign="win-back", action="win-back offer: what brings the customer back",
                         channel=table.get("preferred_channel", pd.Series(index=table.index, dtype=object)),
                         due_date=(pd.Timestamp(as_of) + pd.Timedelta(days=due_in_days)).date())
    for col in WIN_BACK_COLUMNS:
        if col not in table:
            table[col] = None
    folder = Path(out) / "targets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "win_back.csv"
    table[WIN_BACK_COLUMNS].to_csv(path, index=False, lineterminator="\n")
    book = folder / "targets.xlsx"
    if book.is_file():  # the campaigns' workbook: the win-back list is a sheet like the others
        write_workbook(book, {**_written_lists(folder), "win_back": pd.read_csv(path, dtype=str)}, as_of)
    return path


def _written_lists(folder: Path) -> dict[str, pd.DataFrame]:
    """The campaign lists already in ``folder`` (``<list>.csv`` of the workbook's lists), read
    back as written: identifiers and names as text, ISO dates as the workbook parses them."""
    out = {}
    for name in LISTS:
        path = folder / f"{name}.csv"
        if name == "win_back" or not path.is_file():
            continue
        try:
            out[name] = pd.read_csv(path, dtype={"customer_id": str, "name": str, "owner": str})
        except pd.errors.EmptyDataError:  # a list written without any column
            out[name] = pd.DataFrame()
    return out

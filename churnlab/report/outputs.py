"""The files a run leaves behind, written the same way every time.

Notebooks hand their results to these functions instead of writing files themselves, so a
notebook run by hand with ``out=...`` and a scheduled run produce the same files. Intermediate
results go to ``<out>/work/`` as Parquet; the published files (``scores.csv``,
``model_metrics.json``, ``models/``) follow ``docs/run-outputs.md``. CSVs are sorted by
``customer_id``, use ``\\n`` line ends and print floats with 6 decimals, so the same inputs and
settings give byte-identical files.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from churnlab.models.bundle import BundleError, ModelBundle, load_bundle, save_bundle

__all__ = ["write_model_outputs", "write_value_zones", "model_results", "write_scores_csv", "write_targets",
           "write_segments", "read_work", "SCORES_COLUMNS"]

#: Columns of scores.csv in the order of docs/run-outputs.md.
SCORES_COLUMNS = ["customer_id", "churn_probability", "expected_lifetime_days", "value", "arr",
                  "health_score", "health_band", "zone", "segment", "symptoms", "reasons"]


def _work(out: str | Path) -> Path:
    path = Path(out) / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_work(out: str | Path, name: str) -> pd.DataFrame:
    """An intermediate result written by an earlier notebook of the same run.

    Raises FileNotFoundError naming the notebook to run first when it is missing.
    """
    path = Path(out) / "work" / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the earlier notebooks with out={str(out)!r} first")
    return pd.read_parquet(path)


def write_model_outputs(out: str | Path, bundle: ModelBundle, scores: pd.DataFrame,
                        features: pd.DataFrame) -> None:
    """Save the model bundle (``<out>/models/``), ``<out>/model_metrics.json`` and the scores
    and features at the as-of date (``<out>/work/``)."""
    out = Path(out)
    save_bundle(bundle, out / "models")
    (out / "model_metrics.json").write_text(json.dumps(bundle.metrics, indent=2, sort_keys=False) + "\n",
                                            encoding="utf-8")
    scores.to_parquet(_work(out) / "model_scores.parquet", index=False)
    features.to_parquet(_work(out) / "features.parquet", index=False)


def model_results(out: str | Path | None, dataset, as_of, settings) -> tuple[ModelBundle, pd.DataFrame, pd.DataFrame, str]:
    """``(bundle, features, scores, source)``: the model results notebook 03 wrote under ``out``.

    They are used when present and made for this data and as-of date (the bundle is loaded with
    :func:`~churnlab.models.bundle.load_bundle`, which checks the data fingerprint and the features);
    otherwise the models are fitted here (:func:`churnlab.fit_models`) and, when ``out`` is
    given, written there as notebook 03 would. ``source`` says which happened, in words.
    """
    from churnlab.features.engine import build_features
    from churnlab.models.fit import fit_models, score

    as_of = pd.Timestamp(as_of).date().isoformat()
    if out is not None and (Path(out) / "models" / "bundle.json").is_file():
        try:
            features = read_work(out, "features")
            bundle = load_bundle(Path(out) / "models", fingerprint=dataset.fingerprint, features=features)
            if bundle.as_of == as_of:
                return bundle, features, read_work(out, "model_scores"), "the model results of notebook 03"
        except (BundleError, FileNotFoundError):
            pass
    bundle, _ = fit_models(dataset, as_of, settings, fingerprint=dataset.fingerprint)
    features = build_features(dataset, as_of)
    scores = score(bundle, features, reasons=settings.models.reasons)
    if out is not None:
        write_model_outputs(out, bundle, scores, features)
    return bundle, features, scores, "models fitted here (no model results of notebook 03 for this data and date)"


def write_value_zones(out: str | Path, value: pd.DataFrame, health: pd.DataFrame, zones: pd.DataFrame) -> None:
    """Save the value, health and zone tables to ``<out>/work/{value,health,zones}.parquet``;
    :func:`write_scores_csv` takes ``value``, ``health_score``, ``health_band`` and ``zone`` from
    them (the component columns stay in the Parquet files and the notebook)."""
    work = _work(out)
    for name, frame in (("value", value), ("health", health), ("zones", zones)):
        frame.to_parquet(work / f"{name}.parquet", index=False)


def write_segments(out: str | Path, segments: pd.DataFrame, rules: pd.DataFrame) -> None:
    """Save each customer's ``segment`` and fired ``symptoms`` (all rules firing now, not only
    the new ones) to ``<out>/work/segments.parquet`` for :func:`write_scores_csv`."""
    frame = segments[["customer_id", "segment"]].merge(rules[["customer_id", "symptoms"]], on="customer_id",
                                                        how="left", validate="one_to_one")
    frame.to_parquet(_work(out) / "segments.parquet", index=False)


def write_scores_csv(out: str | Path) -> Path:
    """Assemble ``<out>/scores.csv`` from the intermediate results present.

    The model scores are required; ``arr`` comes from the features; later steps (value, health,
    zones) add their columns when their results exist. Columns not produced by any step are left
    out rather than written empty.
    """
    out = Path(out)
    scores = read_work(out, "model_scores")
    features = read_work(out, "features")
    table = scores.merge(features[["customer_id", "arr"]] if "arr" in features else features[["customer_id"]],
                         on="customer_id", how="left")
    if "arr" in table:
        table["arr"] = table["arr"].fillna(0.0)
    for extra in ("value", "health", "zones", "segments"):
        path = out / "work" / f"{extra}.parquet"
        if path.is_file():
            more = pd.read_parquet(path)
            table = table.merge(more[[c for c in more.columns if c == "customer_id" or c not in table]],
                                on="customer_id", how="left")
    columns = [c for c in SCORES_COLUMNS if c in table.columns]
    table = table[columns].sort_values("customer_id", kind="stable")
    path = out / "scores.csv"
    table.to_csv(path, index=False, float_format="%.6f", lineterminator="\n")
    return path


#: Sheet titles of targets.xlsx, by list.
_SHEETS = {"proactive": "Proactive", "reactive": "Reactive", "exit_interviews": "Exit interviews"}


def write_targets(out: str | Path, lists: dict[str, pd.DataFrame], as_of) -> Path:
    """Write the campaign lists to ``<out>/targets/<list>.csv`` and one ``targets.xlsx``.

    The CSVs keep the list's priority order (it is the order to work through), print floats with
    2 decimals (money and probabilities as shown) and dates as ISO. The workbook has a sheet per
    list with a frozen, filterable header and readable column widths; its document dates are the
    as-of date, not the wall clock (the zip container still stamps its members with the time of
    writing, so compare workbooks by content, CSVs by bytes).
    """
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    folder = Path(out) / "targets"
    folder.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    stamp = datetime.combine(pd.Timestamp(as_of).date(), datetime.min.time())
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "churnlab"
    for name, frame in lists.items():
        frame.to_csv(folder / f"{name}.csv", index=False, float_format="%.6f", lineterminator="\n")
        sheet = book.create_sheet(_SHEETS.get(name, name)[:31])
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if (isinstance(v, float) and v != v) else v for v in row])
        sheet.freeze_panes = "A2"
        if len(frame.columns):
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
        for k, col in enumerate(frame.columns, start=1):
            longest = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
            sheet.column_dimensions[get_column_letter(k)].width = min(60, max(10, longest + 2))
    path = folder / "targets.xlsx"
    book.save(path)
    return path

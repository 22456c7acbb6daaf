"""What the notebooks of one run share, so that each step is computed once.

A run executes five notebooks, each in its own kernel. Without sharing, each would read and
validate the whole source again (about 26 s at 100,000 customers, most of a minute at a million)
and rebuild the same features. The notebooks therefore ask this module instead of calling
:func:`churnlab.load_data`, :func:`churnlab.build_features` and
:func:`churnlab.build_training_set` directly:

* :func:`open_data` — the validated, point-in-time dataset;
* :func:`features_at` — the features at a date;
* :func:`training_set` — the training set of the models;
* :func:`handoff` — a :class:`Handoff` through which a notebook puts the results a later notebook
  takes (the model scores and bundle of 03, the value, health, zones and fired rules of 04 (rules are evaluated before the zones, which read the flags
  they set), the
  segments of 05), every one under the same kind of key.

Given a run folder ``out``, the first call computes the result and keeps it under
``<out>/work/shared/`` (Parquet, and a ``.key.json`` saying what it was made from); later calls
with the same key read it back. The key holds everything the result depends on — the source, its
fingerprint (sha256 of the input files, recomputed on every call, so changed data is never served
from the copy), the as-of date, the settings that matter and the package's own code (a sha256
of every file of ``churnlab/``: a copy made by another version of churnlab, or before an edit of
its code, is not served to the new one) — so a stale copy is never used.
A database source has no files to hash: its copy is keyed by the URL (without its password) and the as-of date,
which also gives every notebook of a run the same rows even when the database moves on meanwhile.
Without ``out`` (a notebook run by hand with ``out=None``) nothing is kept and every call computes.

A result taken under another key (another as-of date, other data, other settings or code) is
never served: :meth:`Handoff.take` raises :class:`MissingResult` naming the notebook to run first
and what differs, so a notebook run by hand after changing ``as_of`` cannot mix dates.

Results are written to a temporary name and renamed, so a reader never sees half a file.
``churnlab run`` removes ``work/`` from the report folder when the run has succeeded.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from churnlab.data import open_source
from churnlab.features.engine import build_features, build_training_set
from churnlab.data.loading import Dataset, fingerprint
from churnlab.data.memory import release_memory
from churnlab.data.saved import SavedTables, read_dataset, read_key, save_dataset, write_key, write_parquet
from churnlab.settings import Settings
from churnlab.data.sql import is_database_url, without_password
from churnlab.models.bundle import BundleError, ModelBundle, load_bundle

__all__ = ["open_data", "features_at", "training_set", "handoff", "Handoff", "MissingResult", "PRODUCERS",
           "code_fingerprint", "folder_fingerprint", "settings_fingerprint", "save_dataset", "read_dataset",
           "SavedTables"]

_SHARED = ("work", "shared")


def _folder(out: str | Path) -> Path:
    path = Path(out).joinpath(*_SHARED)
    path.mkdir(parents=True, exist_ok=True)
    return path


def folder_fingerprint(folder: str | Path) -> str:
    """sha256 of the files below ``folder``: their relative names and bytes, ``__pycache__`` left out."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        name = path.relative_to(folder).as_posix().encode()
        data = path.read_bytes()
        digest.update(len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """:func:`folder_fingerprint` of the churnlab package, computed once per process: part of
    every key here, so results of other code are never served back."""
    return folder_fingerprint(Path(__file__).resolve().parents[1])


def _source_key(data, as_of, settings: Settings) -> dict:
    database = is_database_url(data)
    return {
        "code": code_fingerprint(),
        "source": without_password(str(data))[0] if database else str(data),
        "fingerprint": None if database else fingerprint(data, settings.mapping),
        "as_of": pd.Timestamp(as_of).normalize().isoformat(),
        "on_row_error": settings.validation.on_row_error,
        "numeric_share": settings.validation.numeric_share,
        "mapping": None if settings.mapping is None else settings.mapping.model_dump(mode="json"),
    }


def open_data(data, as_of, out: str | Path | None = None, *, settings: Settings | None = None) -> Dataset:
    """The dataset as :func:`churnlab.load_data` gives it (validated, cut at ``as_of``), read and
    validated once per run: with ``out``, the first call keeps a copy under ``<out>/work/shared/``
    and later calls with the same source, fingerprint, as-of date and validation/mapping settings
    read that copy back, each table when first used (:class:`SavedTables`). With ``out``, a
    folder's tables of more than ``validation.chunk_rows`` rows are validated chunk by chunk
    (:func:`churnlab.data.open_source` decides) and stay on disk until asked for as frames."""
    settings = settings or Settings()
    rule = {"churn": settings.models.churn, "inactivity_days": settings.models.inactivity_days,
            "btyd": {"horizon_days": settings.horizon_days, "value_months": settings.value.horizon_months,
                     "annual_discount_rate": settings.value.annual_discount_rate}}
    if out is None:
        return replace(open_source(data, as_of, settings=settings), **rule)
    folder = _folder(out) / "dataset"
    key = _source_key(data, as_of, settings)
    if read_key(folder / "source.key.json") == key and (folder / "dataset.json").is_file():
        return replace(read_dataset(folder, lazy=True), **rule)
    (folder / "source.key.json").unlink(missing_ok=True)
    (folder / "dataset.json").unlink(missing_ok=True)
    # tables too large for memory are validated chunk by chunk straight into the folder
    dataset = open_source(data, as_of, folder, settings=settings)
    if not (folder / "dataset.json").is_file():  # validated in memory: keep a copy
        save_dataset(dataset, folder)
    write_key(folder / "source.key.json", key)
    return replace(dataset, **rule)


# -- features and training sets ------------------------------------------------------------
def _cached(out: str | Path | None, name: str, key: dict, build) -> pd.DataFrame:
    if out is None:
        return build()
    folder = _folder(out)
    data, key_file = folder / f"{name}.parquet", folder / f"{name}.key.json"
    if read_key(key_file) == key and data.is_file():
        # Arrow's buffers are freed column by column as they are converted: a million customers'
        # training set (5 GB) would otherwise be held twice while it is read; what the read
        # left in Arrow's pool (1.3 GB of it) is given back
        frame = pq.read_table(data).to_pandas(split_blocks=True, self_destruct=True)
        release_memory()
        return frame
    key_file.unlink(missing_ok=True)
    frame = build()
    write_parquet(frame, data)
    write_key(key_file, key)
    return frame


def _dataset_key(dataset: Dataset) -> dict:
    return {"code": code_fingerprint(), "source": dataset.source, "fingerprint": dataset.fingerprint,
            "as_of": None if dataset.as_of is None else dataset.as_of.isoformat(),
            "churn": dataset.churn, "inactivity_days": dataset.inactivity_days, "btyd": dataset.btyd}


def features_at(dataset: Dataset, date, out: str | Path | None = None) -> pd.DataFrame:
    """:func:`churnlab.build_features` of ``dataset`` at ``date`` (its customers active then, by
    the dataset's churn rule), kept under ``out`` when given."""
    day = pd.Timestamp(date).normalize()
    key = {**_dataset_key(dataset), "date": day.isoformat()}
    return _cached(out, f"features-{day.date().isoformat()}", key, lambda: build_features(dataset, day))


def training_set(dataset: Dataset, as_of, out: str | Path | None = None, *,
                 settings: Settings | None = None) -> pd.DataFrame:
    """:func:`churnlab.build_training_set` of ``dataset`` with the run's settings (horizon,
    snapshots, churn definition), kept under ``out`` when given."""
    settings = settings or Settings()
    ms = settings.models
    day = pd.Timestamp(as_of).normalize()
    key = {**_dataset_key(dataset), "as_of_date": day.isoformat(), "horizon_days": settings.horizon_days,
           "snapshots": ms.snapshots, "churn": ms.churn, "inactivity_days": ms.inactivity_days}
    return _cached(out, f"training-{day.date().isoformat()}", key, lambda: build_training_set(
        dataset, day, horizon_days=settings.horizon_days, snapshots=ms.snapshots, churn=ms.churn,
        inactivity_days=ms.inactivity_days))


# -- results handed from one notebook to a later one ---------------------------------------
#: The notebook that makes each result a later notebook (or the run) takes.
PRODUCERS: dict[str, str] = {
    "model_scores": "03_models.ipynb", "features": "03_models.ipynb", "backtest": "03_models.ipynb",
    "value": "04_value_zones.ipynb", "health": "04_value_zones.ipynb", "zones": "04_value_zones.ipynb",
    "rules": "04_value_zones.ipynb",
    "segments": "05_campaigns.ipynb", "holdouts": "05_campaigns.ipynb",
}


class MissingResult(FileNotFoundError):
    """A result a notebook needs was not made for this data, date and settings: the message
    names the notebook to run first."""


def settings_fingerprint(settings: Settings) -> str:
    """sha256 of the settings as JSON: results made under other settings are not served."""
    text = json.dumps(settings.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _differences(found: dict, wanted: dict) -> str:
    words = {"as_of": "as-of date", "fingerprint": "input data", "source": "source", "code": "churnlab code",
             "settings": "settings"}
    parts = []
    for field in ("as_of", "source", "fingerprint", "settings", "code"):
        if found.get(field) != wanted.get(field):
            shown = (f" {str(found.get(field))[:10]}, not {str(wanted.get(field))[:10]}" if field == "as_of" else "")
            parts.append(f"another {words[field]}{shown}")
    return ", ".join(parts) or "another run"


@dataclass(frozen=True)
class Handoff:
    """The results the notebooks of one run hand each other, under one key.

    ``key`` holds the code, the input's source and fingerprint, the as-of date and the settings
    (:func:`handoff` makes it). :meth:`put` keeps a frame under ``<out>/work/shared/`` with that
    key; :meth:`take` gives it back only when the key is the same, and otherwise raises
    :class:`MissingResult` saying which notebook to run first and what differs.
    """

    out: Path | None
    key: dict

    def _paths(self, name: str) -> tuple[Path, Path]:
        folder = _folder(self.out)
        return folder / f"{name}.parquet", folder / f"{name}.key.json"

    def put(self, name: str, frame: pd.DataFrame) -> None:
        """Keep ``frame`` as the result ``name`` of this run (nothing is kept without ``out``)."""
        if self.out is None:
            return
        data, key_file = self._paths(name)
        key_file.unlink(missing_ok=True)
        write_parquet(frame, data)
        write_key(key_file, {**self.key, "result": name})

    def _missing(self, name: str, why: str) -> MissingResult:
        maker = PRODUCERS.get(name, "the notebook that makes it")
        return MissingResult(f"{name}: {why}; run {maker} with the same data, as_of and config"
                             f"{'' if self.out is None else f' and out={str(self.out)!r}'} first")

    def has(self, name: str) -> bool:
        """Whether :meth:`take` would give ``name``."""
        if self.out is None:
            return False
        data, key_file = self._paths(name)
        return data.is_file() and read_key(key_file) == {**self.key, "result": name}

    def take(self, name: str) -> pd.DataFrame:
        """The result ``name`` made for this key; :class:`MissingResult` when there is none."""
        if self.out is None:
            raise self._missing(name, "out=None keeps nothing between notebooks")
        data, key_file = self._paths(name)
        found = read_key(key_file)
        if found is None or not data.is_file():
            raise self._missing(name, f"not found in {self.out}")
        if found != {**self.key, "result": name}:
            raise self._missing(name, f"the one in {self.out} was made for {_differences(found, self.key)}")
        return pd.read_parquet(data)

    def bundle(self) -> ModelBundle:
        """The model bundle notebook 03 saved under ``<out>/models`` with this run's model scores,
        checked as :func:`~churnlab.models.bundle.load_bundle` checks it."""
        self.take("model_scores")  # the bundle is saved beside them: same data, date and settings
        try:
            return load_bundle(Path(self.out) / "models", fingerprint=self.key["fingerprint"])
        except BundleError as err:
            raise self._missing("model_scores", f"the model bundle does not load ({err})") from err


def handoff(dataset: Dataset, out: str | Path | None, *, settings: Settings | None = None) -> Handoff:
    """The :class:`Handoff` of the run folder ``out`` for ``dataset`` (source, fingerprint, as-of
    date) and ``settings``: every notebook of a run gets the same one."""
    settings = settings or Settings()
    return Handoff(None if out is None else Path(out),
                   {**_dataset_key(dataset), "settings": settings_fingerprint(settings)})

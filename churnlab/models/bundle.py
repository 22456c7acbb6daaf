"""The model bundle: fitted models plus everything needed to trust (or refuse) them later.

A bundle is a folder with two files:

* ``models.joblib``: the fitted :class:`~churnlab.models.survival.SurvivalModel` and
  :class:`~churnlab.models.classify.ChurnClassifier` (joblib, i.e. pickle);
* ``bundle.json``: readable metadata — the feature list, the training window, the backtest
  figures, the chosen models, the package versions, the input fingerprint, the settings, the
  sha256 of ``models.joblib`` and ``bundle_sha256``, a sha256 over all of that (the metadata
  without its own ``bundle_sha256``, as canonical JSON: see :func:`metadata_sha256`). An edited
  horizon or feature list is therefore caught as surely as a changed ``models.joblib``.

:func:`load_bundle` checks, before unpickling anything, that ``bundle.json`` is the file that was
written (its checksum), that ``models.joblib`` is the file the metadata describes and that the
installed package versions are the ones the models were fitted with; given a data fingerprint and
a features frame, it also checks those. Any mismatch, and any damaged bundle (a truncated pickle,
malformed JSON, metadata of the wrong shape or with fields missing, a pickle holding something
other than the models), raises one :class:`BundleError` naming the file and what to do.
Format 1 bundles (whose ``bundle.json`` had no checksum) are refused with the advice to refit.

**Trust boundary.** Unpickling runs code. The sha256 check guards against a file that changed by
accident, not against an attacker who can rewrite both files: only load bundles that you (or your
own scheduled runs) wrote, from a folder only you can write to. Never load a bundle you received.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import joblib
import pandas as pd

__all__ = ["ModelBundle", "BundleError", "save_bundle", "load_bundle", "package_versions", "metadata_sha256"]

MODELS_FILE = "models.joblib"
META_FILE = "bundle.json"
#: 2: ``bundle_sha256`` covers bundle.json too (1: only models.joblib was checked).
FORMAT_VERSION = 2
_CHECKED_PACKAGES = ("churnlab", "scikit-learn", "lifelines", "pandas", "numpy", "scipy", "joblib")


class BundleError(ValueError):
    """A bundle that cannot be used: missing files, changed contents, other versions, other data."""


def package_versions() -> dict[str, str]:
    """Installed versions of the packages whose change could alter a fitted model."""
    return {name: metadata.version(name) for name in _CHECKED_PACKAGES}


@dataclass
class ModelBundle:
    """Fitted models with their provenance.

    ``survival``/``classifier``: the fitted models; ``features``: the columns of the features
    frame they read; ``horizon_days``; ``as_of``: the date they were fitted for;
    ``training_window``: first and last snapshot, rows and churners; ``chosen``: the model kinds
    and the figure that picked them; ``metrics``: the backtest figures (as in
    ``model_metrics.json``); ``fingerprint``: of the input data; ``versions``: of the packages;
    ``settings``: the model settings used.
    """

    survival: object
    classifier: object
    features: list[str]
    horizon_days: int
    as_of: str
    training_window: dict
    chosen: dict
    metrics: dict = field(default_factory=dict)
    fingerprint: str = ""
    versions: dict = field(default_factory=package_versions)
    settings: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        """Everything but the models, JSON-ready."""
        meta = {k: v for k, v in asdict(self).items() if k not in ("survival", "classifier")}
        meta["format_version"] = FORMAT_VERSION
        return meta


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def metadata_sha256(meta: dict) -> str:
    """The checksum of a bundle's metadata: sha256 of ``meta`` without its ``bundle_sha256``, as
    canonical JSON (sorted keys, no spaces). ``meta`` holds ``models_sha256``, so this one
    figure covers both files of the bundle."""
    body = {k: v for k, v in meta.items() if k != "bundle_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_bundle(bundle: ModelBundle, folder: str | Path) -> Path:
    """Write ``bundle`` into ``folder`` (created; existing bundle files replaced); returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump({"survival": bundle.survival, "classifier": bundle.classifier}, folder / MODELS_FILE)
    meta = bundle.metadata()
    meta["models_sha256"] = _sha256(folder / MODELS_FILE)
    # the checksum is taken over the metadata as it reads back (dates, paths as their text)
    meta = json.loads(json.dumps(meta, default=str))
    meta["bundle_sha256"] = metadata_sha256(meta)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return folder


#: bundle.json's fields besides the checksums, with the type each must have.
_FIELDS = {"features": list, "horizon_days": int, "as_of": str, "training_window": dict, "chosen": dict,
           "metrics": dict, "fingerprint": str, "versions": dict, "settings": dict}
_REFIT = "refit the models (churnlab run writes a new bundle)"


def _read_metadata(meta_path: Path) -> dict:
    """bundle.json, checked for shape, format and checksum; BundleError naming it otherwise."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"{meta_path}: not readable JSON ({err}); the bundle is damaged: {_REFIT}") from None
    if not isinstance(meta, dict):
        raise BundleError(f"{meta_path}: holds a JSON {type(meta).__name__}, not the bundle's metadata (an object); "
                          f"the bundle is damaged: {_REFIT}")
    found = meta.get("format_version")
    if found != FORMAT_VERSION:
        if isinstance(found, int) and not isinstance(found, bool) and found < FORMAT_VERSION:
            why = f"bundle format {found} is older than the format {FORMAT_VERSION} this churnlab reads"
        elif isinstance(found, int) and not isinstance(found, bool):
            why = f"bundle format {found} is newer than the format {FORMAT_VERSION} this churnlab reads"
        else:
            why = f"no bundle format version (found {found!r}, this churnlab reads {FORMAT_VERSION})"
        raise BundleError(f"{meta_path}: {why}; {_REFIT}")
    if not isinstance(meta.get("bundle_sha256"), str) or metadata_sha256(meta) != meta["bundle_sha256"]:
        raise BundleError(f"{meta_path}: its contents are not the ones written (bundle_sha256 differs or is "
                          f"missing): it changed after it was written; {_REFIT}")
    missing = [k for k in (*_FIELDS, "models_sha256") if k not in meta]
    if missing:
        raise BundleError(f"{meta_path}: lacks the field(s) {', '.join(missing)}; {_REFIT}")
    wrong = [f"{k} ({type(meta[k]).__name__}, expected {t.__name__})" for k, t in _FIELDS.items()
             if not isinstance(meta[k], t) or isinstance(meta[k], bool)]
    if not wrong and not all(isinstance(f, str) for f in meta["features"]):
        wrong = ["features (not a list of names)"]
    if wrong:
        raise BundleError(f"{meta_path}: field(s) of the wrong type: {', '.join(wrong)}; {_REFIT}")
    return meta


def _read_models(models_path: Path) -> dict:
    """models.joblib unpickled and checked to hold the two models; BundleError naming it otherwise."""
    try:
        models = joblib.load(models_path)
    except Exception as err:  # a damaged pickle raises whatever its bytes lead to
        raise BundleError(f"{models_path}: cannot be unpickled ({type(err).__name__}: {err}); "
                          f"the bundle is damaged: {_REFIT}") from None
    if not isinstance(models, dict) or not {"survival", "classifier"} <= set(models):
        raise BundleError(f"{models_path}: holds a {type(models).__name__}, not the survival model and classifier "
                          f"of a bundle; {_REFIT}")
    if not callable(getattr(models["survival"], "predict", None)):
        raise BundleError(f"{models_path}: its survival model is a {type(models['survival']).__name__}, "
                          f"which cannot predict; {_REFIT}")
    if not callable(getattr(models["classifier"], "predict_proba", None)):
        raise BundleError(f"{models_path}: its classifier is a {type(models['classifier']).__name__}, "
                          f"which cannot predict probabilities; {_REFIT}")
    return models


def load_bundle(folder: str | Path, fingerprint: str | None = None,
                features: pd.DataFrame | None = None, check_versions: bool = True) -> ModelBundle:
    """Read a bundle written by :func:`save_bundle`, refusing one that does not fit.

    Parameters
    ----------
    folder : the bundle folder.
    fingerprint : when given, the data fingerprint the models must have been fitted on.
    features : when given, a features frame that must hold every feature the models read.
    check_versions : refuse a bundle written with other package versions (default).

    Raises
    ------
    BundleError : naming what differs — read the module docstring on trust before loading.
    """
    folder = Path(folder)
    meta_path, models_path = folder / META_FILE, folder / MODELS_FILE
    for path in (meta_path, models_path):
        if not path.is_file():
            raise BundleError(f"{folder}: not a model bundle ({path.name} is missing)")
    meta = _read_metadata(meta_path)
    if _sha256(models_path) != meta["models_sha256"]:
        raise BundleError(f"{folder}: {MODELS_FILE} is not the file {META_FILE} describes (sha256 differs): "
                          "it changed after it was written; refit the models")
    if check_versions:
        now = package_versions()
        diff = {k: (v, now.get(k)) for k, v in meta.get("versions", {}).items() if now.get(k) != v}
        if diff:
            listed = ", ".join(f"{k} {old} (installed {new})" for k, (old, new) in sorted(diff.items()))
            raise BundleError(f"{folder}: fitted with other package versions: {listed}; refit the models "
                              "or install those versions")
    if fingerprint is not None and meta.get("fingerprint") != fingerprint:
        raise BundleError(f"{folder}: fitted on other data (fingerprint {meta.get('fingerprint', '')[:12]}…, "
                          f"this data {fingerprint[:12]}…)")
    if features is not None:
        missing = [f for f in meta["features"] if f not in features.columns]
        if missing:
            raise BundleError(f"{folder}: the features frame lacks {len(missing)} feature(s) the models read: "
                              f"{', '.join(missing[:8])}")
    models = _read_models(models_path)
    fields = {k: meta[k] for k in _FIELDS}
    return ModelBundle(survival=models["survival"], classifier=models["classifier"], **fields)

"""The model bundle: fitted models plus everything needed to trust (or refuse) them later.

A bundle is a folder with two files:

* ``models.joblib``: the fitted :class:`~churnlab.models.survival.SurvivalModel` and
  :class:`~churnlab.models.classify.ChurnClassifier` (joblib, i.e. pickle);
* ``bundle.json``: readable metadata — the feature list, the training window, the backtest
  figures, the chosen models, the package versions, the input fingerprint, the settings and the
  sha256 of ``models.joblib``.

:func:`load_bundle` checks, before unpickling anything, that ``models.joblib`` is the file the
metadata describes and that the installed package versions are the ones the models were fitted
with; given a data fingerprint and a features frame, it also checks those. Any mismatch raises
:class:`BundleError` saying what differs.

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

__all__ = ["ModelBundle", "BundleError", "save_bundle", "load_bundle", "package_versions"]

MODELS_FILE = "models.joblib"
META_FILE = "bundle.json"
FORMAT_VERSION = 1
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


def save_bundle(bundle: ModelBundle, folder: str | Path) -> Path:
    """Write ``bundle`` into ``folder`` (created; existing bundle files replaced); returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump({"survival": bundle.survival, "classifier": bundle.classifier}, folder / MODELS_FILE)
    meta = bundle.metadata()
    meta["models_sha256"] = _sha256(folder / MODELS_FILE)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return folder


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
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{folder}: bundle format {meta.get('format_version')}, this churnlab reads {FORMAT_VERSION}")
    if _sha256(models_path) != meta.get("models_sha256"):
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
    models = joblib.load(models_path)
    fields = {k: meta[k] for k in ("features", "horizon_days", "as_of", "training_window", "chosen",
                                   "metrics", "fingerprint", "versions", "settings")}
    return ModelBundle(survival=models["survival"], classifier=models["classifier"], **fields)

"""Run settings: one validated model, loaded from YAML, passed explicitly.

Defaults run the demo. No module reads the settings file behind the caller's back: the CLI (or a
notebook) calls :func:`load_settings` once and hands the result down.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValidationSettings(_Strict):
    """How loading treats rows that break a row-level rule of the data contract.

    ``quarantine`` (default) sets them aside with their reason into ``data_quality.csv``;
    ``reject`` fails the run with the same report.
    """

    on_row_error: Literal["quarantine", "reject"] = "quarantine"


class ModelSettings(_Strict):
    """The churn models: what is compared in the backtest and how the winners are fitted."""

    snapshots: int = Field(12, ge=3, description="Monthly snapshots before the as-of date in the training set.")
    churn: Literal["contract", "inactivity"] = Field(
        "contract", description="Churn is the churn_date of customers, or also a usage gap (inactivity).")
    inactivity_days: int = Field(60, gt=0, description="The usage gap that means churn under churn: inactivity.")
    survival: list[Literal["cox", "weibull_aft"]] = Field(
        ["cox", "weibull_aft"], min_length=1, description="Survival models compared in the backtest.")
    classifiers: list[Literal["logistic", "boosting"]] = Field(
        ["logistic", "boosting"], min_length=1, description="Classifiers compared in the backtest.")
    penalizer: float = Field(0.05, ge=0, description="L2 penalty of the survival models (standardised features).")
    C: float = Field(0.1, gt=0, description="Inverse L2 strength of the logistic regression.")
    calibration: Literal["sigmoid", "isotonic"] = Field(
        "sigmoid", description="How classifier probabilities are recalibrated on the latest labelled snapshot.")
    backtest: Literal["auto", "rolling", "cross_section"] = Field(
        "auto", description="rolling: fit on earlier snapshots, test on later ones; cross_section: test across "
                            "the customers of the latest labelled snapshot (flat tables that only know one month "
                            "of churn); auto: rolling when every rolling fold has churners to fit on.")
    backtest_folds: int = Field(3, ge=1, description="Rolling-origin test snapshots (cross_section: test parts).")
    select_by: Literal["roc_auc", "pr_auc", "brier", "emp"] = Field(
        "roc_auc", description="Backtest figure (mean over folds) that picks the classifier.")
    max_training_rows: int = Field(200_000, gt=1000, description="Larger fitting sets are sampled with weights.")
    reasons: int = Field(3, ge=1, le=10, description="Reasons in words per customer.")


#: The contract tables a mapping may fill (the order of ``docs/data-contract.md``).
ContractTable = Literal["customers", "subscriptions", "usage_events", "support_tickets", "surveys",
                        "invoices", "touchpoints", "advocacy", "interventions"]
Cell = Union[str, int, float, bool, None]


def _text_keys(value):
    """Value-map keys as the text a CSV cell holds (YAML reads ``1:`` as a number)."""
    if isinstance(value, dict):
        return {(str(k).lower() if isinstance(k, bool) else str(k)): v for k, v in value.items()}
    return value


class ChurnFlagMapping(_Strict):
    """A yes/no churn column of a flat table whose "churned" means: left in the month before the
    as-of date (the IBM Telco table's ``Churn``). A churned customer gets as ``churn_date`` the
    first day of the month that ends on the as-of date (see ``churnlab.mapping.churn_month_date``);
    an active one none."""

    column: str = Field(..., description="The source column holding the flag (dropped afterwards: as a feature it "
                                         "would hand the models the answer).")
    values: dict[str, Literal["churned", "active"]] = Field(
        ..., min_length=1, description="Source value -> churned or active; a row with any other value is quarantined.")

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value):
        return _text_keys(value)


class TableMapping(_Strict):
    """How one source table (a file or a database table) becomes one contract table.

    Applied in this order: cells are stripped of surrounding blanks (a blank cell is missing),
    ``values`` are mapped, ``numeric`` and ``date_formats`` columns are parsed (a row with a cell
    that does not parse is quarantined with its reason), ``tenure_months`` and ``churn_flag`` become
    ``signup_date`` and ``churn_date``, ``columns`` are renamed and ``constants`` added. Every other
    source column is kept under its own name (on customers: a candidate feature).
    """

    source: str | None = Field(
        None, description="The source's file stem or table name; default: the contract name (or the one file given as --data).")
    columns: dict[str, str] = Field({}, description="Contract column -> source column.")
    constants: dict[str, Cell] = Field({}, description="Contract column -> the same value on every row.")
    values: dict[str, dict[str, Cell]] = Field(
        {}, description="Source column -> {source value: value}; values not listed stay as they are.")
    date_formats: dict[str, str] = Field(
        {}, description="Source column -> strptime format of its dates (e.g. '%d/%m/%Y'); default ISO.")
    numeric: list[str] = Field(
        [], description="Source columns holding numbers: blank cells become missing, other text is quarantined.")
    tenure_months: str | None = Field(
        None, description="customers only: a source column of whole months as a customer, turned into signup_date "
                          "counted back from the as-of date (and dropped).")
    churn_flag: ChurnFlagMapping | None = Field(None, description="customers only: a churned/active column.")
    keep_other_columns: bool = Field(True, description="Keep source columns not named above as extra columns.")

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value):
        return {c: _text_keys(m) for c, m in value.items()} if isinstance(value, dict) else value


class MappingSettings(_Strict):
    """A source's tables and columns mapped onto the data contract (see README, "Your own data: mappings")."""

    description: str = Field("", description="What source this mapping is for.")
    tables: dict[ContractTable, TableMapping] = Field(..., min_length=1, description="Contract table -> its mapping.")


class Settings(_Strict):
    """Everything a run needs besides the data and the as-of date."""

    seed: int = Field(7, description="Seed for every random step of a run.")
    horizon_days: int = Field(90, gt=0, description="Churn horizon: P(churn within this many days).")
    validation: ValidationSettings = ValidationSettings()
    models: ModelSettings = ModelSettings()
    mapping: MappingSettings | None = Field(
        None, description="How to read a source that does not follow the data contract; None reads it as it is. "
                          "In YAML: the mapping itself, a shipped mapping's name (telco) or a mapping file's path.")


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 reads ``Yes``/``No``/``on`` as booleans,
    which would turn a value map such as ``Churn: {Yes: churned, No: active}`` into nonsense."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _read_yaml(path: Path, what: str) -> dict:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: {what} must be a YAML mapping, got {type(data).__name__}")
    return data


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped in ``churnlab/mappings/`` (e.g. ``telco``)."""
    folder = resources.files("churnlab") / "mappings"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_mapping(name_or_path: str | Path, relative_to: str | Path | None = None) -> MappingSettings:
    """A mapping by shipped name (``"telco"``) or from a YAML file.

    A relative path is looked up from ``relative_to`` (the settings file's folder) first.
    """
    text = str(name_or_path)
    if text in shipped_mappings():
        path = Path(str(resources.files("churnlab") / "mappings" / f"{text}.yaml"))
    else:
        path = Path(text)
        if not path.is_absolute() and relative_to is not None and (Path(relative_to) / path).is_file():
            path = Path(relative_to) / path
        if not path.is_file():
            raise FileNotFoundError(
                f"mapping {text!r} is neither a shipped mapping ({', '.join(shipped_mappings())}) nor a YAML file")
    return MappingSettings.model_validate(_read_yaml(path, "a mapping"))


def load_settings(path: str | Path | None = None, mapping: str | Path | None = None) -> Settings:
    """Read settings from a YAML file; ``None`` gives the defaults.

    ``mapping`` (a shipped mapping's name or a mapping file) replaces the file's ``mapping``. In
    the file, ``mapping:`` is the mapping itself, a shipped name or a path relative to the file.
    Unknown keys and wrong types are refused with pydantic's message, which names the key.
    """
    data = {} if path is None else _read_yaml(Path(path), "settings")
    folder = None if path is None else Path(path).parent
    if mapping is not None:
        data["mapping"] = load_mapping(mapping).model_dump()
    elif isinstance(data.get("mapping"), str):
        data["mapping"] = load_mapping(data["mapping"], relative_to=folder).model_dump()
    return Settings.model_validate(data)

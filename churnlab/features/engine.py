"""Point-in-time features and training sets.

``build_features(data, as_of)`` gives one row per customer active on ``as_of`` (signed up on or
before it and not churned by it) with every feature of ``churnlab.features.catalogue`` whose
source table is present. ``build_training_set`` stacks the same features at monthly snapshots
before ``as_of`` with a churn label and survival columns.

Point in time: every query keeps only rows dated before the end of the snapshot day, so a row
dated after it cannot change anything computed for that snapshot (a property test checks this).

Engine
------
The features are written once, as DuckDB SQL over the contract tables, and computed for all
snapshots at once: each row of the smaller tables is joined to the snapshots whose look-back
window holds it (a range join), and the event log is reduced in one pass to per-bucket counts
and activity bitmasks from which every usage window of every snapshot follows exactly
(``churnlab.features.usage_windows``). DuckDB streams Parquet, so the event log never has to fit in
memory when a source folder is given directly (``connect`` with a path); a validated
:class:`~churnlab.data.loading.Dataset` is registered zero-copy from its pandas frames, except the tables
it keeps on disk (``Dataset.file``: a run's validated copy), which are read from their Parquet files.

Assembly: customers are numbered once (``i``, in customer_id order) and the population of
(customer, snapshot) pairs is worked out in NumPy, sorted by snapshot then customer. Each
table's query returns its features keyed by (i, j), and they are scattered into one
preallocated float64 block (a column at a time, freeing the query's Arrow columns as they are
placed) that becomes the frame without a copy. A single sorted join of every table, converted
through Arrow to pandas, held about three copies of the result at once (18 GB for the
12-snapshot set at a million customers, against 6 GB now).

Why DuckDB SQL rather than Ibis: the queries use only portable SQL (``FILTER`` aggregates,
range joins, window functions, ``date_diff``), which PostgreSQL runs nearly verbatim and
Spark SQL with small changes, so pushing them to where the data lives means handing over
these strings, not pulling rows into Python. Ibis would compile one expression to all three,
but it is a large dependency whose range joins and filtered aggregates read less clearly than
the SQL they become, and DuckDB is already the engine of the kit. The choice is revisited if a
second backend becomes a requirement.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal, Sequence

import duckdb
import numpy as np
import pandas as pd

from churnlab.features.activity import inactivity_window
from churnlab.features.btyd import BTYD_DISCOUNT, BTYD_MONTHS, btyd_features
from churnlab.features.catalogue import CUSTOMER_RECORDS, DEPARTMENTS, FEATURES, window
from churnlab.data.loading import Dataset, quiet_duckdb
from churnlab.data.contract import CONTRACT
from churnlab.features.sentiment import comment_sentiment
from churnlab.features.usage_windows import usage_window_features

__all__ = ["build_features", "build_training_set", "connect", "snapshot_dates", "activity_episodes", "churn_rule",
           "choose_inactivity_window"]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def build_features(data: Dataset | str | Path, as_of: str | date,
                   churn: Literal["contract", "inactivity"] | None = None,
                   inactivity_days: int | None = None) -> pd.DataFrame:
    """Features of every customer active on ``as_of``.

    Parameters
    ----------
    data : a validated :class:`~churnlab.data.loading.Dataset`, or a folder of contract Parquet files
        (read directly by DuckDB and trusted as valid: run ``churnlab validate`` on it first).
    as_of : the snapshot date; rows dated after it are never read.
    churn, inactivity_days : who is active, as in :func:`build_training_set`; default the
        dataset's own rule (``Dataset.churn``, ``Dataset.inactivity_days``), else contract. Under
        inactivity a customer whose last use is ``inactivity_days`` or more before ``as_of`` has
        lapsed and is not in the frame; the next use makes it active again.

    Returns
    -------
    DataFrame sorted by customer_id: ``customer_id``, then the catalogue features of the tables
    present (catalogue order), then the customer attributes (extra columns of ``customers``).
    """
    as_of = pd.Timestamp(as_of).normalize()
    churn, inactivity_days = churn_rule(data, churn, inactivity_days)
    with connect(data) as con:
        _effective_churn(con, as_of, churn, inactivity_days)
        frame = _features(con, [as_of], with_snapshot=False)
        return _with_btyd(con, frame, [as_of], churn, **_btyd_horizons(data))


def _btyd_horizons(data, horizon_days: int | None = None) -> dict:
    """The buy-till-you-die horizons of ``data`` (``Dataset.btyd``, set from the run's settings),
    ``horizon_days`` first when given: the same at the snapshots of training and at scoring."""
    given = dict(getattr(data, "btyd", None) or {})
    out = {"horizon_days": int(given.get("horizon_days", 90)),
           "value_months": int(given.get("value_months", BTYD_MONTHS)),
           "annual_discount_rate": float(given.get("annual_discount_rate", BTYD_DISCOUNT))}
    if horizon_days is not None:
        out["horizon_days"] = int(horizon_days)
    return out


def _with_btyd(con, frame: pd.DataFrame, snaps: list[pd.Timestamp], churn: str, horizon_days: int = 90,
               value_months: int = BTYD_MONTHS, annual_discount_rate: float = BTYD_DISCOUNT) -> pd.DataFrame:
    """``frame`` with the buy-till-you-die features (:mod:`churnlab.features.btyd`) of each
    (snapshot, customer) for a purchase log: usage events, churn by inactivity and no
    subscriptions. The money is the events' ``amount`` column when there is one; the expected
    spend is over ``value_months`` discounted at ``annual_discount_rate`` (the value settings)."""
    if not _purchase_log(con, churn) or not len(frame):
        return frame
    columns = {r[0] for r in con.execute("DESCRIBE usage_events").fetchall()}
    money = "amount" if "amount" in columns else None
    end = max(snaps) + pd.Timedelta(days=1)
    events = con.execute(f"SELECT customer_id, ts{', amount' if money else ''} FROM usage_events "
                         f"WHERE ts < TIMESTAMP '{end}'").df()
    found = btyd_features(events, snaps, money, horizon_days=horizon_days, value_months=value_months,
                          annual_discount_rate=annual_discount_rate)
    keys = ["snapshot", "customer_id"] if "snapshot" in frame else ["customer_id"]
    if "snapshot" not in frame:
        found = found.drop(columns="snapshot")
    found["customer_id"] = found["customer_id"].astype(frame["customer_id"].dtype)
    out = frame.merge(found, on=keys, how="left")
    churn_cols = [c for c in ("churn_at",) if c in out]
    return out[[c for c in out.columns if c not in churn_cols] + churn_cols]


def churn_rule(data, churn: str | None = None, inactivity_days: int | None = None) -> tuple[str, int | None]:
    """The churn definition to apply: the arguments given, else the dataset's (set by
    ``churnlab.report.handoff.open_data`` from the settings), else contract."""
    churn = churn or getattr(data, "churn", None) or "contract"
    if inactivity_days is None:
        inactivity_days = getattr(data, "inactivity_days", None)
    return churn, inactivity_days


def choose_inactivity_window(data: Dataset | str | Path, as_of: str | date, days: int | None = None):
    """The :class:`~churnlab.features.activity.InactivityWindow` for ``data`` at ``as_of``: ``days``
    (the setting) when given, else chosen from the gaps between its customers' days of use; with
    the warnings when the window looks implausible. None without usage_events."""
    with connect(data) as con:
        if "usage_events" not in _tables(con):
            return None
        return inactivity_window(con, as_of, days)


def activity_episodes(data: Dataset | str | Path, as_of: str | date,
                      churn: Literal["contract", "inactivity"] | None = None,
                      inactivity_days: int | None = None) -> pd.DataFrame:
    """The spells during which each customer was active, as known on ``as_of``.

    Returns ``customer_id``, ``start`` (signup, or the use that re-activated the customer) and
    ``lapse`` (the day the customer counts as churned: under inactivity the last use of the spell
    plus ``inactivity_days``; missing while that day is after ``as_of``). A customer is active
    at day d of a spell when start <= d < lapse. Under contract churn each customer has one
    spell, from signup to its churn_date. Sorted by customer_id and start.
    """
    as_of = pd.Timestamp(as_of).normalize()
    churn, inactivity_days = churn_rule(data, churn, inactivity_days)
    with connect(data) as con:
        _effective_churn(con, as_of, churn, inactivity_days)
        return con.execute("SELECT customer_id, CAST(start AS TIMESTAMP) AS start, CAST(lapse AS TIMESTAMP) AS lapse "
                           "FROM episodes ORDER BY customer_id, start").df()


def snapshot_dates(as_of: str | date, count: int = 12) -> list[pd.Timestamp]:
    """The ``count`` month ends strictly before ``as_of``, oldest first."""
    as_of = pd.Timestamp(as_of).normalize()
    last = as_of - pd.offsets.MonthEnd(1)   # rolls back to the previous month end, never as_of itself
    return list(pd.date_range(end=last, periods=count, freq="ME"))


def build_training_set(
    data: Dataset | str | Path,
    as_of: str | date,
    horizon_days: int = 90,
    snapshots: int | Sequence[str | date] = 12,
    churn: Literal["contract", "inactivity"] | None = None,
    inactivity_days: int | None = None,
) -> pd.DataFrame:
    """Features at past snapshots with honest labels, stacked.

    Parameters
    ----------
    data, as_of : as in :func:`build_features`; nothing after ``as_of`` is read, labels included.
    horizon_days : the classification horizon.
    snapshots : how many month ends before ``as_of`` (default 12), or the dates themselves.
    churn : ``"contract"`` uses ``customers.churn_date``; ``"inactivity"`` also declares a
        customer without any subscription churned ``inactivity_days`` after its last use when no
        use followed within that many days; a later use makes it active again, so one customer
        can churn, come back and churn again (:func:`activity_episodes`). Default: the
        dataset's rule, else contract.
    inactivity_days : the gap that means churn under ``churn="inactivity"``; default the
        dataset's, else chosen from the data (:func:`churnlab.features.activity.inactivity_window`).

    Returns
    -------
    One row per (snapshot, active customer): ``snapshot``, ``customer_id``, the features, and
    ``duration_days`` (snapshot to churn, the end of the customer's current spell under
    inactivity, or to ``as_of`` when censored), ``event`` (1 when churn
    was seen by ``as_of``), ``label_observed`` (the horizon ended by ``as_of``) and ``churned``
    (churn within the horizon; missing when not observed: leave those rows out of
    classification, keep them censored for survival). For a purchase log (usage events, churn
    by inactivity, no subscriptions) ``churned`` is "no purchase within the horizon": whether an
    active customer buys again is the shop's question, and a lapse within the horizon is nearly
    fixed by the days since the last purchase alone.
    """
    as_of = pd.Timestamp(as_of).normalize()
    if isinstance(snapshots, int):
        snaps = snapshot_dates(as_of, snapshots)
    else:
        snaps = sorted(pd.Timestamp(s).normalize() for s in snapshots)
    late = [s.date().isoformat() for s in snaps if s >= as_of]
    if late:
        raise ValueError(f"snapshots must be before as_of {as_of.date()}, got {', '.join(late)}")
    churn, inactivity_days = churn_rule(data, churn, inactivity_days)
    with connect(data) as con:
        _effective_churn(con, as_of, churn, inactivity_days)
        frame = _features(con, snaps, with_churn=True)
        frame = _with_btyd(con, frame, snaps, churn, **_btyd_horizons(data, horizon_days))
        buys = _buys_within(con, frame, horizon_days, as_of) if _purchase_log(con, churn) else None
    churn_at = pd.to_datetime(frame.pop("churn_at"))
    seen = churn_at.notna() & (churn_at <= as_of)
    end = churn_at.where(seen, as_of)
    frame["duration_days"] = (end - frame["snapshot"]).dt.days.astype("int64")
    frame["event"] = seen.astype("int64")
    frame["label_observed"] = frame["snapshot"] + pd.Timedelta(days=horizon_days) <= as_of
    label = (seen & (frame["duration_days"] <= horizon_days)).astype("Int64")
    if buys is not None:  # a purchase log: the question is whether the customer buys again in time
        label = pd.Series(~buys, index=frame.index).astype("Int64")
    frame["churned"] = label.where(frame["label_observed"], pd.NA)
    return frame


def _purchase_log(con, churn: str) -> bool:
    """Whether the source is a purchase log: usage events, churn by inactivity, no subscriptions."""
    tables = _tables(con)
    return churn == "inactivity" and "usage_events" in tables and "subscriptions" not in tables


def _buys_within(con, frame: pd.DataFrame, horizon_days: int, as_of: pd.Timestamp) -> np.ndarray:
    """For each (snapshot, customer) row of ``frame``: a use (purchase) after the snapshot day
    and within ``horizon_days`` of it, up to ``as_of``."""
    con.register("label_rows", pd.DataFrame({"r": np.arange(len(frame)), "customer_id": frame["customer_id"].to_numpy(),
                                             "snap": frame["snapshot"].to_numpy()}))
    hit = con.execute(f"""
        SELECT DISTINCT l.r FROM label_rows l JOIN usage_events u USING (customer_id)
        WHERE u.ts >= CAST(l.snap AS TIMESTAMP) + INTERVAL 1 DAY
          AND u.ts < CAST(l.snap AS TIMESTAMP) + INTERVAL {int(horizon_days) + 1} DAY
          AND u.ts < TIMESTAMP '{as_of.date()}' + INTERVAL 1 DAY""").fetchnumpy()["r"]
    con.unregister("label_rows")
    out = np.zeros(len(frame), dtype=bool)
    out[np.asarray(hit, dtype=np.int64)] = True
    return out


def connect(data: Dataset | str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the contract tables as views named after them."""
    con = quiet_duckdb()
    if isinstance(data, Dataset):
        for name in data.tables:
            file = data.file(name)
            if file is None:
                con.register(name, data.tables[name])
            else:  # on disk (a kept or chunk-validated dataset): streamed, never a whole frame
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{_sql_str(file)}')")
        return con
    folder = Path(data)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of contract tables")
    for name in CONTRACT:
        for suffix, reader in ((".parquet", "read_parquet"), (".csv", "read_csv_auto")):
            path = folder / f"{name}{suffix}"
            if path.exists():
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM {reader}('{_sql_str(path)}')")
                break
    if "customers" not in _tables(con):
        raise FileNotFoundError(f"{folder}: no customers table")
    return con


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------

def _features(con: duckdb.DuckDBPyConnection, snaps: list[pd.Timestamp],
              with_churn: bool = False, with_snapshot: bool = True) -> pd.DataFrame:
    tables = _tables(con)
    if "customers_eff" not in tables:
        con.execute("CREATE TEMP VIEW customers_eff AS SELECT *, churn_date AS churn_eff FROM customers")
    snap_days = ((pd.to_datetime(snaps).values.astype("datetime64[D]") - np.datetime64("1970-01-01", "D"))
                 .astype(np.int64))
    con.register("snap_list", pd.DataFrame({"snap": pd.to_datetime(snaps).values.astype("datetime64[us]"),
                                            "j": np.arange(len(snaps), dtype=np.int32)}))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE snaps AS
        SELECT CAST(snap AS DATE) AS snap, CAST(snap AS TIMESTAMP) + INTERVAL 1 DAY AS snap_end, j
        FROM snap_list""")
    # customers numbered once in customer_id order, so everything below works on integers
    con.execute("""
        CREATE OR REPLACE TEMP TABLE cidx AS
        SELECT customer_id, CAST(row_number() OVER (ORDER BY customer_id) - 1 AS INTEGER) AS i
        FROM customers_eff""")
    attrs = _attribute_columns(con)
    customers = _customer_columns(con, attrs)
    pop = _population(_episode_days(con, tables), snap_days, len(customers["signup"]))

    groups = [t for t in _GROUPS if t in tables]
    present = {"customers", *groups} | ({"usage_events"} & tables)
    wanted = [f for f in FEATURES if f.table in present]
    # every numeric column lands in one preallocated float64 block (missing is NaN), so the
    # frame is built without a second copy; plan and text attributes become categories. The
    # block's pages are only touched as each column is written, so the usage engine's working
    # set, which comes first, shares the memory with little of it.
    numeric = [f.name for f in wanted if f.name != "plan"] + [a for a, num in attrs.items() if num]
    row = {name: k for k, name in enumerate(numeric)}
    fills = {f.name: np.nan if f.fill is None else f.fill for f in wanted}
    block = np.empty((len(numeric), pop.n), dtype=np.float64)
    block[row["tenure_days"]] = pop.snap_day - customers["signup"][pop.i]
    written = {"tenure_days"}
    if "usage_events" in tables:
        usage = usage_window_features(con, len(customers["customer_id"]), snap_days, pop.i, pop.j)
        for name in list(usage):
            values = usage.pop(name)
            missing = np.isnan(values)              # the catalogue's fill applies
            block[row[name]] = values
            block[row[name], missing] = fills[name]
            written.add(name)
            del values, missing
    plan = None
    for table in groups:
        keys, result = _group_result(con, table)
        where = pop.position(*keys)
        inside = where >= 0
        del keys
        for name in [n for n in result.column_names if n not in ("i", "j")]:
            col = result.column(name)
            result = result.drop_columns([name])    # frees each column as it is placed
            take = inside & col.is_valid().to_numpy(zero_copy_only=False) if col.null_count else inside
            if name == "plan":
                encoded = col.combine_chunks().dictionary_encode()
                plan = (where[take], encoded.indices.to_numpy(zero_copy_only=False)[take],
                        encoded.dictionary.to_pylist())
                continue
            block[row[name]] = fills[name]
            block[row[name], where[take]] = col.to_numpy(zero_copy_only=False)[take]
            written.add(name)
            del col, take
        del result, where, inside
    for a, num in attrs.items():
        if num:
            block[row[a]] = customers[a][pop.i]
            written.add(a)
    for name in set(numeric) - written:              # a table that gave no rows at all
        block[row[name]] = fills[name]

    frame = pd.DataFrame(block.T, columns=numeric, copy=False)
    order = (["snapshot"] if with_snapshot else []) + ["customer_id"] + [f.name for f in wanted] + list(attrs)
    extra = {"customer_id": customers["customer_id"][pop.i]}
    if with_snapshot:
        extra["snapshot"] = pd.to_datetime(snaps).values.astype("datetime64[ns]")[pop.j]
    if "subscriptions" in present:
        extra["plan"] = _plan_categories(pop.n, plan)
    for a, num in attrs.items():
        if not num:
            extra[a] = _take_categories(customers[a], pop.i)
    for name in sorted(extra, key=order.index):
        frame.insert(order.index(name), name, extra[name])
    if with_churn:
        lapse = pop.lapse
        frame["churn_at"] = np.where(lapse == _NEVER, np.datetime64("NaT", "D"),
                                     lapse.astype("datetime64[D]")).astype("datetime64[ns]")
    return frame


class _Population:
    """The (customer i, snapshot j) pairs of the active population, sorted by j then i."""

    def __init__(self, i: np.ndarray, j: np.ndarray, snap_day: np.ndarray, slots: np.ndarray, n_customers: int,
                 lapse: np.ndarray):
        self.i, self.j, self.snap_day, self.n, self.lapse = i, j, snap_day, len(i), lapse
        self._slots, self._c = slots, n_customers

    def position(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Row of each (i, j) pair in the population, -1 for pairs outside it."""
        return self._slots[j * self._c + i]


def _population(episodes: dict[str, np.ndarray], snap_days: np.ndarray, n_customers: int) -> _Population:
    """The (customer, snapshot) pairs where the snapshot falls in one of the customer's active
    spells (start <= snapshot < lapse), with that spell's lapse day (``_NEVER``: not seen).
    A customer's spells do not overlap, so each pair appears at most once."""
    i_e, start, lapse = episodes["i"], episodes["start"], episodes["lapse"]
    c = n_customers
    active = (start[None, :] <= snap_days[:, None]) & (lapse[None, :] > snap_days[:, None])
    j, e = np.nonzero(active)
    i = i_e[e]
    order = np.lexsort((i, j))
    i, j, e = i[order], j[order], e[order]
    slots = np.full(len(snap_days) * c, -1, dtype=np.int64)
    slots[j * c + i] = np.arange(len(i))
    return _Population(i.astype(np.int64), j.astype(np.int64), snap_days[j], slots, c, lapse[e])


def _episode_days(con, tables: set[str]) -> dict[str, np.ndarray]:
    """The active spells as day numbers keyed by ``cidx.i`` (``episodes`` when
    :func:`_effective_churn` made it, else one spell per customer from signup to churn_eff)."""
    source = "episodes" if "episodes" in _tables(con) else (
        "(SELECT customer_id, signup_date AS start, churn_eff AS lapse FROM customers_eff)")
    table = _arrow(con.sql(f"""
        SELECT x.i, date_diff('day', DATE '1970-01-01', CAST(e.start AS DATE)) AS start,
               date_diff('day', DATE '1970-01-01', CAST(e.lapse AS DATE)) AS lapse
        FROM {source} e JOIN cidx x USING (customer_id) ORDER BY x.i, start"""))
    return {"i": table["i"].to_numpy().astype(np.int64),
            "start": table["start"].fill_null(_NEVER).to_numpy().astype(np.int64),
            "lapse": table["lapse"].fill_null(_NEVER).to_numpy().astype(np.int64)}


#: a day number no date reaches: signed up never / churned never
_NEVER = np.iinfo(np.int64).max


def _customer_columns(con, attrs: dict[str, bool]) -> dict[str, np.ndarray]:
    """Per customer, in the order of ``cidx.i``: id, signup and churn days, churn date, attributes."""
    attr_select = "".join(f', CAST(c."{a}" AS DOUBLE) AS "{a}"' if num
                          else f', coalesce(CAST(c."{a}" AS VARCHAR), \'unknown\') AS "{a}"'
                          for a, num in attrs.items())
    table = _arrow(con.sql(f"""
        SELECT c.customer_id,
               date_diff('day', DATE '1970-01-01', CAST(c.signup_date AS DATE)) AS signup,
               date_diff('day', DATE '1970-01-01', CAST(c.churn_eff AS DATE)) AS churn{attr_select}
        FROM customers_eff c JOIN cidx x USING (customer_id) ORDER BY x.i"""))
    out = {"customer_id": table["customer_id"].to_numpy(zero_copy_only=False)}
    for name in ("signup", "churn"):
        out[name] = table[name].fill_null(_NEVER).to_numpy().astype(np.int64)
    out["churn_at"] = np.where(out["churn"] == _NEVER, np.datetime64("NaT", "D"),
                               out["churn"].astype("datetime64[D]")).astype("datetime64[ns]")
    for a, num in attrs.items():
        out[a] = table[a].to_numpy(zero_copy_only=False)
        if num:
            out[a] = out[a].astype(np.float64)
    return out


def _group_result(con, table: str):
    """One table's features per (i, j) as an Arrow table: ``i``, ``j``, then the features
    (numbers as DOUBLE, ``plan`` as text), NULL where missing."""
    sql = _GROUPS[table](con)
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM ({sql})").fetchall()
             if r[0] not in ("customer_id", "snap")]
    select = ", ".join(f"g.{n}" if n == "plan" else f"CAST(g.{n} AS DOUBLE) AS {n}" for n in names)
    result = _arrow(con.sql(f"""
        SELECT x.i, s.j, {select}
        FROM ({sql}) g JOIN cidx x USING (customer_id) JOIN snaps s USING (snap)"""))
    keys = (result["i"].to_numpy().astype(np.int64), result["j"].to_numpy().astype(np.int64))
    return keys, result.drop_columns(["i", "j"])


def _plan_categories(n: int, plan) -> pd.Categorical:
    """The plan of every population row: its largest running subscription's, 'none' without one."""
    codes = np.zeros(n, dtype=np.int64)          # 0: 'none'
    labels = ["none"]
    if plan is not None:
        where, indices, names = plan
        labels += names
        codes[where] = indices + 1
    return _compact(codes, labels)


def _take_categories(values: np.ndarray, i: np.ndarray) -> pd.Categorical:
    """A per-customer text column repeated for the population rows, as a category."""
    codes, uniques = pd.factorize(values)
    return _compact(codes[i], list(uniques))


def _compact(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """Categories = the labels that occur, sorted (what ``astype('category')`` gives); a label
    may repeat (a plan named 'none'), its codes then share one category."""
    used = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
    categories = sorted({labels[k] for k in used})
    rank = {label: n for n, label in enumerate(categories)}
    remap = np.full(len(labels), -1, dtype=np.int64)
    remap[used] = [rank[labels[k]] for k in used]
    return pd.Categorical.from_codes(remap[codes], categories=categories)


def _attribute_columns(con) -> dict[str, bool]:
    """Extra and optional columns of customers that someone filled in, each with whether it is
    numeric (all-empty ones say nothing and are left out)."""
    described = con.execute("DESCRIBE customers").fetchall()
    candidates = {r[0]: r[1] for r in described if r[0] not in CUSTOMER_RECORDS and r[0] != "churn_eff"}
    if not candidates:
        return {}
    counts = con.execute("SELECT " + ", ".join(f'count("{c}")' for c in candidates) + " FROM customers").fetchall()[0]
    numeric = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UBIGINT",
               "UINTEGER", "USMALLINT", "UTINYINT")
    return {c: str(t).upper().startswith(numeric) for (c, t), n in zip(candidates.items(), counts) if n}


def _effective_churn(con, as_of: pd.Timestamp, churn: str, inactivity_days: int | None) -> None:
    """``customers_eff``: customers with ``churn_eff``, the churn date seen by ``as_of``; and
    ``episodes`` (customer_id, start, lapse): the customer's active spells (see
    :func:`activity_episodes`), one per customer under contract churn."""
    if churn not in ("contract", "inactivity"):
        raise ValueError(f"churn must be 'contract' or 'inactivity', got {churn!r}")
    cut = f"TIMESTAMP '{as_of.date()}' + INTERVAL 1 DAY"
    known = f"CASE WHEN CAST(churn_date AS TIMESTAMP) < {cut} THEN CAST(churn_date AS DATE) END"
    tables = _tables(con)
    if churn == "contract" or "usage_events" not in tables:
        con.execute(f"CREATE OR REPLACE TEMP VIEW customers_eff AS SELECT *, {known} AS churn_eff FROM customers")
        con.execute("CREATE OR REPLACE TEMP VIEW episodes AS "
                    "SELECT customer_id, CAST(signup_date AS DATE) AS start, churn_eff AS lapse FROM customers_eff")
        return
    if inactivity_days is None:  # one rule for a whole run: the run writes its choice into its settings
        inactivity_days = inactivity_window(con, as_of).days
    contracted = ("SELECT DISTINCT customer_id FROM subscriptions" if "subscriptions" in tables
                  else "SELECT NULL::VARCHAR AS customer_id WHERE false")
    # a spell starts at signup or at the first use after a gap of more than n days, and lapses
    # n days after its last use; a lapse after as_of is not seen yet (the spell goes on)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE episodes AS
        WITH known AS (SELECT customer_id, CAST(signup_date AS DATE) AS signup, {known} AS ended FROM customers),
        days AS (
            SELECT customer_id, signup AS d FROM known
            UNION SELECT u.customer_id, CAST(u.ts AS DATE) FROM usage_events u WHERE u.ts < {cut}
        ), seq AS (
            SELECT customer_id, d,
                   CASE WHEN lag(d) OVER w IS NULL OR date_diff('day', lag(d) OVER w, d) > {int(inactivity_days)}
                        THEN 1 ELSE 0 END AS fresh
            FROM days WINDOW w AS (PARTITION BY customer_id ORDER BY d)
        ), numbered AS (
            SELECT customer_id, d, sum(fresh) OVER (PARTITION BY customer_id ORDER BY d
                                                     ROWS UNBOUNDED PRECEDING) AS k FROM seq
        ), spells AS (
            SELECT customer_id, min(d) AS start, max(d) + {int(inactivity_days)} AS lapse
            FROM numbered GROUP BY customer_id, k
        )
        SELECT k.customer_id, k.signup AS start, k.ended AS lapse
        FROM known k WHERE k.customer_id IN ({contracted})
        UNION ALL
        SELECT s.customer_id, s.start,
               least(CASE WHEN s.lapse <= DATE '{as_of.date()}' THEN s.lapse END, k.ended) AS lapse
        FROM spells s JOIN known k USING (customer_id)
        WHERE k.customer_id NOT IN ({contracted}) AND (k.ended IS NULL OR s.start < k.ended)""")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW customers_eff AS
        SELECT c.*, e.lapse AS churn_eff FROM customers c
        LEFT JOIN (SELECT customer_id, arg_max(lapse, start) AS lapse FROM episodes GROUP BY customer_id) e
        USING (customer_id)""")


def _arrow(relation):
    """A relation as an Arrow table (DuckDB 2 renamed ``.arrow()`` to ``.to_arrow_table()``)."""
    return (getattr(relation, "to_arrow_table", None) or relation.arrow)()


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables UNION SELECT view_name FROM duckdb_views()").fetchall()}


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def _days(n: int) -> str:
    return f"s.snap_end - INTERVAL {int(n)} DAY"


# -- windows: every look-back below is a catalogue window_days ------------------------------------
# Some figures are not windows and stay literal: the age thresholds of tickets_open_over_7d and
# critical_open_over_14d (opened 8 / 15 days before the end of the snapshot day), the 90-day
# horizon of annual_renewal_90d (a look ahead; its window is None) and the billing periods (365, 30).

def _window(*names: str) -> int:
    """The catalogue window of ``names``, which one look-back of the SQL computes together."""
    days = {window(n) for n in names}
    if len(days) > 1:
        raise ValueError(f"the SQL computes {', '.join(names)} over one look-back, but the catalogue gives "
                         f"them windows of {', '.join(map(str, sorted(days)))} days")
    return days.pop()


def _within(reach: int, **windows: int) -> int:
    """``reach``, the look-back of a table's range join, after checking it holds the ``windows``
    filtered inside it."""
    wider = [f"{name} ({w} days)" for name, w in windows.items() if w > reach]
    if wider:
        raise ValueError(f"the SQL reads {reach} days back, less than the catalogue window of {', '.join(wider)}")
    return reach


# -- one query per table -------------------------------------------------------------------------

def _subscriptions(con) -> str:
    back = _window("mrr_change_90d", "mrr_change_90d_pct")
    return f"""
    WITH act AS (
        SELECT s.customer_id, p.snap, s.mrr, s.seats, s.plan, s.billing_period,
               date_diff('day', CAST(coalesce(s.renewal_date, s.start_date) AS DATE), p.snap) AS age
        FROM snaps p JOIN subscriptions s
          ON CAST(s.start_date AS DATE) <= p.snap
          AND (s.end_date IS NULL OR CAST(s.end_date AS DATE) > p.snap)
    ), before AS (
        SELECT s.customer_id, p.snap, sum(s.mrr) AS mrr_before
        FROM snaps p JOIN subscriptions s
          ON CAST(s.start_date AS DATE) <= p.snap - {back}
          AND (s.end_date IS NULL OR CAST(s.end_date AS DATE) > p.snap - {back})
        GROUP BY 1, 2
    ), now AS (
        SELECT customer_id, snap, sum(mrr) AS mrr, sum(seats) AS seats, count(*) AS active_subscriptions,
               arg_max(plan, mrr) AS plan,
               max(CASE WHEN billing_period = 'annual' THEN 1 ELSE 0 END) AS is_annual,
               min(CASE WHEN billing_period = 'annual' THEN 365 - ((age % 365) + 365) % 365
                        ELSE 30 - ((age % 30) + 30) % 30 END) AS days_to_renewal,
               max(CASE WHEN billing_period = 'annual' AND 365 - ((age % 365) + 365) % 365 <= 90
                        THEN 1 ELSE 0 END) AS annual_renewal_90d
        FROM act GROUP BY 1, 2
    )
    SELECT coalesce(n.customer_id, b.customer_id) AS customer_id, coalesce(n.snap, b.snap) AS snap,
           coalesce(n.mrr, 0) AS mrr, 12 * coalesce(n.mrr, 0) AS arr,
           coalesce(n.mrr, 0) - coalesce(b.mrr_before, 0) AS mrr_change_90d,
           CASE WHEN b.mrr_before > 0 THEN 100.0 * (coalesce(n.mrr, 0) - b.mrr_before) / b.mrr_before END
               AS mrr_change_90d_pct,
           n.seats, n.active_subscriptions, n.is_annual, n.days_to_renewal, n.annual_renewal_90d, n.plan
    FROM now n FULL JOIN before b USING (customer_id, snap)"""


def _support_tickets(con) -> str:
    opened = _window("tickets_90d", "high_critical_tickets_90d")
    closed = _window("resolution_hours_90d", "reopened_tickets_90d")
    csat = window("ticket_csat_180d")
    reach = _within(_window("open_tickets", "open_high_critical_tickets", "tickets_open_over_7d", "critical_open_over_14d"),
                    opened=opened, closed=closed, csat=csat)
    open_ = "(t.closed_at IS NULL OR t.closed_at >= s.snap_end)"
    closed_in = lambda w: f"(t.closed_at < s.snap_end AND t.closed_at >= {_days(w)})"  # noqa: E731
    return f"""
    SELECT t.customer_id, s.snap,
           count(*) FILTER (WHERE {open_}) AS open_tickets,
           count(*) FILTER (WHERE {open_} AND t.severity IN ('high', 'critical')) AS open_high_critical_tickets,
           count(*) FILTER (WHERE {open_} AND t.opened_at < {_days(8)}) AS tickets_open_over_7d,
           count(*) FILTER (WHERE {open_} AND t.severity = 'critical' AND t.opened_at < {_days(15)})
               AS critical_open_over_14d,
           count(*) FILTER (WHERE t.opened_at >= {_days(opened)}) AS tickets_90d,
           count(*) FILTER (WHERE t.opened_at >= {_days(opened)} AND t.severity IN ('high', 'critical'))
               AS high_critical_tickets_90d,
           avg(date_diff('minute', t.opened_at, t.closed_at) / 60.0) FILTER (WHERE {closed_in(closed)})
               AS resolution_hours_90d,
           count(*) FILTER (WHERE {closed_in(closed)} AND t.reopened) AS reopened_tickets_90d,
           avg(t.csat) FILTER (WHERE {closed_in(csat)}) AS ticket_csat_180d
    FROM support_tickets t JOIN snaps s ON t.opened_at < s.snap_end AND t.opened_at >= {_days(reach)}
    GROUP BY 1, 2"""


def _surveys(con) -> str:
    comments = con.execute("SELECT DISTINCT comment FROM surveys WHERE comment IS NOT NULL").df()["comment"]
    scores = comment_sentiment(comments).reset_index()
    con.register("comment_scores", scores)
    last = lambda kind, k: (f"max(r.score) FILTER (WHERE r.kind = '{kind}' AND r.k = {k})")  # noqa: E731
    comments = window("comment_sentiment_180d")
    latest = _within(_window("last_nps", "nps_change", "nps_detractor", "nps_promoter", "days_since_last_nps",
                             "last_csat", "csat_change", "last_ces", "ces_change"), comments=comments)
    return f"""
    WITH r AS (
        SELECT v.customer_id, s.snap, s.snap_end, v.kind, v.score, v.responded_at, cs.sentiment,
               row_number() OVER (PARTITION BY v.customer_id, s.snap, v.kind
                                  ORDER BY v.responded_at DESC, v.score) AS k
        FROM surveys v JOIN snaps s ON v.responded_at < s.snap_end AND v.responded_at >= {_days(latest)}
        LEFT JOIN comment_scores cs ON cs.comment = v.comment
    ),
    last_year AS (
        SELECT r.customer_id, r.snap,
               {last('nps', 1)} AS last_nps,
               {last('nps', 1)} - {last('nps', 2)} AS nps_change,
               CASE WHEN {last('nps', 1)} <= 6 THEN 1 ELSE 0 END AS nps_detractor,
               CASE WHEN {last('nps', 1)} >= 9 THEN 1 ELSE 0 END AS nps_promoter,
               max(date_diff('day', CAST(r.responded_at AS DATE), r.snap)) FILTER (WHERE r.kind = 'nps' AND r.k = 1)
                   AS days_since_last_nps,
               {last('csat', 1)} AS last_csat,
               {last('csat', 1)} - {last('csat', 2)} AS csat_change,
               {last('ces', 1)} AS last_ces,
               {last('ces', 1)} - {last('ces', 2)} AS ces_change,
               avg(r.sentiment) FILTER (WHERE r.responded_at >= r.snap_end - INTERVAL {comments} DAY)
                   AS comment_sentiment_180d
        FROM r GROUP BY 1, 2
    ),
    -- every answer so far, each kind put on 0..1 (CES: lower effort is better); a superset of
    -- the pairs above, which the last year's figures join
    lifetime AS (
        SELECT v.customer_id, s.snap,
               avg(CASE v.kind WHEN 'nps' THEN v.score / 10.0 WHEN 'csat' THEN (v.score - 1) / 4.0
                               WHEN 'ces' THEN (7 - v.score) / 6.0 END) AS satisfaction_mean
        FROM surveys v JOIN snaps s ON v.responded_at < s.snap_end
        GROUP BY 1, 2
    )
    SELECT l.customer_id, l.snap, y.* EXCLUDE (customer_id, snap), l.satisfaction_mean
    FROM lifetime l LEFT JOIN last_year y ON y.customer_id = l.customer_id AND y.snap = l.snap"""


def _invoices(con) -> str:
    overdue = ("i.due_at < s.snap_end AND (i.paid_at IS NULL OR i.paid_at >= s.snap_end) "
               "AND coalesce(i.status, '') <> 'void'")
    recent_days = _window("late_payments_180d", "failed_payments_180d")
    reach = _within(_window("overdue_invoices", "days_overdue_max", "overdue_amount"), recent=recent_days)
    recent = f"i.issued_at >= {_days(recent_days)}"
    # an invoice paid by its due date that did not fail counts towards nothing: leaving it out
    # before the range join (most invoices) changes no value, since every fill here is 0
    return f"""
    SELECT i.customer_id, s.snap,
           count(*) FILTER (WHERE {overdue}) AS overdue_invoices,
           max(date_diff('day', CAST(i.due_at AS DATE), s.snap)) FILTER (WHERE {overdue}) AS days_overdue_max,
           sum(i.amount) FILTER (WHERE {overdue}) AS overdue_amount,
           count(*) FILTER (WHERE {recent} AND i.paid_at < s.snap_end AND i.paid_at > i.due_at) AS late_payments_180d,
           count(*) FILTER (WHERE {recent} AND i.status = 'failed' AND i.due_at < s.snap_end) AS failed_payments_180d
    FROM (SELECT * FROM invoices WHERE paid_at IS NULL OR paid_at > due_at OR status = 'failed') i
    JOIN snaps s ON i.issued_at < s.snap_end AND i.issued_at >= {_days(reach)}
    GROUP BY 1, 2"""


def _touchpoints(con) -> str:
    recent_days = _window(*(f"negative_{d}_touches_90d" for d in DEPARTMENTS), "inbound_complaints_90d",
                          "touch_sentiment_90d")
    reach = _within(_window(*(f"days_since_{d}_touch" for d in DEPARTMENTS)), recent=recent_days)
    recent = f"t.ts >= {_days(recent_days)}"
    since = ",\n".join(
        f"date_diff('day', CAST(max(t.ts) FILTER (WHERE t.department = '{d}') AS DATE), s.snap) AS days_since_{d}_touch"
        for d in DEPARTMENTS)
    negative = ",\n".join(
        f"count(*) FILTER (WHERE {recent} AND t.department = '{d}' AND t.sentiment < -0.2) AS negative_{d}_touches_90d"
        for d in DEPARTMENTS)
    return f"""
    SELECT t.customer_id, s.snap,
           {since},
           {negative},
           count(*) FILTER (WHERE {recent} AND t.direction = 'inbound' AND t.sentiment < -0.2) AS inbound_complaints_90d,
           avg(t.sentiment) FILTER (WHERE {recent}) AS touch_sentiment_90d
    FROM touchpoints t JOIN snaps s ON t.ts < s.snap_end AND t.ts >= {_days(reach)}
    GROUP BY 1, 2"""


def _advocacy(con) -> str:
    voice = "a.kind IN ('review', 'social_mention')"
    negative = f"{voice} AND (a.rating <= 2 OR a.sentiment < -0.2)"
    positive = f"{voice} AND (a.rating >= 4 OR a.sentiment > 0.3)"
    year = _window("reviews_365d", "review_rating_365d", "referrals_365d", "reach_365d", "negative_reach_365d",
                   "vocal_detractor", "vocal_promoter")
    return f"""
    SELECT a.customer_id, s.snap,
           count(*) FILTER (WHERE a.kind = 'review') AS reviews_365d,
           avg(a.rating) FILTER (WHERE a.kind = 'review') AS review_rating_365d,
           count(*) FILTER (WHERE a.kind = 'referral') AS referrals_365d,
           coalesce(sum(a.reach), 0) AS reach_365d,
           coalesce(sum(a.reach) FILTER (WHERE {negative}), 0) AS negative_reach_365d,
           max(CASE WHEN {negative} AND a.reach >= 1000 THEN 1 ELSE 0 END) AS vocal_detractor,
           max(CASE WHEN ({positive} AND a.reach >= 1000) OR a.kind = 'referral' THEN 1 ELSE 0 END) AS vocal_promoter
    FROM advocacy a JOIN snaps s ON a.ts < s.snap_end AND a.ts >= {_days(year)}
    GROUP BY 1, 2"""


def _interventions(con) -> str:
    return """
    SELECT i.customer_id, s.snap,
           count(*) AS interventions_total,
           count(*) FILTER (WHERE i.outcome = 'accepted') AS interventions_accepted,
           count(*) FILTER (WHERE i.outcome IN ('declined', 'no_response')) AS interventions_declined,
           date_diff('day', CAST(max(i.ts) AS DATE), s.snap) AS days_since_last_intervention
    FROM interventions i JOIN snaps s ON i.ts < s.snap_end
    -- a control group's held-out customer was not contacted
    WHERE i.outcome IS DISTINCT FROM 'held_out'
    GROUP BY 1, 2"""


_GROUPS = {
    "subscriptions": _subscriptions,
    "support_tickets": _support_tickets,
    "surveys": _surveys,
    "invoices": _invoices,
    "touchpoints": _touchpoints,
    "advocacy": _advocacy,
    "interventions": _interventions,
}

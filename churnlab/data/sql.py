"""Reading the contract tables from a database given as a SQLAlchemy URL.

Supported URLs (``--data`` or ``load_data``)::

    postgresql://user@host:5432/dbname          # password from PGPASSWORD or ~/.pgpass
    postgresql://user:secret@host/dbname        # works, but the password is never printed
    duckdb:///path/to/file.duckdb
    sqlite:///path/to/file.db

What is pushed down to the database: each table is read with one
``SELECT <columns> FROM <table> WHERE <row time> IS NULL OR <row time> < <bound>`` built with
SQLAlchemy Core. ``<columns>`` are the contract columns the table has (every column of
``customers``, whose extra columns become features); ``<row time>`` is the table's dating column
(``churnlab.data.loading.ROW_TIME``, handed in by ``churnlab.data.loading``) and ``<bound>`` the start of the second
day after the as-of date. The extra day is slack for time zones and for timestamps kept as text
in SQLite: the exact cut at the end of the as-of day is then made in Python by the same code as
for Parquet, so both give the same frames. A dating column of a text type is not filtered (its dates may not be ISO strings, and an
unparseable one must be reported, not skipped; on SQLite, which stores any value in a date
column, the filter keeps whatever does not look like an ISO date). PostgreSQL sends each result through its native
fast path, ``COPY (<select>) TO STDOUT`` as CSV, which Arrow parses in chunks of about 64 MB;
SQLite results are streamed in chunks of ``chunk_rows`` rows; DuckDB hands its result to pandas
natively.

Rows come in the database's own order (on PostgreSQL with synchronised and parallel scans turned
off for the session, so the physical order of an unchanged table); ``row`` in the quarantine
counts in that order.

The password of a URL never leaves this module in a message: :func:`redact` renders a URL with
``***`` in its place, and every error here is raised with the redacted form.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from churnlab.data.contract import CONTRACT, TABLES, DataContractError, Violation

__all__ = ["DataSourceError", "is_database_url", "redact", "redact_text", "read_database", "resolve_source",
           "without_password", "SUPPORTED_DIALECTS", "SECRET_PARAMETERS"]

#: URL schemes (the part before ``+driver``) that can be read.
SUPPORTED_DIALECTS: tuple[str, ...] = ("postgresql", "duckdb", "sqlite")

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


class DataSourceError(RuntimeError):
    """The database cannot be reached or read; the message says where and what to check."""


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # "date", "timestamp", "int", "float", "bool" or "other"
    timezone: bool = False  # a timestamp with time zone


def is_database_url(source) -> bool:
    """True when ``source`` is a string of the form ``scheme://...`` (a database URL)."""
    return isinstance(source, str) and bool(_SCHEME.match(source))


#: libpq connection parameters whose values are secrets: never shown, never handed to a notebook.
SECRET_PARAMETERS: frozenset[str] = frozenset({"password", "sslpassword", "oauth_client_secret"})

#: Every connection parameter libpq knows (PostgreSQL 18): a query parameter after a secret one
#: that is not among these is taken as part of the secret (an unencoded ``&`` in a password).
_LIBPQ_KEYWORDS = frozenset("""
    host hostaddr port dbname user password passfile require_auth channel_binding connect_timeout
    client_encoding options application_name fallback_application_name keepalives keepalives_idle
    keepalives_interval keepalives_count tcp_user_timeout replication gssencmode sslmode
    sslnegotiation sslcompression sslcert sslkey sslkeylogfile sslpassword sslcertmode sslrootcert
    sslcrl sslcrldir sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version
    min_protocol_version max_protocol_version krbsrvname gsslib gssdelegation service
    target_session_attrs load_balance_hosts oauth_issuer oauth_client_id oauth_client_secret
    oauth_scope""".split())

#: What follows the ``@`` that ends a URL's user part: a host list (maybe empty), then ``/``, ``?`` or the end.
_HOST = re.compile(r"[A-Za-z0-9.\-_%,:\[\]]*(?=[/?#]|$)")
_SHOWN = "***"


@dataclass(frozen=True)
class _Split:
    """A database URL cut into its parts as written (nothing decoded)."""

    scheme: str  # "postgresql://"
    user: str | None  # the user part before ":" (None: no user part)
    password: str | None  # as written, possibly with unencoded "@", ":", "/", "?" (None: none given)
    where: str  # host(s), port and database: what follows the user part, up to "?"
    query: tuple[tuple[str, str | None], ...]  # (key, value as written; None without "=")

    def secrets(self) -> dict[str, str]:
        """Secret query parameters (lower-case name -> decoded value) and ``password``; the query's
        wins over the user part's, as in libpq."""
        from urllib.parse import unquote

        found = {}
        if self.password is not None:
            found["password"] = unquote(self.password)
        for key, value in self.query:
            name = unquote(key).strip().lower()
            if name in SECRET_PARAMETERS and value is not None:
                found[name] = unquote(value)
        return found

    def render(self, secrets: str = "hide") -> str:
        """The URL again: ``secrets`` "hide" shows each secret as ``***``, "drop" leaves them out."""
        text = self.scheme
        if self.user is not None and self.password is not None and secrets == "hide":
            text += f"{self.user}:{_SHOWN}@"
        elif self.user is not None and (self.user or secrets == "hide"):
            text += f"{self.user}@"
        text += self.where
        query = []
        for key, value in self.query:
            if _is_secret(key):
                if secrets == "drop":
                    continue
                value = _SHOWN
            query.append(key if value is None else f"{key}={value}")
        return text + ("?" + "&".join(query) if query else "")


def _is_secret(key: str) -> bool:
    from urllib.parse import unquote

    return unquote(key).strip().lower() in SECRET_PARAMETERS


def _split(url: str) -> _Split | None:
    """``url`` cut into parts, or None when it is no ``scheme://`` URL.

    Generous where libpq is strict, so that no part of a secret shows: the user part ends at the
    last ``@`` followed by something that looks like a host, so a password may hold unencoded
    ``@``, ``:``, ``/`` or ``?``; a secret query value runs on over ``&`` up to the next parameter
    libpq knows. A file URL (``sqlite:///...``, ``duckdb:///...``) has no user part.
    """
    scheme = _SCHEME.match(url)
    if scheme is None:
        return None
    body = url[scheme.end():]
    user = password = None
    if not body.startswith("/"):
        for at in reversed([i for i, c in enumerate(body) if c == "@"]):
            if _HOST.match(body, at + 1):
                user, colon, rest = body[:at].partition(":")
                password = rest if colon else None
                body = body[at + 1:]
                break
    where, mark, raw_query = body.partition("?")
    query: list[tuple[str, str | None]] = []
    if mark:
        for piece in raw_query.split("&"):
            key, eq, value = piece.partition("=")
            name = key.strip().lower()
            if query and _is_secret(query[-1][0]) and not (eq and name in _LIBPQ_KEYWORDS):
                last_key, last_value = query[-1]  # an unencoded "&" inside the secret
                query[-1] = (last_key, f"{last_value or ''}&{piece}")
                continue
            query.append((key, value if eq else None))
    return _Split(scheme.group(0), user, password, where, tuple(query))


def redact(url: str | URL) -> str:
    """The URL as text with every secret replaced by ``***`` (unchanged when it has none).

    The one way a database URL is shown (messages, logs, the manifest, the notebooks): the
    password of the user part (``user:secret@``, even with unencoded ``@``, ``:`` or ``/`` in it)
    and the secret query parameters of :data:`SECRET_PARAMETERS` (``?password=...``,
    ``?sslpassword=...``) are hidden.
    """
    text = url.render_as_string(hide_password=True) if isinstance(url, URL) else str(url)
    parts = _split(text)
    return text if parts is None or not parts.secrets() else parts.render("hide")


def redact_text(text: str, url: str | URL | None) -> str:
    """``text`` (an error message, a log line) with every secret of ``url`` replaced by ``***``,
    as written in the URL and decoded: what a driver or a library may have echoed."""
    from urllib.parse import quote

    if url is None:
        return text
    raw = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    parts = _split(raw)
    if parts is None:
        return text
    values = set(parts.secrets().values())
    if parts.password:
        values.add(parts.password)
    values |= {value for key, value in parts.query if value and _is_secret(key)}
    values |= {quote(v, safe="") for v in list(values)}
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, _SHOWN)
    return text


def without_password(url: str) -> tuple[str, str | None]:
    """``(url without any secret, the password or None)``.

    A run hands the first to its notebooks and the password (of the user part or of a
    ``password=`` query parameter) to their kernel as ``PGPASSWORD``, so no secret is ever
    written into an executed notebook. Other secret parameters (``sslpassword``) are left out:
    the notebooks read the copy the run validated and need no connection of their own.
    """
    parts = _split(url)
    if parts is None or not parts.secrets():
        return url, None
    return parts.render("drop"), parts.secrets().get("password")


def resolve_source(data: str | None, url: str | None, url_env: str | None,
                   environ: dict[str, str]) -> str:
    """The data source of a run: ``--data`` when given, else the settings' database URL.

    ``url_env`` names an environment variable holding the URL (looked up in ``environ``, which
    the caller passes, e.g. ``os.environ``); it wins over ``url``.
    Raises ``DataSourceError`` when neither gives a source.
    """
    if data:
        return data
    if url_env:
        value = environ.get(url_env)
        if not value:
            raise DataSourceError(
                f"no data source: --data is not given and the environment variable {url_env} "
                f"(settings: sql.url_env) is not set; set it to a database URL such as "
                f"postgresql://user@host:5432/dbname, or pass --data")
        return value
    if url:
        return url
    raise DataSourceError("no data source: pass --data (a folder, a DuckDB file or a database URL) "
                          "or set sql.url or sql.url_env in the settings")


def _parse(url: str) -> URL:
    parts = _split(url)
    secrets = parts.secrets() if parts is not None else {}
    try:
        # parsed without its secrets (an unencoded "@" in a password would mislead make_url, and
        # its error would quote the URL); they are put back as values below
        parsed = make_url(parts.render("drop") if secrets else url)
    except Exception as err:  # noqa: BLE001 - SQLAlchemy raises several types for bad URLs
        raise DataSourceError(f"{redact(url)} is not a database URL SQLAlchemy can read ({err}); "
                              f"write it as postgresql://user@host:5432/dbname, "
                              f"duckdb:///path/file.duckdb or sqlite:///path/file.db") from None
    if "password" in secrets:
        parsed = parsed.set(password=secrets.pop("password"))
    if secrets:
        parsed = parsed.update_query_dict(secrets)
    backend = parsed.get_backend_name()
    if backend == "postgres":  # the old spelling many hosts still print
        parsed = parsed.set(drivername="postgresql")
        backend = "postgresql"
    if backend not in SUPPORTED_DIALECTS:
        raise DataSourceError(f"{redact(parsed)}: databases of type {backend!r} are not supported; "
                              f"churnlab reads {', '.join(SUPPORTED_DIALECTS)} URLs")
    if backend == "postgresql":
        # psycopg 3 whatever driver the URL names: it is a declared dependency, and the COPY
        # fast path uses its API
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend in ("duckdb", "sqlite"):
        if not parsed.database or parsed.database == ":memory:":
            raise DataSourceError(f"{redact(parsed)}: give the database file, e.g. "
                                  f"{backend}:///path/to/file.{'duckdb' if backend == 'duckdb' else 'db'}")
        if not Path(parsed.database).is_file():
            raise FileNotFoundError(f"database file {parsed.database!r} of {redact(parsed)} does not exist")
    return parsed


def _bound(as_of) -> datetime | None:
    """Start of the second day after ``as_of``: the filter's slack of one day (see the module)."""
    if as_of is None:
        return None
    day = pd.Timestamp(as_of)
    if day.tzinfo is not None:
        day = day.tz_convert("UTC").tz_localize(None)
    return (day.normalize() + timedelta(days=2)).to_pydatetime()


def _kind(type_: sa.types.TypeEngine) -> str:
    if isinstance(type_, sa.DateTime):
        return "timestamp"
    if isinstance(type_, sa.Date):
        return "date"
    if isinstance(type_, sa.Boolean):
        return "bool"
    if isinstance(type_, sa.Integer):
        return "int"
    if isinstance(type_, (sa.Float, sa.Numeric)):
        return "float"
    return "other"


_DUCKDB_KINDS = (("TIMESTAMP", "timestamp"), ("DATE", "date"), ("BOOLEAN", "bool"),
                 ("DECIMAL", "float"), ("DOUBLE", "float"), ("FLOAT", "float"), ("REAL", "float"),
                 ("BIGINT", "int"), ("INTEGER", "int"), ("SMALLINT", "int"), ("TINYINT", "int"),
                 ("HUGEINT", "int"), ("UBIGINT", "int"), ("UINTEGER", "int"))


def _duckdb_kind(type_name: str) -> str:
    upper = type_name.upper()
    return next((kind for prefix, kind in _DUCKDB_KINDS if upper.startswith(prefix)), "other")


def _wanted(table: str, columns: list[_Column]) -> list[_Column]:
    """The columns to read: the contract's, plus every column of customers (extras are features)."""
    if table == "customers":
        return columns
    known = {c.name for c in CONTRACT[table].columns}
    return [c for c in columns if c.name in known]


#: What an ISO date stored in SQLite looks like; anything else is kept for the contract to judge.
_SQLITE_ISO = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*"


def _statement(table: str, columns: list[_Column], bound: datetime | None,
               row_time: dict[str, str], sqlite: bool = False) -> sa.Select:
    """``SELECT <columns> FROM <table> [WHERE <row time> IS NULL OR <row time> < <bound>]``.

    SQLite stores any value in a date column and compares text: there the filter also keeps
    every value that does not look like an ISO date, so dirt is reported rather than skipped.
    """
    # selected columns carry no type: values arrive as the driver gives them (SQLAlchemy's
    # SQLite date processor would raise on a stored non-date) and _normalise types them
    types = {"timestamp": sa.DateTime(), "date": sa.Date()}
    stmt = sa.select(*[sa.column(c.name) for c in columns]).select_from(sa.table(table))
    time = next((c for c in columns if c.name == row_time.get(table)), None)
    if bound is not None and time is not None and time.kind in ("timestamp", "date"):
        value = bound if time.kind == "timestamp" else bound.date()
        column = sa.column(time.name, types[time.kind])
        keep = [column.is_(None), column < value]
        if sqlite:
            keep.append(sa.not_(sa.column(time.name).op("GLOB")(sa.literal(_SQLITE_ISO, sa.String()))))
        stmt = stmt.where(sa.or_(*keep))
    return stmt


def _normalise(frame: pd.DataFrame, columns: list[_Column]) -> pd.DataFrame:
    """The dtypes the Parquet path gives for the same data, whatever the driver returned.

    Dates become ``datetime.date`` objects (as Parquet ``date32``), timestamps ``datetime64``,
    numbers ``float64``, whole numbers ``int64`` (``Int64`` with nulls), flags ``bool``
    (``boolean`` with nulls); text stays text with ``None`` for null.
    """
    out = {}
    for col in columns:
        s = frame[col.name] if col.name in frame else pd.Series(index=frame.index, dtype=object)
        if col.kind in ("timestamp", "date"):
            try:
                stamps = (s if pd.api.types.is_datetime64_any_dtype(s.dtype)
                          else pd.to_datetime(s, cache=False, format="ISO8601"))
            except (ValueError, TypeError):
                # a date column of SQLite (which stores any value) with text that is no date:
                # it stays text, so the contract reports the value as unparseable_date
                out[col.name] = s.astype(object).where(s.notna(), None)
                continue
            s = stamps if col.kind == "timestamp" else pd.Series(
                stamps.dt.date, index=s.index, dtype=object).where(stamps.notna(), None)
        elif col.kind == "float":
            s = pd.to_numeric(s).astype("float64")
        elif col.kind == "int":
            s = pd.to_numeric(s)
            s = s.astype("int64") if not s.isna().any() else s.astype("Int64")
        elif col.kind == "bool":
            s = s.astype(bool) if not s.isna().any() else s.astype("boolean")
        else:
            s = s.astype(object).where(s.notna(), None)
        out[col.name] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _missing_customers(where: str, found: list[str]) -> DataContractError:
    text = (f"customers: the required customers table is missing from {where} (missing_table); "
            f"found: {', '.join(found) or 'no tables'}")
    return DataContractError([Violation("customers", None, "missing_table", 0, [], text)])


def read_database(url: str, as_of=None, row_time: dict[str, str] | None = None,
                  chunk_rows: int = 100_000) -> dict[str, pd.DataFrame]:
    """Read the contract tables of the database at ``url``, up to ``as_of`` (see the module).

    ``row_time``: table -> the column that dates its rows (``churnlab.data.loading.ROW_TIME``); tables
    not in it, or every table when ``as_of`` is None, are read whole.

    Returns contract table name -> frame, typed as the Parquet path types the same data, in the
    database's row order. Tables with other names are ignored.

    Raises ``DataSourceError`` when the database cannot be reached or read (the message names
    host and port and what to check, with the password redacted), ``FileNotFoundError`` for a
    DuckDB or SQLite file that does not exist, and ``DataContractError`` when there is no
    customers table.
    """
    parsed = _parse(url)
    bound = _bound(as_of)
    row_time = row_time or {}
    if parsed.get_backend_name() == "duckdb":
        return _read_duckdb(parsed, bound, row_time)
    return _read_sqlalchemy(parsed, bound, row_time, chunk_rows)


def _read_duckdb(url: URL, bound: datetime | None, row_time: dict[str, str]) -> dict[str, pd.DataFrame]:
    import duckdb
    from sqlalchemy.dialects import postgresql

    # DuckDB speaks PostgreSQL's SQL; the statement is compiled with its values inline
    dialect = postgresql.dialect()
    try:
        con = duckdb.connect(url.database, read_only=True)
    except duckdb.Error as err:
        raise DataSourceError(f"cannot open the DuckDB database {redact(url)}: {err}") from None
    with con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position").fetchall()
        columns: dict[str, list[_Column]] = {}
        for table, column, type_name in rows:
            columns.setdefault(table, []).append(_Column(column, _duckdb_kind(type_name)))
        if "customers" not in columns:
            raise _missing_customers(redact(url), sorted(columns))
        tables = {}
        for name in TABLES:
            if name not in columns:
                continue
            wanted = _wanted(name, columns[name])
            sql = str(_statement(name, wanted, bound, row_time).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}))
            tables[name] = _normalise(con.sql(sql).df(), wanted)
    return tables


def _engine(url: URL) -> sa.Engine:
    connect_args = {}
    if url.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": 10, "application_name": "churnlab"}
    return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)


def _read_sqlalchemy(url: URL, bound: datetime | None, row_time: dict[str, str],
                     chunk_rows: int) -> dict[str, pd.DataFrame]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            if url.get_backend_name() == "postgresql":
                # physical row order on every read: no scan joins another one half-way, no
                # parallel workers interleave their rows
                conn.exec_driver_sql("SET synchronize_seqscans = off")
                conn.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
            inspector = sa.inspect(conn)
            names = sorted(inspector.get_table_names())
            if "customers" not in names:
                raise _missing_customers(redact(url), names)
            tables = {}
            for name in TABLES:
                if name not in names:
                    continue
                found = [_Column(c["name"], _kind(c["type"]), bool(getattr(c["type"], "timezone", False)))
                         for c in inspector.get_columns(name)]
                wanted = _wanted(name, found)
                stmt = _statement(name, wanted, bound, row_time,
                                  sqlite=url.get_backend_name() == "sqlite")
                if url.get_backend_name() == "postgresql":
                    frame = _copy_postgresql(conn, stmt, wanted)
                else:
                    streaming = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
                    chunks = list(pd.read_sql(stmt, streaming, chunksize=chunk_rows))
                    frame = (pd.concat(chunks, ignore_index=True) if chunks
                             else pd.DataFrame(columns=[c.name for c in wanted]))
                tables[name] = _normalise(frame, wanted)
    except sa.exc.OperationalError as err:
        raise DataSourceError(_connection_message(url, err)) from None
    except sa.exc.DBAPIError as err:
        raise DataSourceError(f"reading {redact(url)} failed: {_first_line(err)}") from None
    except engine.dialect.loaded_dbapi.Error as err:  # raised by psycopg's cursor itself
        text = " ".join(str(err).split()) or type(err).__name__
        raise DataSourceError(f"reading {redact(url)} failed: {text}") from None
    finally:
        engine.dispose()
    return tables


def _arrow_type(col: _Column):
    import pyarrow as pa

    return {"timestamp": pa.timestamp("us", tz="UTC" if col.timezone else None), "date": pa.date32(),
            "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}.get(col.kind, pa.string())


def _copy_postgresql(conn: sa.Connection, stmt: sa.Select, columns: list[_Column],
                     chunk_bytes: int = 64 << 20) -> pd.DataFrame:
    """PostgreSQL's native fast path: ``COPY (<statement>) TO STDOUT`` as CSV, parsed by Arrow.

    COPY sends one message per row, so the text is cut into chunks of about ``chunk_bytes`` at
    row boundaries and each chunk is parsed on its own: the whole text is never held at once.
    SQL NULL is an unquoted empty field and an empty string a quoted one; Arrow keeps them apart.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    types = {c.name: _arrow_type(c) for c in columns}
    options = dict(
        read_options=pcsv.ReadOptions(column_names=list(types)),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True,
            quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"]))
    parts, pending, size = [], [], 0
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor:
        # ISO dates and UTC offsets whatever the server's defaults, so Arrow parses them
        cursor.execute("SET DateStyle = ISO; SET TimeZone = 'UTC'")
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for message in copy:
                pending.append(message)
                size += len(message)
                if size >= chunk_bytes:
                    parts.append(pcsv.read_csv(io.BytesIO(b"".join(pending)), **options))
                    pending, size = [], 0
    if pending:
        parts.append(pcsv.read_csv(io.BytesIO(b"".join(pending)), **options))
    if not parts:
        return pa.table({name: pa.array([], type=t) for name, t in types.items()}).to_pandas()
    return pa.concat_tables(parts).to_pandas()


def _first_line(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig) if err.orig is not None else str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


def _connection_message(url: URL, err: sa.exc.OperationalError) -> str:
    """One paragraph: which server, what it said, how to check."""
    cause = str(err.orig) if err.orig is not None else str(err)
    where = redact(url)
    if url.get_backend_name() != "postgresql":
        return f"cannot read the database {where}: {_first_line(err)}"
    host, port = url.host or "localhost", url.port or 5432
    if "refused" in cause.lower():
        return (f"cannot connect to the PostgreSQL database {where}: the server at {host}:{port} "
                f"refused the connection, so nothing is listening there. Check that PostgreSQL is "
                f"running on that host and port (pg_isready -h {host} -p {port}) and that the URL's "
                f"host and port are right.")
    if "password" in cause.lower() or "authentication" in cause.lower():
        return (f"cannot connect to the PostgreSQL database {where}: the server at {host}:{port} "
                f"refused the login ({_first_line(err)}). Check the user name and the password "
                f"(PGPASSWORD, ~/.pgpass or the URL set in sql.url / sql.url_env).")
    return (f"cannot connect to the PostgreSQL database {where} at {host}:{port}: "
            f"{' '.join(cause.split())}. Check the URL and that the server accepts connections "
            f"(pg_isready -h {host} -p {port}).")

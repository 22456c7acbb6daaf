"""A throwaway PostgreSQL server for the tests: loopback only, a free port, a temporary data
directory, password login, stopped by ``stop()`` (the fixture's finalizer and ``atexit``).

Debian's ``postgresql`` package provides the binaries (``make test`` installs it when missing);
``initdb`` refuses to run as root, so as root the server runs as the package's ``postgres``
user (or ``nobody``) through ``runuser``.
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: Set to 1 to skip the PostgreSQL tests on a machine without PostgreSQL (never in CI).
OPT_OUT = "CHURNLAB_SKIP_POSTGRES"
USER = "churnlab"
PASSWORD = "pg-Secret-4711"  # the tests check that it appears in no output
DATABASE = "churnlab"


class PostgresUnavailable(RuntimeError):
    """The server could not be started; the message says why and how to fix it."""


def find_bin() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (on PATH, else the newest under /usr/lib/postgresql)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin): "
            "run `make test`, which installs Debian's postgresql package, or "
            "`apt-get install postgresql`; to skip these tests on a developer machine set "
            f"{OPT_OUT}=1")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> tuple[list[str], str | None]:
    """Command prefix and user name for running the server unprivileged."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], name
    raise PostgresUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists "
                              "to run PostgreSQL as (initdb refuses root)")


class PostgresServer:
    """One server; ``url`` holds the password, ``port`` the loopback port it listens on."""

    def __init__(self) -> None:
        self.bin = find_bin()
        self.prefix, self.user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="churnlab-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"
        self._running = False

    def _call(self, *args: str) -> None:
        proc = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=120,
                              cwd=self.root)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed ({proc.returncode}): "
                                      f"{proc.stderr.strip() or proc.stdout.strip()}\n{log}")

    def start(self) -> "PostgresServer":
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._call(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                   "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        # durability is worthless for a throwaway server: no fsync keeps loading fast
        options = (f"-p {self.port} -h 127.0.0.1 -k {self.root} -F "
                   f"-c synchronous_commit=off -c full_page_writes=off")
        self._call(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                   "-w", "-t", "60", "start")
        self._running = True
        atexit.register(self.stop)
        self._create_database()
        return self

    def _create_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD,
                                     dbname="postgres", autocommit=True, connect_timeout=5) as con:
                    con.execute(f"CREATE DATABASE {DATABASE}")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and remove its directory."""
        if self._running:
            self._running = False
            subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                            "immediate", "-w", "stop"], capture_output=True, timeout=60, cwd="/")
        shutil.rmtree(self.root, ignore_errors=True)


def load_tables(url: str, folder: Path) -> dict[str, int]:
    """Copy every ``<table>.parquet`` of ``folder`` into the database at ``url``; rows per table.

    Each table is created (column types as pandas' ``to_sql`` chooses them) and filled with
    ``COPY`` in one transaction, so PostgreSQL appends pages in order without reusing free space
    and a plain scan returns the rows in the file's order, which the quarantine's row numbers
    depend on.
    """
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                              poolclass=sa.pool.NullPool)
    counts = {}
    try:
        for path in sorted(Path(folder).glob("*.parquet")):
            frame = pd.read_parquet(path)
            name = path.stem
            with engine.begin() as conn:
                frame.head(0).to_sql(name, conn, index=False)
                columns = ", ".join(f'"{c}"' for c in frame.columns)
                values = frame.astype(object).where(frame.notna(), None)
                cursor = conn.connection.driver_connection.cursor()
                with cursor.copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
                    for row in values.itertuples(index=False, name=None):
                        copy.write_row([v.item() if hasattr(v, "item") else v for v in row])
            counts[name] = len(frame)
    finally:
        engine.dispose()
    return counts

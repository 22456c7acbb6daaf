"""What keeps runs of one reports folder apart and cleans up after a killed run.

* :func:`reports_lock` — one run per reports folder at a time: an exclusive ``fcntl.flock`` on
  ``REPORTS/.churnlab.lock``, which holds the holder's pid, as-of date and start time. A second
  run waits up to ``run.lock_wait_seconds`` (default 0) and then raises :class:`ReportsBusy`
  naming the holder. The kernel releases a flock when its process ends, however it ends (also
  by SIGKILL), so the lock of a dead run never blocks the next one; the file itself is removed
  by the run that holds it.
* :func:`stop_children` — ends every process a run started (the notebooks' kernels and their
  joblib workers, which are no children of the kernel manager's session): the tree frozen, then
  SIGTERM, then SIGKILL for those still alive after a grace period, then whatever is left in the
  kernels' sessions (a worker started while the kernel went down, adopted by init).
* :func:`interrupted` — SIGTERM and SIGINT raise :class:`Interrupted` in the run (after stopping
  its children at once), so the run can keep its partial work and exit non-zero.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import psutil

__all__ = ["LOCK_NAME", "ReportsBusy", "Interrupted", "reports_lock", "stop_children", "interrupted",
           "signals_blocked"]

#: The lock file in the reports folder while a run holds it.
LOCK_NAME = ".churnlab.lock"


class ReportsBusy(RuntimeError):
    """Another run holds the reports folder; the message names it (pid, as-of date, start)."""


class Interrupted(KeyboardInterrupt):
    """The run received SIGTERM or SIGINT. A ``KeyboardInterrupt`` so that no ``except
    Exception`` on the way (papermill's, asyncio's) swallows it."""

    def __init__(self, signum: int, stopped: list[int]) -> None:
        super().__init__(signum)
        self.signum = signum
        self.stopped = stopped  # the pids of the child processes stopped
        self.name = signal.Signals(signum).name


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']}, as-of {info['as_of']}, started {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a run that has not written its details yet"


@contextmanager
def reports_lock(reports: Path, as_of: str, wait_seconds: float = 0) -> Iterator[Path]:
    """Hold the reports folder's lock for the block (see the module); raises :class:`ReportsBusy`."""
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / LOCK_NAME
    deadline = time.monotonic() + wait_seconds
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
                raise ReportsBusy(
                    f"another churnlab run is writing to {reports} ({_holder(path)}){waited}; this run "
                    f"stops without touching it. Let that run finish, or set run.lock_wait_seconds "
                    f"in the settings to wait for it") from None
            time.sleep(0.5)
            continue
        # the holder before us may have removed the file after we opened it: lock the file
        # that is there now, or try again
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        info = {"pid": os.getpid(), "as_of": as_of, "started": datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(info) + "\n").encode())
        yield path
    finally:
        try:
            path.unlink()  # still holding the lock: no other run has it
        except OSError:
            pass
        os.close(fd)


def _descendants() -> list[psutil.Process]:
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _signal_all(procs, method: str) -> None:
    for proc in procs:
        try:
            getattr(proc, method)()
        except psutil.Error:
            pass


def stop_children(grace: float = 3.0) -> list[int]:
    """End every process this one started, however deep; returns their pids.

    * The tree is frozen first: each descendant is suspended (SIGSTOP) as it is found and the
      tree listed again until nothing new appears, so a worker pool cannot start a process
      while we look.
    * Every one is then asked to stop (SIGTERM, delivered as it is resumed) and killed after
      ``grace`` seconds when still alive.
    * A process started in between (by a kernel shutting down) would be adopted by init when its
      parent ends, out of the tree's sight and holding the run's pipes open. A kernel runs in a
      session of its own, and its workers in the same one: whatever is left of those sessions is
      killed too.
    """
    found: dict[int, psutil.Process] = {}
    for _ in range(50):
        more = {p.pid: p for p in _descendants() if p.pid not in found}
        if not more:
            break
        _signal_all(more.values(), "suspend")
        found.update(more)
    own = _session(0)
    sessions = {s for s in (_session(pid) for pid in found) if s is not None and s != own}
    for proc in found.values():
        _signal_all([proc], "terminate")
        _signal_all([proc], "resume")
    _, alive = psutil.wait_procs(list(found.values()), timeout=grace)
    _signal_all(alive, "kill")
    psutil.wait_procs(alive, timeout=grace)
    if sessions:
        me = os.getpid()
        strays = [p for p in psutil.process_iter() if p.pid != me and _session(p.pid) in sessions]
        _signal_all(strays, "kill")
        psutil.wait_procs(strays, timeout=grace)
        found.update({p.pid: p for p in strays})
    return sorted(found)


@contextmanager
def interrupted() -> Iterator[None]:
    """SIGTERM and SIGINT stop this process's children and raise :class:`Interrupted` (main
    thread only; elsewhere the block runs with the handlers it has). The previous handlers are
    put back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, frame):  # noqa: ARG001 - the signal module's signature
        # no second signal while the children are stopped; the run's cleanup puts handlers back
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum, stop_children())

    before = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)


@contextmanager
def signals_blocked() -> Iterator[None]:
    """SIGTERM and SIGINT wait until the block is done (a publish is not cut in half)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = {signal.SIGTERM, signal.SIGINT}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)

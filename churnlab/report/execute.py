"""Executing one notebook of a run with papermill, in a kernel of its own.

* The kernel's own log is kept off the console: ``[IPKernelApp] WARNING | Kernel is running
  over TCP without encryption…`` at every start, and ``[IPKernelApp] ERROR | KeyboardInterrupt
  caught in kernel`` when jupyter_client interrupts it on its way to a graceful shutdown. The
  kernel process writes that log straight to the stderr it inherits from the run, outside
  papermill's and nbclient's reach, so the kernel is started with
  ``--IPKernelApp.log_level=CRITICAL`` (:data:`KERNEL_ARGUMENTS`, handed to jupyter_client's
  ``start_kernel`` by nbclient's ``extra_arguments``). What a cell prints still goes into the
  executed notebook; a kernel that does not start or dies still fails the run.
* While a notebook works, a heartbeat logs which cell it is in every :data:`HEARTBEAT_SECONDS`
  (``notebook 03_models.ipynb: cell 7 of 18, 42 s (bundle, backtest = ...)``) to the
  ``churnlab`` logger; cells are numbered as papermill numbers them in a failure (from 0, the
  parameters cell papermill injects included), so a heartbeat and a failure name the same cell.
  Every cell's start is logged at DEBUG.
* A kernel that dies in the middle of a cell raises :class:`KernelDied` naming that cell.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["HEARTBEAT_SECONDS", "KERNEL_ARGUMENTS", "KernelDied", "execute_notebook", "heartbeat"]

log = logging.getLogger(__name__)

#: How often a long step says it still works, in seconds: under 10 with room for the log itself.
HEARTBEAT_SECONDS = 9.0

#: Command-line arguments for every notebook's kernel: its own log stays quiet (see the module).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


class KernelDied(RuntimeError):
    """A notebook's kernel process ended in the middle of a cell (killed, or crashed)."""


class _Where:
    """Which cell of which notebook runs now, written by nbclient's hooks (in the executing
    thread) and read by the heartbeat thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.cells = 0
        self.index: int | None = None
        self.first_line = ""

    def notebook_started(self, notebook, **_) -> None:
        self.cells = len(notebook.cells)

    def cell_started(self, cell, cell_index: int, **_) -> None:
        self.index = cell_index
        lines = cell.source.strip().splitlines()
        self.first_line = lines[0][:60] if lines else ""
        log.debug("notebook %s: cell %d of %d started (%s)", self.name, cell_index, self.cells, self.first_line)

    def say(self) -> None:
        seconds = time.monotonic() - self.started
        if self.index is None:
            log.info("notebook %s: starting its kernel, %.0f s", self.name, seconds)
        else:
            log.info("notebook %s: cell %d of %d, %.0f s (%s)", self.name, self.index, self.cells, seconds,
                     self.first_line)


@contextmanager
def heartbeat(say: Callable[[], None], every: float = HEARTBEAT_SECONDS, name: str = "heartbeat") -> Iterator[None]:
    """Call ``say`` every ``every`` seconds, from a thread of its own, while the block runs: a
    long step of a run (validating a million customers, a notebook, rendering) shows it is alive."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            say()

    thread = threading.Thread(target=beat, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def execute_notebook(notebook: Path, output: Path, parameters: dict, *, every: float = HEARTBEAT_SECONDS) -> None:
    """Execute ``notebook`` into ``output`` with the ``parameters`` its parameters cell declares
    (papermill warns about others); log where it is every ``every`` seconds."""
    import papermill as pm
    from nbclient.exceptions import DeadKernelError  # papermill's executor

    notebook, output = Path(notebook), Path(output)
    if not notebook.exists():
        raise FileNotFoundError(f"notebook {notebook} not found")
    declared = pm.inspect_notebook(str(notebook))
    where = _Where(notebook.name)
    try:
        with heartbeat(where.say, every, name=f"heartbeat {notebook.name}"):
            pm.execute_notebook(
                str(notebook), str(output),
                parameters={k: v for k, v in parameters.items() if k in declared},
                kernel_name="python3", cwd=str(notebook.parent), progress_bar=False, log_output=False,
                # nbclient's own settings, passed on by papermill
                extra_arguments=list(KERNEL_ARGUMENTS),
                on_notebook_start=where.notebook_started, on_cell_start=where.cell_started,
            )
    except DeadKernelError as err:
        raise KernelDied(f"the notebook's kernel died{_running_cell(output)}: something killed its process, "
                         "most often the system's out-of-memory killer (`dmesg` or `journalctl -k` says so); "
                         "give the run more memory, or fewer model fits side by side (`models: {n_jobs: 1}` "
                         "in the settings)") from err


def _running_cell(notebook: Path) -> str:
    """`` in cell N (its first line)``: the last cell of papermill's output ``notebook`` that was
    started (papermill marks it completed once the kernel is gone; the cells after it never
    start). N counts the cells of the output, as papermill's own errors do."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return ""
    started = [i for i, cell in enumerate(cells) if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:
        return ""
    first = "".join(cells[started[-1]].get("source", "")).strip().splitlines()[:1]
    return f" in cell {started[-1]} ({first[0] if first else ''})"

"""Giving memory back to the system between the big steps of a run.

Freed frames are not always returned: Arrow's allocator keeps what it freed in its pool, and
glibc's heap keeps freed small blocks. At a million customers that is gigabytes held by a process
that no longer needs them while the next step (or a sibling process) needs them.
"""
from __future__ import annotations

import ctypes
import gc

import pyarrow as pa

__all__ = ["release_memory"]


def release_memory() -> None:
    """Collect garbage, then give back what Arrow's pool and glibc's heap hold unused.

    Measured on the million-customer demo: reading the cached 5.4 GB training set left the
    process at 6.6 GB, 5.3 GB after this; validation left about 2.5 GB in the run process.
    """
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): its allocator keeps what it keeps
        pass

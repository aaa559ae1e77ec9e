"""How a long-running server process (a broker, a node) keeps its memory flat.

glibc's allocator gives each thread that allocates at once an arena of its own, up to eight per
core; a server's pool of request threads, gRPC's threads and SQLite's each touch several, and
every arena keeps the memory it once held. Over a long run under load the resident size then
climbs in steps with no leak behind it. Two arenas are enough on a small machine: Python's own
small-object allocator serves most allocations under the interpreter lock, and the C libraries'
allocations are short.

The number is set once, at start, before the server starts its threads. An operator's own
``MALLOC_ARENA_MAX`` in the environment wins (glibc reads it itself); on a C library other than
glibc nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

SERVER_ARENAS = 2
"""Allocator arenas of a server process (``tongdao broker serve``, ``tongdao node serve``)."""
_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap this process's glibc allocator arenas at ``arenas``; call before starting threads.

    Returns:
        Whether the cap was set here (False: not Linux with glibc, or ``MALLOC_ARENA_MAX`` is
        already in the environment, which glibc applies itself).

    Raises:
        ValueError: ``arenas`` is less than 1.
    """
    if arenas < 1:
        raise ValueError("arenas must be at least 1")
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return False  # musl and others: no arenas to cap
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))

"""glibc malloc settings for a process whose many threads each parse large response bodies."""

from __future__ import annotations

from typing import Optional

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
M_ARENA_MAX = -8


# Both connectors' setting. The fixed threshold returns large freed page buffers to the system at once, which
# lowers peak RSS at no measurable CPU cost (docs/benchmarks.md).
ARENAS = 2
MMAP_THRESHOLD = 128 * 1024


def tune_malloc(arenas: int = ARENAS, mmap_threshold: Optional[int] = MMAP_THRESHOLD, libc_name: str = "libc.so.6") -> bool:
    """At most `arenas` glibc malloc arenas for the threads started from now on, as MALLOC_ARENA_MAX would, and with
    `mmap_threshold`, a fixed threshold above which a block is mapped and unmapped on its own.

    glibc gives each thread that allocates its own arena (up to 8 per core), and the CDK's worker threads each parse
    pages of hundreds of KB: freed memory stays resident in every arena and peak RSS grows with the number of threads
    and the size of the sync. The environment variables take effect only if set before the interpreter starts, which
    the platform does not do; mallopt() applies to the arenas created afterwards, i.e. the worker threads'. Anywhere
    else than glibc it does nothing. True when every setting was applied."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(libc_name).mallopt
    except (OSError, AttributeError):
        return False
    applied = bool(mallopt(M_ARENA_MAX, arenas))
    if mmap_threshold is not None:
        applied = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and applied
    return applied

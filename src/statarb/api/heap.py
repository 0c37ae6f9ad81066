"""The process heap settled once the API has started, so that a full garbage collection is short.

A full (generation 2) collection walks every container object alive, with the GIL held. Once
numba, scipy, pandas and pyarrow are imported that is a few hundred thousand objects: about
100 ms during which the event loop cannot answer, and the allocations of a large read trigger
one every few seconds. :func:`settle` imports the modules the read paths use, collects once,
and freezes what is alive (``gc.freeze``): modules, classes and functions that live as long as
the process move to a generation the collector never walks. Later collections walk only what
the server made since.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Import the read paths' modules, collect, and freeze the survivors (once per process)."""
    if gc.get_freeze_count():
        return
    import pandas  # noqa: F401  # CSV responses
    import pyarrow  # noqa: F401  # Arrow responses

    import statarb.export
    import statarb.history  # noqa: F401

    gc.collect()
    gc.freeze()


__all__ = ["settle"]

"""Running a pair scan: chunks, executors (this process, local processes, Dask), cache, progress.

The numbers come from the pure functions of :mod:`statarb.analytics.scan`; this package only
decides where the chunks run and which of them need to run at all.
"""

from __future__ import annotations

from statarb.scanning.executors import choose_executor
from statarb.scanning.run import ScanRun, run_scan

__all__ = ["ScanRun", "choose_executor", "run_scan"]

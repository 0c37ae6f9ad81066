"""Run every ``bench/bench_*.py`` (or those named on the command line) and print ratio tables.

Usage: ``python -m bench [name ...]`` e.g. ``python -m bench resample import``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    wanted = [f"bench_{a.removeprefix('bench_')}" for a in argv]
    if wanted:
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"unknown benchmark(s) {unknown}; choose from {names}", file=sys.stderr)
            return 2
        names = wanted
    for name in names:
        t0 = time.perf_counter()
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print(f"--- {name} took {time.perf_counter() - t0:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Timing and reporting shared by the benchmarks."""

from __future__ import annotations

import json
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "results.jsonl"


def measure(
    fn: Callable[[], Any], repeat: int = 5, warmup: int = 1
) -> tuple[dict[str, float], Any]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeat`` timed runs; median/min/max seconds."""
    res = None
    for _ in range(warmup):
        res = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}, res


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by finished child processes."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def paired(
    ours: Callable[[], Any],
    base: Callable[[], Any],
    repeat: int = 3,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[dict[str, float], dict[str, float], Any]:
    """Time ``ours`` and ``base`` alternately (one untimed round first), so that load from other
    processes on a shared machine falls on both alike; median/min/max seconds of each.

    ``clock`` is wall time by default; :func:`children_cpu` measures the CPU time of child
    processes (whole-process benchmarks on a loaded machine), ``time.process_time`` this one's.
    """
    ours()
    base()
    t_ours: list[float] = []
    t_base: list[float] = []
    res = None
    for _ in range(repeat):
        t = clock()
        res = ours()
        t_ours.append(clock() - t)
        t = clock()
        base()
        t_base.append(clock() - t)

    def stats(ts: list[float]) -> dict[str, float]:
        return {"median": statistics.median(ts), "min": min(ts), "max": max(ts)}

    return stats(t_ours), stats(t_base), res


def report(
    bench: str,
    task: str,
    ours: dict[str, float],
    base: dict[str, float],
    *,
    ours_name: str,
    base_name: str,
    target: str = "",
    items: int | None = None,
) -> float:
    """Print one comparison line and append it to ``bench/results/results.jsonl``.

    Returns the speed-up ratio ``base / ours`` (medians).
    """
    ratio = base["median"] / ours["median"]
    thr = ""
    if items:
        thr = f" | {items / ours['median']:,.0f}/s vs {items / base['median']:,.0f}/s"
    print(
        f"[{bench}] {task}: {ours_name} {ours['median'] * 1e3:.2f} ms vs {base_name} "
        f"{base['median'] * 1e3:.2f} ms -> {ratio:.1f}x{thr} {target}",
        flush=True,
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(
            json.dumps(
                {
                    "bench": bench,
                    "task": task,
                    "ours": ours_name,
                    "baseline": base_name,
                    "ours_s": ours,
                    "baseline_s": base,
                    "ratio": ratio,
                    "target": target,
                    "items": items,
                    "machine": platform.node(),
                    "time": time.time(),
                }
            )
            + "\n"
        )
    return ratio

"""Timing and reporting shared by the benchmarks."""

from __future__ import annotations

import json
import platform
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

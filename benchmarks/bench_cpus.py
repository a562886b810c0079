"""How much faster this machine runs CPU-bound work side by side than one task alone.

Target 4 of issue 15 (five partnerships in at most twice one partnership's time on two
CPUs) assumes two CPUs do twice the work of one. On shared virtual machines they may not:
this times the same pure-Python loop in one process, then in as many processes as there
are CPUs at once, several rounds, and prints the throughput ratio of each round (the CPU
count for a machine whose CPUs are all its own). Run it beside bench_force.py to read that
benchmark's ratio.

    .venv/bin/python benchmarks/bench_cpus.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from multiprocessing import Process

LOOP = 20_000_000


def _work() -> None:
    total = 0
    for i in range(LOOP):
        total += i * i


def _seconds(processes: int) -> float:
    workers = [Process(target=_work) for _ in range(processes)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def main(rounds: int = 5) -> list[float]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    ratios = []
    for number in range(rounds):
        alone, together = _seconds(1), _seconds(cpus)
        ratios.append(cpus * alone / together)
        print(
            f"round {number + 1}: one task {alone:.2f} s, {cpus} at once {together:.2f} s: throughput "
            f"x{ratios[-1]:.2f}",
            flush=True,
        )
    print(
        f"{cpus} CPUs do x{statistics.median(ratios):.2f} the work of one (median of {rounds}; x{min(ratios):.2f} to "
        f"x{max(ratios):.2f})"
    )
    return ratios


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

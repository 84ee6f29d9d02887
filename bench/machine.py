"""The CPU the whole machine has spent: what a study sets beside wall time.

A batch's cost is spread over many processes (the graders, the servers, one
worker per student function), so the studies read the machine's busy time
from ``/proc/stat`` around what they time.
"""
from __future__ import annotations

import os

__all__ = ["machine_cpu"]


def machine_cpu() -> float | None:
    """CPU seconds every core has spent busy since boot (Linux), else None."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return None
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]  # user nice system irq softirq
    return busy / os.sysconf("SC_CLK_TCK")

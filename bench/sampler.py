"""Memory of a process tree as a container sees it, sampled in a background thread.

PSS (proportional set size) charges each shared page to the processes sharing it in equal
parts, so the sum over a tree counts the pages a forked pool shares with its workers once,
like the container's memory cgroup does. The RSS sum counts them in every process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psutil

MB = 1024 * 1024


@dataclass
class TreeMemory:
    pss: int = 0
    rss: int = 0
    processes: int = 0
    largest_horse_uss: int = 0  # the most private memory of one work-horse (or scheduler)


def tree_memory(root: psutil.Process) -> TreeMemory:
    total = TreeMemory()
    try:
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return total
    workers = {process.pid for process in members if _parent(process) == root.pid}
    for process in members:
        try:
            info = process.memory_full_info()
            grandchild = _parent(process) in workers
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue  # a work-horse that just finished
        total.pss += info.pss
        total.rss += info.rss
        total.processes += 1
        if grandchild:
            total.largest_horse_uss = max(total.largest_horse_uss, info.uss)
    return total


def _parent(process: psutil.Process) -> int | None:
    try:
        return process.ppid()
    except psutil.NoSuchProcess:
        return None


class PeakSampler:
    """Samples a process tree every `interval` seconds until stopped; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self._root = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)
        self.peak_pss = 0
        self.peak_rss = 0
        self.peak_processes = 0
        self.peak_horse_uss = 0
        self.samples = 0
        self.last = TreeMemory()

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            memory = tree_memory(self._root)
            if memory.processes:
                self.last = memory
                self.peak_pss = max(self.peak_pss, memory.pss)
                self.peak_rss = max(self.peak_rss, memory.rss)
                self.peak_processes = max(self.peak_processes, memory.processes)
                self.peak_horse_uss = max(self.peak_horse_uss, memory.largest_horse_uss)
                self.samples += 1
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - started)))

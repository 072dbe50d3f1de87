"""Progress of a training run: a tqdm bar on a terminal, a plain log line otherwise, never both.

Shown only for runs expected to take more than :data:`SHOW_AFTER_S` seconds, estimated from the
first iterations. Called by the training loop every few hundred iterations; it reads the
iteration number and the clock, nothing else.
"""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("nninit.record.progress")

SHOW_AFTER_S = 5.0
"""A run expected to take longer than this shows its progress."""
LOG_EVERY_S = 10.0
"""Seconds between two progress log lines when the output is not a terminal."""


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


class Progress:
    """``Progress(num_iterations)(i)``: record that iteration ``i`` is reached.

    Parameters
    ----------
    num_iterations : int
        The run's total.
    interactive : bool, optional
        Draw a tqdm bar (default: when standard error is a terminal); otherwise log
        ``iteration i/N (r it/s, about t left)`` every :data:`LOG_EVERY_S` seconds.
    clock : callable, default=time.perf_counter
    """

    def __init__(self, num_iterations: int, *, interactive: bool | None = None, clock=time.perf_counter):
        self.total = num_iterations
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.clock = clock
        self.start: float | None = None
        self.last_log = 0.0
        self.bar = None
        self.shown = False

    def __call__(self, i: int) -> None:
        now = self.clock()
        if self.start is None:
            self.start, self.last_log = now, now
            return
        elapsed = now - self.start
        rate = i / elapsed if elapsed > 0 else float("inf")
        left = (self.total - i) / rate if rate > 0 else float("inf")
        if not self.shown and elapsed + left < SHOW_AFTER_S:
            return
        self.shown = True
        if self.interactive:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=self.total, initial=i, unit="it", leave=False, dynamic_ncols=True)
            self.bar.update(i - self.bar.n)
        elif now - self.last_log >= LOG_EVERY_S:
            self.last_log = now
            log.info("iteration %d/%d (%s it/s, about %s left)", i, self.total, f"{rate:,.0f}", _duration(left))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

"""granian's server, without its crash-loop exit.

granian (2.8) stops the whole server when a worker dies twice within 5.5 s ("Worker crash loop
detected, exiting"): two OOM kills in a row closed the port and nothing restarted it. Here a
worker that dies is always respawned, after a delay that doubles with each death in quick
succession (up to ``MAX_BACKOFF_SECONDS``), while the other workers keep serving; the log says so.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from granian.server import Server

logger = logging.getLogger("vexil.serve")

QUICK_SUCCESSION_SECONDS = 10.0  # a death this soon after the last one counts towards backoff
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0


class ResilientServer(Server):  # type: ignore[misc,valid-type]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deaths: dict[int, tuple[float, int]] = {}  # worker index -> (last death, streak)

    def _respawn_workers(
        self, workers: list[int], spawn_target: Any, target_loader: Any, delay: float = 0
    ) -> None:
        # granian calls this with no delay only for workers that died; reloads and lifetime
        # respawns pass its respawn interval.
        if not delay:
            self._wait_before_respawn(workers)
            if self.interrupt_signal:
                return
        super()._respawn_workers(workers, spawn_target, target_loader, delay)
        for idx in workers:
            # granian's crash-loop check reads this stamp; the backoff above replaces it.
            self.respawned_wrks[idx] = float("-inf")

    def _wait_before_respawn(self, workers: list[int]) -> None:
        now = time.monotonic()
        wait = 0.0
        for idx in workers:
            last, streak = self._deaths.get(idx, (float("-inf"), 0))
            streak = streak + 1 if now - last < QUICK_SUCCESSION_SECONDS else 1
            self._deaths[idx] = (now, streak)
            if streak > 1:
                wait = max(
                    wait, min(FIRST_BACKOFF_SECONDS * 2 ** (streak - 2), MAX_BACKOFF_SECONDS)
                )
            logger.warning(
                "worker-%d exited unexpectedly (%d time(s) in a row); respawning it%s, "
                "the other workers keep serving",
                idx + 1,
                streak,
                f" in {wait:.1f}s" if wait else "",
            )
        deadline = now + wait
        while time.monotonic() < deadline and not self.interrupt_signal:
            time.sleep(0.05)

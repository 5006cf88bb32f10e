"""Scheduled work of a running server: finishing stops (and, later, expiry and delivery)."""

from __future__ import annotations

import asyncio
import logging

from handloop.services.human_loops import HumanLoops

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, human_loops: HumanLoops, interval_seconds: float = 0.5) -> None:
        self._loops = human_loops
        self._interval = interval_seconds

    async def tick(self) -> None:
        await self._loops.finish_stopping()

    async def run(self) -> None:
        """Run ``tick`` forever; a failing tick is logged and retried, never fatal."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("scheduled work failed; retrying")
            await asyncio.sleep(self._interval)

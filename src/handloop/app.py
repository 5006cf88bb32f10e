"""The app factory: wires services, the AWS APIs and the portal into one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from handloop.errors import ValidationError
from handloop.protocols.aws import AwsApi, is_aws_request
from handloop.services import Services
from handloop.services.scheduler import Scheduler
from handloop.web.portal import create_portal


class HandloopApp:
    """One port: AWS-signed requests go to the AWS APIs, everything else to the portal."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # The job runner writes each finished evaluation job's report.json with the report
        # `handloop evaluation report` prints.
        services.evaluations.reporter = _evaluation_report
        self.aws = AwsApi(services)
        self.portal = create_portal(services)
        # The requester console's exports run the export's code, which the web layer may
        # not import (web/console_data.py).
        self.portal.state.console.exporter = _console_export
        self.portal.router.lifespan_context = self._lifespan

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: object) -> AsyncIterator[None]:
        # Database reads run in threads: as many as the read pool has connections.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=16, thread_name_prefix="handloop-io")
        )
        self.services.db.start()
        # A crash between an output file and its Completed status is finished here.
        await self.services.outputs.repair()
        scheduler = asyncio.create_task(Scheduler(self.services).run())
        # What start-up made (modules, routes, compiled statements) lives as long as the
        # process: out of the collector's reach, full collections stay short instead of
        # pausing every request for tens of milliseconds.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
            await self.services.outputs.drain()
            self.services.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_aws_request(scope):
            await self.aws(scope, receive, send)
        else:
            await self.portal(scope, receive, send)


def _evaluation_report(records: list[dict[str, Any]], unanswered: int) -> dict[str, Any]:
    # Imported when a job finishes: the server starts without numpy and the export's code.
    from handloop.feedback.evaluation_report import report_from_dicts

    return report_from_dicts(records, unanswered_prompts=unanswered)


def _console_export(
    settings: Any,
    flow: str,
    target: Path,
    options: dict[str, Any],
    progress: Any,
    plots: Path,
) -> dict[str, Any]:
    """One export the console started (in its thread): flow:NAME's Completed loops to
    ``target``, the charts into ``plots`` (none without handloop[plots]); the result."""
    from handloop.errors import MissingExtra
    from handloop.feedback.export import ExportOptions, run_export
    from handloop.feedback.mappings import load_mapping
    from handloop.feedback.problems import ExportInputError
    from handloop.feedback.sources import open_source

    try:
        source: Any = open_source(f"flow:{flow}", settings=settings)
        try:
            result = run_export(
                source, load_mapping("auto"), target, ExportOptions(**options), progress=progress
            )
        finally:
            if hasattr(source, "close"):
                source.close()
    except ExportInputError as exc:
        raise ValidationError(exc.message) from None
    summary = result.stats.summary()
    try:
        from handloop.feedback.plots import write_plots

        write_plots(result.stats, plots)
    except MissingExtra:
        pass
    return {"summary": summary, "rows": dict(result.rows), "outputs": result.outputs}


def create_app(services: Services) -> HandloopApp:
    return HandloopApp(services)

"""The console's data page: run an export of a flow's answers (format, pairs, ties, test
split) in a background thread with its progress shown, then its statistics and charts and
the file to download (Parquet, JSONL, or a zip of the DatasetDict folder).

The export's code lives in ``handloop.feedback``, which this layer may not import: the app
hands the console a function that runs one export (``ConsoleState.exporter``, see
``handloop.app``). Exports are kept in ``<data dir>/console-exports/<id>/`` with a
``meta.json``, so the list survives a restart.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from handloop.errors import HandloopError, ResourceNotFound, ValidationError
from handloop.services import Services
from handloop.web.console_base import ConsolePages
from handloop.web.console_exports import KINDS
from handloop.web.console_security import ConsoleForm, ConsoleSignedIn, console_state

FORMATS = ("trl", "reward", "notebook", "notebook-ranking", "sft", "tidy")
PAIRS = ("per-annotator", "aggregated")
TIES = ("drop", "keep")
_PLOT = re.compile(r"^[A-Za-z0-9_.-]{1,80}\.png$")


def data_router(services: Services, pages: ConsolePages) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    async def data_page(
        request: Request, session: Any, *, error: str | None = None, status: int = 200
    ) -> Response:
        flows = await console_state(request).console.overview()
        return pages.page(
            request,
            "data.html",
            status,
            session=session,
            nav="data",
            flows=flows,
            exports=console_state(request).exports.list(),
            formats=FORMATS,
            pairs=PAIRS,
            ties=TIES,
            kinds=list(KINDS),
            error=error,
            available=console_state(request).exporter is not None,
        )

    @router.get("/data")
    async def data(request: Request, session: ConsoleSignedIn) -> Response:
        return await data_page(request, session)

    @router.post("/data/exports")
    async def start_export(
        request: Request,
        session: ConsoleForm,
        flow: Annotated[str, Form(max_length=63)] = "",
        format: Annotated[str, Form(max_length=20)] = "trl",
        pairs: Annotated[str, Form(max_length=20)] = "per-annotator",
        ties: Annotated[str, Form(max_length=10)] = "drop",
        test_size: Annotated[str, Form(max_length=10)] = "0.1",
        kind: Annotated[str, Form(max_length=20)] = "parquet",
    ) -> Response:
        state = console_state(request)
        try:
            if state.exporter is None:
                raise ValidationError("Exports are not available in this server process.")
            options = _options(flow, format, pairs, ties, test_size, kind)
            if not await services.human_loops.flow_exists(flow) and not any(
                f.name == flow for f in await state.console.overview()
            ):
                raise ValidationError(f"No flow definition {flow}.")
        except HandloopError as exc:
            return await data_page(request, session, error=exc.message, status=400)
        job = await asyncio.to_thread(
            state.exports.start,
            state.exporter,
            services.settings,
            flow,
            options,
            kind,
            services.clock(),
        )
        return RedirectResponse(f"/console/data/exports/{job.id}", status_code=303)

    @router.get("/data/exports/{job_id}")
    async def export_page(request: Request, job_id: str, session: ConsoleSignedIn) -> Response:
        job = console_state(request).exports.get(job_id)
        return pages.page(
            request, "export.html", session=session, nav="data", job=job, result=job.result or {}
        )

    @router.get("/api/exports/{job_id}")
    async def export_progress(request: Request, job_id: str, session: ConsoleSignedIn) -> Response:
        return JSONResponse(console_state(request).exports.get(job_id).public())

    @router.get("/data/exports/{job_id}/download")
    async def download(request: Request, job_id: str, session: ConsoleSignedIn) -> Response:
        exports = console_state(request).exports
        job = exports.get(job_id)
        path = await asyncio.to_thread(exports.download, job)
        name = f"{job.flow}-{job.id}{''.join(path.suffixes) or '.bin'}"
        return FileResponse(
            path,
            filename=name,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    @router.get("/data/exports/{job_id}/plots/{plot}")
    async def plot(request: Request, job_id: str, plot: str, session: ConsoleSignedIn) -> Response:
        job = console_state(request).exports.get(job_id)
        if not _PLOT.match(plot) or plot not in job.plots:
            raise ResourceNotFound(f"No chart {plot} in this export.")
        path = console_state(request).exports.folder / job.id / "plots" / plot
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-store"})

    return router


def _options(
    flow: str, fmt: str, pairs: str, ties: str, test_size: str, kind: str
) -> dict[str, Any]:
    if not flow:
        raise ValidationError("Choose the flow definition to export.")
    if fmt not in FORMATS:
        raise ValidationError(f"'{fmt}' is not an export format ({', '.join(FORMATS)}).")
    if pairs not in PAIRS:
        raise ValidationError(f"'{pairs}' is not a pairs choice ({', '.join(PAIRS)}).")
    if ties not in TIES:
        raise ValidationError(f"'{ties}' is not a ties choice ({', '.join(TIES)}).")
    if kind not in KINDS:
        raise ValidationError(f"'{kind}' is not a file kind ({', '.join(KINDS)}).")
    try:
        share = float(test_size)
    except ValueError:
        raise ValidationError("The test split is a share between 0 and 1, such as 0.1.") from None
    if not 0.0 <= share <= 1.0:
        raise ValidationError("The test split is a share between 0 and 1, such as 0.1.")
    return {"format": fmt, "pairs": pairs, "ties": ties, "test_size": share}


__all__ = ["data_router"]

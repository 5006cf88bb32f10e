"""The portal's JSON endpoints (under /api, documented at /api/docs): what the task page's
script calls, and what a script driving a worker can call too.

Authentication is the session cookie that ``POST /api/session`` sets; every state change
also needs the session's CSRF token in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from handloop.domain import json_values
from handloop.domain.records import Task
from handloop.services import Services
from handloop.web.security import (
    SESSION_COOKIE,
    ApiChange,
    SignedInSession,
    set_session_cookie,
)
from handloop.web.security import sign_in as sign_in_worker


class SignIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class SignedIn(BaseModel):
    workerId: str = Field(description="The id output files carry for this worker.")
    csrfToken: str = Field(description="Send it as X-CSRF-Token with every state change.")


class JobOut(BaseModel):
    flowDefinitionName: str
    title: str
    description: str
    keywords: list[str]
    waiting: int = Field(description="Tasks of this job you could take now.")


class TaskOut(BaseModel):
    taskId: str
    humanLoopName: str
    flowDefinitionName: str
    title: str
    description: str
    input: Any = Field(description="The loop's InputContent, parsed.")
    leaseExpiresInSeconds: float = Field(description="Time left before the task is released.")
    frameUrl: str = Field(description="The rendered task, for a sandboxed iframe.")


class Claimed(BaseModel):
    task: TaskOut | None = Field(description="Your task in this job; null when none is left.")


class Answer(BaseModel):
    answer: dict[str, Any] = Field(description="The answer object crowd-form produced.")
    timeSpentInSeconds: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="Active time on the task; at most the time since it "
        "was accepted. Omitted: the time since it was accepted.",
    )


def task_fields(services: Services, task: Task) -> dict[str, Any]:
    """A task as TaskOut describes it."""
    now = services.clock()
    return {
        "taskId": task.public_id,
        "humanLoopName": task.human_loop_name,
        "flowDefinitionName": task.flow_definition_name,
        "title": task.title,
        "description": task.description,
        "input": task.input,
        "leaseExpiresInSeconds": max(0.0, (task.lease_until_us - now) / 1_000_000),
        "frameUrl": f"/tasks/{task.public_id}/frame",
    }


class CheckedJsonRequest(Request):
    """A request whose JSON body is parsed by ``json_values``: bounded depth, valid Unicode,
    finite numbers, as every JSON handloop takes."""

    async def json(self) -> Any:
        if not hasattr(self, "_checked_json"):
            self._checked_json = json_values.parse(await self.body(), "The request body")
        return self._checked_json


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class CheckedJsonRoute(APIRoute):
    """Parses a route's JSON body through ``json_values`` before FastAPI validates it, so a
    body no JSON rule allows (NaN, a lone surrogate, 10,000 levels of nesting) is a clear
    400 ``ValidationException`` rather than FastAPI's generic error or a 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None

        async def checked(request: Request) -> Response:
            request = CheckedJsonRequest(request.scope, request.receive)
            json_body = takes_json and _is_json(request.headers.get("content-type"))
            if json_body and await request.body():
                await request.json()  # raises ValidationError, handled as any other
            return await handler(request)

        return checked


def api_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["worker"], route_class=CheckedJsonRoute)

    @router.post("/session", response_model=SignedIn, summary="Sign in")
    async def sign_in(body: SignIn, request: Request, response: Response) -> SignedIn:
        worker, token, csrf = await sign_in_worker(request, body.email, body.password)
        set_session_cookie(response, request, services, token)
        return SignedIn(workerId=worker.worker_id, csrfToken=csrf)

    @router.delete("/session", status_code=204, summary="Sign out")
    async def sign_out(request: Request, session: ApiChange) -> Response:
        await services.sessions.end(request.cookies[SESSION_COOKIE])
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/jobs", response_model=list[JobOut], summary="Your jobs and waiting tasks")
    async def jobs(session: SignedInSession) -> list[JobOut]:
        return [
            JobOut(
                flowDefinitionName=j.flow_definition_name,
                title=j.title,
                description=j.description,
                keywords=list(j.keywords),
                waiting=j.waiting,
            )
            for j in await services.tasks.jobs(session.worker)
        ]

    # The task endpoints build their JSON themselves (the models above document it): a
    # claim is the portal's hottest read, and validating our own output again costs more
    # than the rest of the route.
    @router.post("/jobs/{flow}/claim", response_model=Claimed, summary="Take the next task")
    async def claim(flow: str, session: ApiChange) -> Response:
        """The task you hold in this job, else a new one (its time limit starts now)."""
        task = await services.tasks.claim(session.worker, flow)
        return JSONResponse({"task": None if task is None else task_fields(services, task)})

    @router.get("/tasks/{task_id}", response_model=TaskOut, summary="One of your tasks")
    async def get_task(task_id: str, session: SignedInSession) -> Response:
        return JSONResponse(
            task_fields(services, await services.tasks.get(session.worker, task_id))
        )

    @router.post("/tasks/{task_id}/submit", status_code=204, summary="Submit your answer")
    async def submit(task_id: str, body: Answer, session: ApiChange) -> Response:
        """Your answer is recorded when this returns. When it was the loop's last one, the
        loop's output file and Completed status follow a moment later."""
        # The worker moves on at once; the loop's output and Completed status follow.
        await services.tasks.submit(
            session.worker, task_id, body.answer, body.timeSpentInSeconds, wait=False
        )
        return Response(status_code=204)

    @router.post("/tasks/{task_id}/release", status_code=204, summary="Give a task back")
    async def release(task_id: str, session: ApiChange) -> Response:
        """The task returns to the pool now; your work on it is lost."""
        await services.tasks.release(session.worker, task_id)
        return Response(status_code=204)

    @router.post("/tasks/{task_id}/decline", status_code=204, summary="Decline a task")
    async def decline(task_id: str, session: ApiChange) -> Response:
        """The task returns to the pool and is never offered to you again."""
        await services.tasks.decline(session.worker, task_id)
        return Response(status_code=204)

    return router

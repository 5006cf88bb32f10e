"""Helpers for portal tests: flows made with boto3, workers made with the CLI, a signed-in
HTTP client for the portal's JSON endpoints, and Chromium."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from handloop.domain.output_layout import split_s3_uri
from tests.chromium import CHROMIUM_ARGS as CHROMIUM_ARGS  # still importable from here
from tests.support import LiveServer


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def make_flow(
    server: LiveServer,
    name: str,
    group: str,
    template: str,
    *,
    task_count: int = 1,
    time_limit: int = 3600,
    lifetime: int = 864_000,
    bucket: str = "review-outputs",
) -> str:
    """A work team of ``group``, a template and a flow definition; the flow's ARN."""
    sm = server.client("sagemaker")
    team = sm.create_workteam(
        WorkteamName=f"{name}-team",
        Description="reviewers",
        MemberDefinitions=[
            {
                "CognitoMemberDefinition": {
                    "UserPool": "us-east-1_pool",
                    "UserGroup": group,
                    "ClientId": "client",
                }
            }
        ],
    )["WorkteamArn"]
    ui = sm.create_human_task_ui(HumanTaskUiName=f"{name}-ui", UiTemplate={"Content": template})[
        "HumanTaskUiArn"
    ]
    arn: str = sm.create_flow_definition(
        FlowDefinitionName=name,
        RoleArn="arn:aws:iam::123456789012:role/a2i",
        HumanLoopConfig={
            "WorkteamArn": team,
            "HumanTaskUiArn": ui,
            "TaskTitle": f"{name} title",
            "TaskDescription": f"{name} description",
            "TaskCount": task_count,
            "TaskTimeLimitInSeconds": time_limit,
            "TaskAvailabilityLifetimeInSeconds": lifetime,
        },
        OutputConfig={"S3OutputPath": f"s3://{bucket}/out"},
    )["FlowDefinitionArn"]
    return arn


def start_item_loop(server: LiveServer, flow_arn: str, name: str) -> None:
    """Start loop ``name`` on the flow with the input ``{"item": name}``."""
    server.client("sagemaker-a2i-runtime").start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow_arn,
        HumanLoopInput={"InputContent": json.dumps({"item": name})},
    )


def start_and_stop(server: LiveServer, flow_arn: str, name: str) -> None:
    """Start loop ``name`` (input ``{"n": name}``) and stop it at once: two events."""
    a2i = server.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow_arn,
        HumanLoopInput={"InputContent": json.dumps({"n": name})},
    )
    a2i.stop_human_loop(HumanLoopName=name)


def add_worker(server: LiveServer, email: str, group: str, password: str = "password123") -> None:
    result = server.cli(
        "workers", "add", email, "--group", group, "--password-stdin", input=password + "\n"
    )
    assert result.returncode == 0, result.stderr


class PortalClient:
    """A worker driving the portal's JSON endpoints."""

    def __init__(self, server: LiveServer, email: str, password: str = "password123") -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30)
        response = self.http.post("/api/session", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.worker_id: str = response.json()["workerId"]
        self.csrf: str = response.json()["csrfToken"]

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    def claim(self, flow: str) -> dict[str, Any] | None:
        response = self.post(f"/api/jobs/{flow}/claim")
        assert response.status_code == 200, response.text
        task: dict[str, Any] | None = response.json()["task"]
        return task

    def submit(self, task_id: str, answer: dict[str, Any]) -> httpx.Response:
        return self.post(f"/api/tasks/{task_id}/submit", {"answer": answer})

    def jobs(self) -> dict[str, int]:
        response = self.http.get("/api/jobs")
        assert response.status_code == 200, response.text
        return {j["flowDefinitionName"]: j["waiting"] for j in response.json()}

    def close(self) -> None:
        self.http.close()


def read_output(server: LiveServer, uri: str) -> dict[str, Any]:
    bucket, key = split_s3_uri(uri)
    path = Path(server.data_dir) / "s3" / bucket / key
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def loop_status(server: LiveServer, name: str) -> str:
    a2i = server.client("sagemaker-a2i-runtime")
    status: str = a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"]
    return status


def work_until_done(
    url: str,
    email: str,
    flow: str,
    *,
    answer: Callable[[dict[str, Any]], dict[str, Any]],
    release_every: int = 0,
    deadline: float = 300.0,
) -> int:
    """A simulated worker: claim and submit until no task is left for them; survives the
    server going away (retries until ``deadline``). The number of answers accepted."""
    end = time.monotonic() + deadline
    done = 0
    client: PortalClient | None = None
    attempts = 0
    while time.monotonic() < end:
        try:
            if client is None:
                client = _RemoteClient(url, email)
            task = client.claim(flow)
            if task is None:
                return done
            attempts += 1
            if release_every and attempts % release_every == 0:
                client.post(f"/api/tasks/{task['taskId']}/release")
                continue
            response = client.submit(task["taskId"], answer(task))
            if response.status_code == 204:
                done += 1
            elif response.status_code != 409:  # 409: our earlier try went through
                raise AssertionError(f"submit: {response.status_code} {response.text}")
        except (httpx.TransportError, _ServerDown):
            time.sleep(0.2)
    raise AssertionError(f"{email} did not finish in {deadline} s")


class _ServerDown(Exception):
    pass


class _RemoteClient(PortalClient):
    """A PortalClient on a URL, whose sign-in tolerates a restarting server."""

    def __init__(self, url: str, email: str, password: str = "password123") -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        response = self.http.post("/api/session", json={"email": email, "password": password})
        if response.status_code != 200:
            raise _ServerDown(response.text)
        self.worker_id = response.json()["workerId"]
        self.csrf = response.json()["csrfToken"]

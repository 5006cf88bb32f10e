"""The portal's guards, tried over HTTP: sessions and cookies, CSRF, CSP and the sandbox,
team boundaries with foreign and guessed ids, sign-in rate limits, invitations, and the
workforce's allowed addresses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.portal_support import PortalClient, add_worker, make_flow
from tests.support import LiveServer

FORM = "<crowd-form><input name='label'></crowd-form>"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


@pytest.fixture(scope="module")
def teams(server: LiveServer) -> dict[str, str]:
    """Two teams with one job and one loop each; alice is in team A, mallory in team B."""
    flows = {
        "a": make_flow(server, "job-a", "group-a", FORM),
        "b": make_flow(server, "job-b", "group-b", FORM),
    }
    add_worker(server, "alice@example.com", "group-a")
    add_worker(server, "mallory@example.com", "group-b")
    a2i = server.client("sagemaker-a2i-runtime")
    for key, arn in flows.items():
        for n in range(2):
            a2i.start_human_loop(
                HumanLoopName=f"loop-{key}-{n}",
                FlowDefinitionArn=arn,
                HumanLoopInput={"InputContent": json.dumps({"secret": f"input of {key}{n}"})},
            )
    return flows


def test_signed_out_requests_are_refused(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as anon:
        assert anon.get("/api/jobs").status_code == 401
        home = anon.get("/")
        assert home.status_code == 303 and home.headers["location"].startswith("/signin")
        assert anon.post("/api/jobs/job-a/claim").status_code == 401


def test_cookies_are_httponly_and_lax(server: LiveServer, teams: object) -> None:
    # Secure behind a TLS proxy: tests/test_abuse_portal.py (only a trusted proxy says so).
    body = {"email": "alice@example.com", "password": "password123"}
    plain = httpx.post(f"{server.url}/api/session", json=body)
    cookie = plain.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_pages_have_a_strict_csp_and_the_task_runs_in_a_sandbox(
    server: LiveServer, teams: object
) -> None:
    page = httpx.get(f"{server.url}/signin")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    alice = PortalClient(server, "alice@example.com")
    task = alice.claim("job-a")
    assert task is not None
    html = alice.http.get(f"/tasks/{task['taskId']}").text
    frame_tag = re.search(r"<iframe[^>]*>", html)
    assert frame_tag is not None
    assert 'sandbox="allow-scripts allow-forms allow-popups allow-modals"' in frame_tag.group(0)
    assert "allow-same-origin" not in html
    frame = alice.http.get(task["frameUrl"])
    assert frame.status_code == 200
    assert f"frame-ancestors {server.url}" in frame.headers["content-security-policy"]
    assert "/static/frame-bridge.js" in frame.text
    assert alice.post(f"/api/tasks/{task['taskId']}/release").status_code == 204


def test_state_changes_need_the_csrf_token(server: LiveServer, teams: object) -> None:
    alice = PortalClient(server, "alice@example.com")
    assert alice.http.post("/api/jobs/job-a/claim").status_code == 403
    wrong = alice.http.post("/api/jobs/job-a/claim", headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    form = alice.http.post("/jobs/job-a/start", data={"csrf_token": "guess"})
    assert form.status_code == 403
    assert alice.jobs()["job-a"] == 2  # nothing was claimed
    out = alice.http.post("/signout", data={})
    assert out.status_code == 403


def test_workers_only_reach_their_teams_tasks(server: LiveServer, teams: object) -> None:
    alice = PortalClient(server, "alice@example.com")
    mallory = PortalClient(server, "mallory@example.com")
    assert set(alice.jobs()) == {"job-a"} and set(mallory.jobs()) == {"job-b"}
    assert mallory.post("/api/jobs/job-a/claim").status_code == 404
    assert mallory.post("/api/jobs/no-such-job/claim").status_code == 404
    task = alice.claim("job-a")
    assert task is not None and task["input"]["secret"].startswith("input of a")
    foreign = task["taskId"]
    for guessed in (foreign, "AAAAAAAAAAAAAAAAAAAAAA", "1", "x" * 200):
        assert mallory.http.get(f"/api/tasks/{guessed}").status_code == 404
        assert mallory.http.get(f"/tasks/{guessed}/frame").status_code == 404
        assert "input of a" not in mallory.http.get(f"/tasks/{guessed}").text
        for action in ("submit", "release", "decline"):
            body = {"answer": {"label": "evil"}} if action == "submit" else {}
            assert mallory.post(f"/api/tasks/{guessed}/{action}", body).status_code in (404, 422)
    # Alice's own task survived all of that.
    assert alice.submit(foreign, {"label": "mine"}).status_code == 204
    # Nobody, not even its author, reads a submitted answer back through the portal: she
    # is told it is submitted (409), and that is all.
    mine = alice.http.get(f"/api/tasks/{foreign}")
    assert mine.status_code == 409 and "mine" not in mine.text
    assert mallory.http.get(f"/api/tasks/{foreign}").status_code == 404


def test_sign_in_does_not_redirect_off_site(server: LiveServer, teams: object) -> None:
    with httpx.Client(base_url=server.url) as client:
        token = hidden(client.get("/signin").text, "form_token")
        response = client.post(
            "/signin",
            data={
                "email": "alice@example.com",
                "password": "password123",
                "form_token": token,
                "next": "//evil.example/",
            },
        )
        assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_api_is_documented(server: LiveServer) -> None:
    spec = httpx.get(f"{server.url}/api/openapi.json").json()
    for path in (
        "/api/session",
        "/api/jobs",
        "/api/jobs/{flow}/claim",
        "/api/tasks/{task_id}",
        "/api/tasks/{task_id}/submit",
        "/api/tasks/{task_id}/release",
        "/api/tasks/{task_id}/decline",
    ):
        assert path in spec["paths"], path
    assert httpx.get(f"{server.url}/api/docs").status_code == 200


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("strict")
    live = LiveServer(data_dir=base / "data", extra_env={"HANDLOOP_SIGN_IN_ATTEMPTS": "3"})
    live.extra_env["HANDLOOP_PUBLIC_URL"] = live.url  # so the CLI prints reachable links
    live.start()
    try:
        yield live
    finally:
        live.stop()


def test_failed_sign_ins_are_rate_limited(strict: LiveServer) -> None:
    add_worker(strict, "target@example.com", "g")
    url = f"{strict.url}/api/session"
    for _ in range(3):
        wrong = httpx.post(url, json={"email": "target@example.com", "password": "nope-nope"})
        assert wrong.status_code == 401
    right = httpx.post(url, json={"email": "target@example.com", "password": "password123"})
    assert right.status_code == 429
    assert "Too many failed sign-ins" in right.json()["detail"]


def test_an_invitation_signs_a_worker_up_once(strict: LiveServer) -> None:
    result = strict.cli("workers", "invite", "invited@example.com", "--group", "g")
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith(f"{strict.url}/join/")
    with httpx.Client() as client:
        page = client.get(link)
        assert page.status_code == 200 and "invited@example.com" in page.text
        token = hidden(page.text, "form_token")
        form = {"password": "a-good-password", "password_again": "a-good-password"}
        joined = client.post(link, data={**form, "form_token": token})
        assert joined.status_code == 303
        assert client.get(f"{strict.url}/api/jobs").status_code == 200
        again = client.get(link)
        assert again.status_code == 400 and "not valid" in again.text


def test_the_workforce_cidrs_guard_the_portal(strict: LiveServer) -> None:
    sm = strict.client("sagemaker")
    sm.update_workforce(WorkforceName="default", SourceIpConfig={"Cidrs": ["10.0.0.0/8"]})
    try:
        # The process that took the change applies it to the very next request.
        assert httpx.get(f"{strict.url}/signin").status_code == 403
        assert httpx.get(f"{strict.url}/healthz").status_code == 200
    finally:
        sm.update_workforce(WorkforceName="default", SourceIpConfig={"Cidrs": []})
    assert httpx.get(f"{strict.url}/signin").status_code == 200


def test_granted_objects_need_a_valid_signature(server: LiveServer) -> None:
    stored = Path(server.data_dir, "s3", "review-media", "images", "cat.txt")
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text("a cat")
    template = (
        "<crowd-form><img class='media' src='{{ task.input.uri | grant_read_access }}'>"
        "<input name='label'></crowd-form>"
    )
    flow = make_flow(server, "granting", "granting", template)
    add_worker(server, "viewer@example.com", "granting")
    server.client("sagemaker-a2i-runtime").start_human_loop(
        HumanLoopName="grant-1",
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": json.dumps({"uri": "s3://review-media/images/cat.txt"})},
    )
    viewer = PortalClient(server, "viewer@example.com")
    task = viewer.claim("granting")
    assert task is not None
    frame = viewer.http.get(task["frameUrl"]).text
    match = re.search(r"class='media' src='([^']+)'", frame)
    assert match is not None
    url = match.group(1).replace("&amp;", "&")
    assert url.startswith(f"{server.url}/objects/review-media/images/cat.txt?")
    assert httpx.get(url).text == "a cat"
    assert httpx.get(url.replace("signature=", "signature=0")).status_code == 403
    other = url.replace("cat.txt", "dog.txt")
    assert httpx.get(other).status_code == 403


def test_a_template_that_fails_on_its_input_says_so_in_the_frame(server: LiveServer) -> None:
    flow = make_flow(
        server, "broken", "broken", "<crowd-form>{{ task.input.x | divided_by: 0 }}</crowd-form>"
    )
    add_worker(server, "broken@example.com", "broken")
    server.client("sagemaker-a2i-runtime").start_human_loop(
        HumanLoopName="broken-1",
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": json.dumps({"x": 1})},
    )
    worker = PortalClient(server, "broken@example.com")
    task = worker.claim("broken")
    assert task is not None
    frame = worker.http.get(task["frameUrl"])
    assert frame.status_code == 422 and "cannot be shown" in frame.text
    assert "frame-ancestors" in frame.headers["content-security-policy"]

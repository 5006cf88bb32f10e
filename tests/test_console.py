"""The requester console (/console) over HTTP, on a live server with flows and loops made
with boto3 and answers given through the worker portal: requester accounts and sign-in,
sessions apart from workers', every page with real data, Stop and Delete with a
confirmation, the template editor, the workforce, exports, webhooks, the live stream,
keyset paging, and the counters the triggers keep."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.console_support import (
    PASSWORD,
    ConsoleClient,
    Deployment,
    Receiver,
    add_requester,
    answer,
    counted,
    csrf_of,
    database_engine,
    form_token,
    loop_status,
    make_deployment,
    start_loops,
)
from tests.portal_support import PortalClient, add_worker, make_flow, wait_for
from tests.support import LiveServer


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("console")
    server = LiveServer(
        data_dir=base / "data",
        database_url=database_url,
        # One failed delivery gives up, so a test can retry it by hand.
        extra_env={"HANDLOOP_WEBHOOK_MAX_ATTEMPTS": "1"},
    )
    server.extra_env["HANDLOOP_PUBLIC_URL"] = server.url
    with server:
        yield server


@pytest.fixture(scope="module")
def deployment(live: LiveServer) -> Deployment:
    return make_deployment(live, "main", loops=6, answered=3)


@pytest.fixture(scope="module")
def console(deployment: Deployment) -> Iterator[ConsoleClient]:
    client = ConsoleClient(deployment.server, deployment.requester)
    yield client
    client.close()


# -- accounts and sign-in ----------------------------------------------------------------------


def test_requesters_are_added_listed_and_removed_with_the_cli(live: LiveServer) -> None:
    assert live.cli("requesters", "list").stderr.startswith("No requesters yet")
    add_requester(live, "Someone@Example.com")
    again = live.cli(
        "requesters", "add", "someone@example.com", "--password-stdin", input=PASSWORD + "\n"
    )
    assert again.returncode != 0 and "already exists" in again.stderr
    short = live.cli("requesters", "add", "x@example.com", "--password-stdin", input="short\n")
    assert short.returncode != 0 and "at least 8 characters" in short.stderr
    listed = live.cli("requesters", "list", "--json")
    assert [json.loads(line)["email"] for line in listed.stdout.splitlines()] == [
        "someone@example.com"
    ]
    ConsoleClient(live, "someone@example.com").close()
    assert live.cli("requesters", "remove", "someone@example.com").returncode == 0
    missing = live.cli("requesters", "remove", "someone@example.com")
    assert missing.returncode != 0 and "No requester" in missing.stderr


def test_there_is_no_default_account_and_wrong_passwords_are_refused(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as client:
        page = client.get("/console/signin")
        assert page.status_code == 200 and "Sign in to the console" in page.text
        for email in ("admin@example.com", "nobody@example.com"):
            refused = client.post(
                "/console/signin",
                data={"email": email, "password": "password", "form_token": form_token(page.text)},
            )
            assert refused.status_code == 401
            assert "Wrong email or password" in refused.text
        # Without the form's double-submit token the post is refused outright.
        forged = client.post("/console/signin", data={"email": "a@b.co", "password": "x"})
        assert forged.status_code == 403


def test_pages_send_a_browser_without_a_session_to_sign_in(live: LiveServer) -> None:
    for path in ("/console", "/console/flows/x?status=Failed", "/console/templates"):
        response = httpx.get(f"{live.url}{path}")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/signin?next=")
    post = httpx.post(f"{live.url}/console/loops/x/stop", data={"csrf_token": "x"})
    assert post.status_code == 401
    api = httpx.post(f"{live.url}/console/api/templates/check", json={})
    assert api.status_code == 401 and api.json()["code"] == "NotAuthorizedException"


def test_sign_in_returns_to_the_page_asked_for_and_sign_out_ends_the_session(
    deployment: Deployment,
) -> None:
    server = deployment.server
    with httpx.Client(base_url=server.url) as client:
        page = client.get("/console/signin?next=/console/workforce")
        signed = client.post(
            "/console/signin",
            data={
                "email": deployment.requester.upper(),
                "password": PASSWORD,
                "form_token": form_token(page.text),
                "next": "/console/workforce",
            },
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/console/workforce"
        cookie = signed.headers["set-cookie"]
        assert "handloop_console=" in cookie and "Path=/console" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        home = client.get("/console")
        assert home.status_code == 200
        # A sign-out needs the CSRF token.
        assert client.post("/console/signout", data={"csrf_token": "wrong"}).status_code == 403
        out = client.post("/console/signout", data={"csrf_token": csrf_of(home.text)})
        assert out.status_code == 303
        assert client.get("/console").status_code == 303


def test_worker_and_requester_sessions_open_only_their_own_side(deployment: Deployment) -> None:
    server = deployment.server
    worker = PortalClient(server, deployment.worker)
    try:
        # The worker's session cookie opens nothing in the console.
        refused = worker.http.get("/console")
        assert refused.status_code == 303 and "/console/signin" in refused.headers["location"]
        assert worker.http.get("/console/api/exports/abcdefgh12").status_code == 401
    finally:
        worker.close()
    # A worker's email and password do not sign in to the console.
    with httpx.Client(base_url=server.url) as client:
        page = client.get("/console/signin")
        refused = client.post(
            "/console/signin",
            data={
                "email": deployment.worker,
                "password": "password123",
                "form_token": form_token(page.text),
            },
        )
        assert refused.status_code == 401
    # The requester's session opens nothing in the portal.
    requester = ConsoleClient(server, deployment.requester)
    try:
        assert requester.get("/api/jobs").status_code == 401
        home = requester.get("/")
        assert home.status_code == 303 and home.headers["location"].startswith("/signin")
    finally:
        requester.close()
    # And a requester cannot sign in to the portal as a worker.
    refused_api = httpx.post(
        f"{server.url}/api/session", json={"email": deployment.requester, "password": PASSWORD}
    )
    assert refused_api.status_code == 401


def test_failed_requester_sign_ins_are_rate_limited(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base: Path = tmp_path_factory.mktemp("strict-console")
    with LiveServer(data_dir=base / "data", extra_env={"HANDLOOP_SIGN_IN_ATTEMPTS": "3"}) as strict:
        add_requester(strict, "limited@example.com")
        with httpx.Client(base_url=strict.url) as client:
            token = form_token(client.get("/console/signin").text)
            for _ in range(3):
                wrong = client.post(
                    "/console/signin",
                    data={
                        "email": "limited@example.com",
                        "password": "nope-nope",
                        "form_token": token,
                    },
                )
                assert wrong.status_code == 401
            right = client.post(
                "/console/signin",
                data={"email": "limited@example.com", "password": PASSWORD, "form_token": token},
            )
            assert right.status_code == 429
            assert "Too many failed sign-ins" in right.text


# -- the overview, a flow, a loop ------------------------------------------------------------


def test_the_overview_shows_each_flow_from_the_counters(
    console: ConsoleClient, deployment: Deployment
) -> None:
    page = console.get("/console")
    assert page.status_code == 200
    html = page.text
    assert deployment.flow in html
    card = html[html.index(f'data-flow="{deployment.flow}"') :]
    assert re.search(r'data-count="Completed">3<', card)
    assert re.search(r'data-count="InProgress">3<', card)
    assert re.search(r'data-count="total">6<', card)
    # Three answers in this hour: the chart's peak and its label say so.
    assert "Answers per hour over the last 24 hours" in card
    assert ": 3 in all" in card
    # Three loops done in the last hour or so, three left: a rate and an expected time.
    eta = re.search(r'data-figure="eta">([^<]+)<', card)
    assert eta is not None and eta.group(1) not in ("no rate yet", "nothing in progress")
    assert "Content-Security-Policy" in page.headers and "style=" not in html


def test_the_counters_match_the_loops(console: ConsoleClient, deployment: Deployment) -> None:
    kept, real = counted(deployment.server)
    assert kept == real
    engine = database_engine(deployment.server)
    try:
        with engine.connect() as conn:
            answers = conn.execute(
                sa.text(
                    "SELECT SUM(answers), SUM(completed) FROM flow_hourly "
                    "WHERE flow_definition_name = :f"
                ),
                {"f": deployment.flow},
            ).one()
    finally:
        engine.dispose()
    assert (int(answers[0]), int(answers[1])) == (3, 3)


def test_a_flow_page_lists_its_loops_with_filters(
    console: ConsoleClient, deployment: Deployment
) -> None:
    page = console.get(f"/console/flows/{deployment.flow}")
    assert page.status_code == 200
    for name in deployment.loops:
        assert f"/console/loops/{name}" in page.text
    done = console.get(f"/console/flows/{deployment.flow}", params={"status": "Completed"})
    assert done.text.count('<span class="status Completed">') == 3
    assert "InProgress</span>" not in done.text.split("<tbody>")[1]
    future = console.get(f"/console/flows/{deployment.flow}", params={"after": "2999-01-01T00:00"})
    assert "No loop matches" in future.text
    bad = console.get(f"/console/flows/{deployment.flow}", params={"status": "Done"})
    assert bad.status_code == 400 and "is not a loop status" in bad.text
    bad_time = console.get(f"/console/flows/{deployment.flow}", params={"after": "yesterday"})
    assert bad_time.status_code == 400 and "not a date and time" in bad_time.text
    bad_page = console.get(f"/console/flows/{deployment.flow}", params={"page": "older:x.1"})
    assert bad_page.status_code == 400 and "page position is not valid" in bad_page.text
    missing = console.get("/console/flows/no-such-flow")
    assert missing.status_code == 404 and "No flow definition no-such-flow" in missing.text


def test_a_loop_page_shows_input_answers_and_output(
    console: ConsoleClient, deployment: Deployment
) -> None:
    done = [n for n in deployment.loops if loop_status(deployment.server, n) == "Completed"]
    page = console.get(f"/console/loops/{done[0]}")
    assert page.status_code == 200
    html = page.text
    assert f"&#34;item&#34;: &#34;{done[0]}&#34;" in html  # the input, indented JSON
    assert "Answer 1 by worker" in html and deployment.worker in html
    assert f'src="/console/loops/{done[0]}/frame?answer=0"' in html
    assert 'sandbox="allow-scripts"' in html
    assert "&#34;humanAnswers&#34;" in html  # the output file
    output = console.get(f"/console/loops/{done[0]}/output.json")
    assert output.status_code == 200
    assert output.json()["humanLoopName"] == done[0]
    assert "attachment" in output.headers["content-disposition"]
    # The task frame: the template rendered with the input, under the frame's policy.
    frame = console.get(f"/console/loops/{done[0]}/frame")
    assert frame.status_code == 200 and f"<strong>{done[0]}</strong>" in frame.text
    assert "frame-ancestors" in frame.headers["content-security-policy"]
    filled = console.get(f"/console/loops/{done[0]}/frame?answer=0")
    assert 'id="hl-console-answer"' in filled.text and "answer " in filled.text
    assert console.get(f"/console/loops/{done[0]}/frame?answer=5").status_code == 404
    assert console.get("/console/loops/no-such-loop").status_code == 404
    waiting = next(n for n in deployment.loops if n not in done)
    pending = console.get(f"/console/loops/{waiting}")
    assert "No answer yet" in pending.text and "once it is Completed" in pending.text
    assert console.get(f"/console/loops/{waiting}/output.json").status_code == 404


def test_stop_and_delete_ask_for_a_confirmation(live: LiveServer) -> None:
    setup = make_deployment(live, "stop", loops=2, answered=0)
    client = ConsoleClient(live, setup.requester)
    try:
        name = setup.loops[0]
        confirm = client.get(f"/console/loops/{name}/stop")
        assert confirm.status_code == 200 and f"Stop loop {name}?" in confirm.text
        assert f'action="/console/loops/{name}/stop"' in confirm.text
        assert client.get(f"/console/loops/{name}/explode").status_code == 404
        # No CSRF token, no stop.
        forged = client.http.post(f"/console/loops/{name}/stop", data={})
        assert forged.status_code == 403
        assert loop_status(live, name) == "InProgress"
        # Deleting a loop in progress is refused with the reason.
        early = client.post(f"/console/loops/{name}/delete")
        assert early.status_code == 400 and "stop it first" in early.text
        stopped = client.post(f"/console/loops/{name}/stop")
        assert stopped.status_code == 303
        wait_for(lambda: loop_status(live, name) == "Stopped", what="the loop Stopped")
        page = client.get(f"/console/loops/{name}")
        assert "Delete…" in page.text and "Stop…" not in page.text
        confirm = client.get(f"/console/loops/{name}/delete")
        assert f"Delete loop {name}?" in confirm.text
        deleted = client.post(f"/console/loops/{name}/delete")
        assert deleted.status_code == 303
        assert deleted.headers["location"] == f"/console/flows/{setup.flow}?deleted={name}"
        assert client.get(f"/console/loops/{name}").status_code == 404
        kept, real = counted(live)
        assert kept == real
        assert kept.get((setup.flow, "Stopped"), 0) == 0
        assert kept[(setup.flow, "InProgress")] == 1
    finally:
        client.close()


def test_keyset_paging_walks_every_loop_once_either_way(live: LiveServer) -> None:
    add_requester(live, "pager@example.com")
    arn = make_flow(live, "paged-flow", "pager-group", "<p>{{ task.input.item }}</p>")
    names = [f"paged-{k:03d}" for k in range(123)]
    start_loops(live, arn, names)
    client = ConsoleClient(live, "pager@example.com")
    link = re.compile(r'<a href="([^"]+)" rel="(first|prev|next|last)">')

    def page(url: str) -> tuple[list[str], dict[str, str]]:
        html = client.get(url.replace("&amp;", "&")).text
        rows = re.findall(r'<a href="/console/loops/(paged-\d+)">', html)
        return rows, {rel: href.replace("&amp;", "&") for href, rel in link.findall(html)}

    try:
        newest_first = names[::-1]
        seen: list[str] = []
        url: str | None = "/console/flows/paged-flow"
        pages = []
        while url is not None:
            rows, links = page(url)
            pages.append((rows, links))
            seen += rows
            url = links.get("next")
        assert seen == newest_first and len(pages) == 3
        assert "prev" not in pages[0][1] and "next" not in pages[-1][1]
        assert [len(rows) for rows, _ in pages] == [50, 50, 23]
        # Back from the last page: each earlier page again, exactly.
        back, links = page(pages[-1][1]["prev"])
        assert back == pages[1][0]
        back, links = page(links["prev"])
        assert back == pages[0][0] and "prev" not in links
        # The oldest page: the 50 oldest, newest first, and nothing older.
        last, links = page(pages[0][1]["last"])
        assert last == newest_first[-50:] and "next" not in links and "prev" in links
        # A status filter pages only its loops (the counters give the total).
        a2i = live.client("sagemaker-a2i-runtime")
        for name in names[:60]:
            a2i.stop_human_loop(HumanLoopName=name)
        wait_for(
            lambda: all(loop_status(live, n) == "Stopped" for n in names[:60:10]),
            what="stopped",
        )
        wait_for(lambda: counted(live)[0].get(("paged-flow", "Stopped")) == 60, what="counted")
        stopped: list[str] = []
        url = "/console/flows/paged-flow?status=Stopped"
        while url is not None:
            rows, links = page(url)
            stopped += rows
            url = links.get("next")
        assert stopped == names[:60][::-1]
        html = client.get("/console/flows/paged-flow?status=Stopped").text
        assert "60 loops Stopped in all" in html
    finally:
        client.close()


# -- templates -----------------------------------------------------------------------------


def test_the_template_list_and_editor(console: ConsoleClient, deployment: Deployment) -> None:
    listing = console.get("/console/templates")
    assert listing.status_code == 200 and f"{deployment.flow}-ui" in listing.text
    assert deployment.flow in listing.text  # the flow that uses it
    editor = console.get(f"/console/templates/new?from={deployment.flow}-ui")
    assert editor.status_code == 200
    assert "task.input.item" in editor.text and f"{deployment.flow}-ui-v2" in editor.text
    # The sample input: the latest loop's input of a flow showing that template.
    assert re.search(r"&#34;item&#34;: &#34;main-[a-z-]*\d*&#34;", editor.text)
    assert 'formtarget="preview-frame"' in editor.text
    assert console.get("/console/templates/new?from=nope").status_code == 404


def test_template_problems_come_with_their_line_numbers(console: ConsoleClient) -> None:
    broken = "<p>one</p>\n<p>two</p>\n{% if task.input.x %}\n<p>never closed</p>\n"
    checked = console.post_json("/console/api/templates/check", {"content": broken, "sample": "{}"})
    assert checked.status_code == 200
    [problem] = checked.json()["problems"]
    assert problem["code"] == "TemplateSyntaxError" and problem["line"] == 3
    assert problem["where"] == "template"
    unknown = console.post_json(
        "/console/api/templates/check",
        {"content": "<p>\n{{ task.input.x | shout }}</p>", "sample": "{}"},
    )
    [problem] = unknown.json()["problems"]
    assert problem["line"] == 2 and "unknown filter 'shout'" in problem["message"]
    bad_input = console.post_json(
        "/console/api/templates/check", {"content": "<p>x</p>", "sample": '{\n  "a": 1,\n}'}
    )
    [problem] = bad_input.json()["problems"]
    assert problem["where"] == "input" and problem["line"] == 3
    assert problem["code"] == "InvalidTaskInput"
    good = console.post_json(
        "/console/api/templates/check",
        {"content": "<p>{{ task.input.x }}</p>", "sample": '{"x": 1}'},
    )
    assert good.json() == {"problems": []}
    # The CSRF header is required.
    forged = console.http.post("/console/api/templates/check", json={"content": "x"})
    assert forged.status_code == 403 and forged.json()["code"] == "AccessDeniedException"
    wrong = console.post_json("/console/api/templates/check", {"content": 5})
    assert wrong.status_code == 400
    # The preview frame: the rendered template, or its problems with their lines.
    frame = console.post(
        "/console/templates/preview",
        {"content": "<p>Hello {{ task.input.who }}</p>", "sample": '{"who": "Ann"}'},
    )
    assert frame.status_code == 200 and "<p>Hello Ann</p>" in frame.text
    assert "frame-ancestors" in frame.headers["content-security-policy"]
    failing = console.post("/console/templates/preview", {"content": broken, "sample": "{}"})
    assert "template, line 3" in failing.text and "cannot be shown" in failing.text


def test_a_template_is_saved_as_a_new_task_ui(live: LiveServer, console: ConsoleClient) -> None:
    content = "<crowd-form><p>{{ task.input.text }}</p></crowd-form>"
    saved = console.post(
        "/console/templates",
        {"name": "console-made-ui", "content": content, "sample": '{"text": "hi"}'},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/templates?created=console-made-ui"
    described = live.client("sagemaker").describe_human_task_ui(HumanTaskUiName="console-made-ui")
    assert described["HumanTaskUiStatus"] == "Active"
    again = console.post(
        "/console/templates", {"name": "console-made-ui", "content": content, "sample": "{}"}
    )
    assert again.status_code == 400 and "already exists" in again.text
    assert escape(content) in again.text  # the editor keeps the text
    bad_name = console.post(
        "/console/templates", {"name": "Bad Name", "content": content, "sample": "{}"}
    )
    assert bad_name.status_code == 400 and "lower-case letters" in bad_name.text
    broken = console.post(
        "/console/templates",
        {"name": "broken-ui", "content": "{% if x %}\nno end", "sample": "{}"},
    )
    assert broken.status_code == 400 and "line 1" in broken.text


# -- workforce -------------------------------------------------------------------------------


def test_the_workforce_page_and_its_actions(
    live: LiveServer, console: ConsoleClient, deployment: Deployment
) -> None:
    page = console.get("/console/workforce")
    assert page.status_code == 200
    html = page.text
    assert f"{deployment.flow}-team" in html and "main-group" in html
    row = html[html.index(deployment.worker) :]
    assert re.search(r"<td>3</td>", row)  # answers
    invited = console.post(
        "/console/workforce/invite", {"email": "new-person@example.com", "groups": "a, b"}
    )
    assert invited.status_code == 200
    found = re.search(r'value="(http[^"]+/join/[^"]+)"', invited.text)
    assert found is not None and found.group(1).startswith(f"{live.url}/join/")
    join = httpx.get(found.group(1))
    assert join.status_code == 200 and "new-person@example.com" in join.text
    twice = console.post("/console/workforce/invite", {"email": deployment.worker})
    assert twice.status_code == 400 and "already exists" in twice.text
    bad = console.post("/console/workforce/invite", {"email": "not an email"})
    assert bad.status_code == 400 and "is not an email address" in bad.text

    add_worker(live, "changing@example.com", "first")
    listed = live.cli("workers", "list", "--json")
    worker_id = next(
        json.loads(line)["workerId"]
        for line in listed.stdout.splitlines()
        if json.loads(line)["email"] == "changing@example.com"
    )
    changed = console.post(
        f"/console/workforce/workers/{worker_id}/groups",
        {"add": "second, third", "remove": "first"},
    )
    assert changed.status_code == 303
    now = [json.loads(x) for x in live.cli("workers", "list", "--json").stdout.splitlines()]
    groups = next(w["groups"] for w in now if w["workerId"] == worker_id)
    assert groups == ["second", "third"]
    assert console.post(f"/console/workforce/workers/{worker_id}/disable").status_code == 303
    page = console.get("/console/workforce").text
    assert "disabled" in page[page.index("changing@example.com") :][:600]
    refused = httpx.post(
        f"{live.url}/api/session", json={"email": "changing@example.com", "password": "password123"}
    )
    assert refused.status_code == 401
    assert console.post(f"/console/workforce/workers/{worker_id}/enable").status_code == 303
    missing = console.post("/console/workforce/workers/nobody/disable")
    assert missing.status_code == 404 and "No worker nobody" in missing.text


# -- webhooks --------------------------------------------------------------------------------


def test_webhooks_are_added_retried_and_removed(
    live: LiveServer, console: ConsoleClient, deployment: Deployment
) -> None:
    receiver = Receiver(replies=[500])
    try:
        bad = console.post("/console/webhooks", {"url": "ftp://x", "secret": "s"})
        assert bad.status_code == 400 and "not an http:// or https:// URL" in bad.text
        added = console.post("/console/webhooks", {"url": receiver.url, "secret": "hook-secret"})
        assert added.status_code == 303
        page = console.get("/console/webhooks").text
        assert receiver.url in page
        # An event: a loop stopped. Its one delivery fails (500) and is given up (one
        # attempt allowed on this server).
        loop = [n for n in deployment.loops if loop_status(live, n) == "InProgress"][-1]
        live.client("sagemaker-a2i-runtime").stop_human_loop(HumanLoopName=loop)
        wait_for(lambda: receiver.received, what="the first delivery")

        def state_of_delivery() -> str | None:
            html = console.get("/console/webhooks").text
            rows = [r for r in html.split("<tr>") if loop in r and receiver.url in r]
            return rows[0] if rows else None

        row = wait_for(lambda: (r := state_of_delivery()) and "gave up" in r and r, what="gave up")
        assert "HTTP 500" in row
        retry = re.search(r'action="(/console/webhooks/deliveries/\d+/\d+/retry)"', row)
        assert retry is not None
        assert console.post(retry.group(1)).status_code == 303
        wait_for(lambda: len(receiver.received) >= 2, what="the retried delivery")
        wait_for(lambda: "delivered" in (state_of_delivery() or ""), what="delivered")
        assert json.loads(receiver.received[-1])["detail"]["humanLoopName"] == loop
        missing = console.post("/console/webhooks/deliveries/999999/1/retry")
        assert missing.status_code == 404
        removed = console.post("/console/webhooks/remove", {"url": receiver.url})
        assert removed.status_code == 303
        assert receiver.url not in console.get("/console/webhooks").text
        gone = console.post("/console/webhooks/remove", {"url": receiver.url})
        assert gone.status_code == 404 and "No webhook" in gone.text
    finally:
        receiver.close()


# -- the live stream -------------------------------------------------------------------------


def test_the_stream_sends_the_figures_and_then_each_change(
    live: LiveServer, console: ConsoleClient, deployment: Deployment
) -> None:
    def events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
        kind = None
        for line in lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "overview":
                yield json.loads(line[6:])

    def total(data: dict[str, Any]) -> int:
        return next(int(f["total"]) for f in data["flows"] if f["name"] == deployment.flow)

    with console.http.stream("GET", "/console/stream", timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response.iter_lines())
        first = total(next(stream))
        start_loops(live, deployment.flow_arn, ["main-live-loop"])
        while True:
            data = next(stream)
            if total(data) == first + 1:
                break
        flow = next(f for f in data["flows"] if f["name"] == deployment.flow)
        assert set(flow) >= {"counts", "hourly", "ratePerHour", "etaSeconds"}
        assert len(flow["hourly"]) == 24


# -- data ------------------------------------------------------------------------------------


def test_an_export_runs_with_progress_and_downloads(live: LiveServer) -> None:
    from tests.fixtures.feedback.builders import a2i_output, notebook_answer
    from tests.fixtures.feedback.builders import make_flow as make_ranking_flow
    from tests.test_feedback_store import complete_loop, write_output

    add_requester(live, "data@example.com")
    sagemaker = live.client("sagemaker")
    a2i = live.client("sagemaker-a2i-runtime")
    flow = make_ranking_flow(sagemaker, "ranked")
    wait_for(
        lambda: (
            sagemaker.describe_flow_definition(FlowDefinitionName="ranked")["FlowDefinitionStatus"]
            == "Active"
        ),
        what="Active",
    )
    for k in range(4):
        name = f"ranked-{k}"
        item = {"taskObject": {"prompt": f"prompt {k}", "responses": [f"a{k}", f"b{k}", f"c{k}"]}}
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow["flow_arn"],
            HumanLoopInput={"InputContent": json.dumps(item)},
        )
        uri = a2i.describe_human_loop(HumanLoopName=name)["HumanLoopOutput"]["OutputS3Uri"]
        answers = [(w, notebook_answer([1, 2, 3])) for w in ("alice", "bob")]
        doc = a2i_output(name, f"prompt {k}", [f"a{k}", f"b{k}", f"c{k}"], answers)
        write_output(live, uri, {**doc, "flowDefinitionArn": flow["flow_arn"]})
        complete_loop(live, name)
    client = ConsoleClient(live, "data@example.com")
    try:
        page = client.get("/console/data")
        assert page.status_code == 200 and '<option value="ranked">' in page.text
        bad = client.post("/console/data/exports", {"flow": "ranked", "format": "csv"})
        assert bad.status_code == 400 and "not an export format" in bad.text
        split = client.post("/console/data/exports", {"flow": "ranked", "test_size": "2"})
        assert split.status_code == 400 and "between 0 and 1" in split.text
        unknown = client.post("/console/data/exports", {"flow": "nothing-here"})
        assert unknown.status_code == 400 and "No flow definition nothing-here" in unknown.text
        for kind, check in (("parquet", "parquet"), ("jsonl", "jsonl"), ("datasetdict", "zip")):
            started = client.post(
                "/console/data/exports",
                {
                    "flow": "ranked",
                    "format": "trl",
                    "pairs": "per-annotator",
                    "ties": "drop",
                    "test_size": "0",
                    "kind": kind,
                },
            )
            assert started.status_code == 303
            job_url = started.headers["location"]
            job_id = job_url.rsplit("/", 1)[1]
            progress = wait_for(
                lambda j=job_id: (
                    (p := client.get(f"/console/api/exports/{j}").json())["state"] != "running"
                    and p
                ),
                what="the export",
            )
            assert progress["state"] == "done", progress
            assert progress["percent"] == 100.0 and progress["total"] == progress["done"] == 4
            result = client.get(job_url)
            assert (
                "Done: 24 rows (train 24) from 4 output files" in result.text
                and "Pairwise agreement" in result.text
            )
            download = client.get(f"{job_url}/download")
            assert download.status_code == 200
            assert download.headers["content-disposition"].endswith(f'.{check}"')
            if kind == "parquet":
                assert download.content[:4] == b"PAR1"
            elif kind == "jsonl":
                rows = [json.loads(line) for line in download.text.splitlines()]
                assert len(rows) == 24 and {"prompt", "chosen", "rejected"} <= set(rows[0])
            else:
                names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
                assert any(n.startswith("train") for n in names), names
        listing = client.get("/console/data").text
        assert listing.count('<a href="/console/data/exports/') == 3
        failed = client.post(
            "/console/data/exports",
            {"flow": deployment_flow_without_outputs(live), "test_size": "0"},
        )
        job_url = failed.headers["location"]
        progress = wait_for(
            lambda: (
                (p := client.get(f"/console/api/exports/{job_url.rsplit('/', 1)[1]}").json())[
                    "state"
                ]
                != "running"
                and p
            ),
            what="the failed export",
        )
        assert progress["state"] == "failed" and progress["error"]
        assert "The export failed" in client.get(job_url).text
        assert client.get(f"{job_url}/download").status_code == 400
        assert client.get("/console/data/exports/no-such-export-id").status_code == 404
        assert client.get("/console/data/exports/../../etc").status_code == 404
    finally:
        client.close()


def deployment_flow_without_outputs(live: LiveServer) -> str:
    """A flow whose loops are all in progress: nothing to export."""
    arn = make_flow(live, "nothing-done", "nobody", "<p>{{ task.input.item }}</p>")
    start_loops(live, arn, ["nothing-done-1"])
    return "nothing-done"


def test_answers_are_counted_per_hour_as_they_come(live: LiveServer) -> None:
    """The hourly counter follows the portal's submits (a trigger on tasks)."""
    setup = make_deployment(live, "hourly", loops=2, answered=0)
    answer(live, setup.worker, setup.flow, 2)
    engine = database_engine(live)
    try:
        with engine.connect() as conn:
            total = conn.execute(
                sa.text("SELECT SUM(answers) FROM flow_hourly WHERE flow_definition_name = :f"),
                {"f": setup.flow},
            ).scalar()
    finally:
        engine.dispose()
    assert total == 2

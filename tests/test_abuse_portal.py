"""Hostile requests to the worker portal, against a live server: forwarded headers from
clients that are not a trusted proxy, oversized bodies before authentication, answers and
times JSON cannot carry, invalid Unicode and NUL in every field, and emails that differ
only by Unicode normalisation or case."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config

from handloop.store import Database
from handloop.store.database import MIGRATIONS
from tests.portal_support import (
    PortalClient,
    add_worker,
    loop_status,
    make_flow,
    read_output,
    wait_for,
)
from tests.support import LiveServer

pytestmark = pytest.mark.abuse

FORM = "<crowd-form><input name='label'></crowd-form>"
OUTSIDE = "10.0.0.0/8"  # the workforce's CIDRs in these tests: 127.0.0.1 is not in them
PASSWORD = "password123"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


def refused_as_json(response: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """A portal JSON error: the expected status and ``{"detail": str, "code": str}``."""
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected, (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["code"], str) and body["code"], body
    return body


def strict_json(text: str) -> Any:
    """JSON as the standard has it: no NaN or Infinity."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} in a JSON document")

    return json.loads(text, parse_constant=refuse)


# -- servers ---------------------------------------------------------------------------------


def start_server(base: Path, database_url: str | None, **env: str) -> LiveServer:
    live = LiveServer(data_dir=base / "data", database_url=database_url, extra_env=env)
    return live.start()


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory, new_database: Any) -> Iterator[LiveServer]:
    """A server that trusts no proxy (the default), with a small sign-in limit."""
    live = start_server(
        tmp_path_factory.mktemp("direct"), new_database(), HANDLOOP_SIGN_IN_ATTEMPTS="3"
    )
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, new_database: Any) -> Iterator[LiveServer]:
    """A server behind a proxy on 127.0.0.1 (so the tests are the proxy)."""
    live = start_server(
        tmp_path_factory.mktemp("proxied"),
        new_database(),
        HANDLOOP_SIGN_IN_ATTEMPTS="3",
        HANDLOOP_TRUSTED_PROXIES="127.0.0.1",
    )
    try:
        yield live
    finally:
        live.stop()


def restrict_addresses(live: LiveServer, cidrs: list[str]) -> None:
    """Set the workforce's CIDRs (the server that took the change applies it at once)."""
    live.client("sagemaker").update_workforce(
        WorkforceName="default", SourceIpConfig={"Cidrs": cidrs}
    )
    allowed = not cidrs
    assert (httpx.get(f"{live.url}/signin").status_code == 200) == allowed


def sign_in(live: LiveServer, email: str, password: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/api/session", json={"email": email, "password": password}, headers=headers
    )


# -- forwarded headers -----------------------------------------------------------------------


def test_a_spoofed_forwarded_for_does_not_pass_the_workforce_cidrs(direct: LiveServer) -> None:
    restrict_addresses(direct, [OUTSIDE])
    try:
        for spoofed in ("10.0.0.1", "192.168.1.1, 10.0.0.1"):
            response = httpx.get(f"{direct.url}/signin", headers={"X-Forwarded-For": spoofed})
            assert response.status_code == 403, spoofed
            api = httpx.get(f"{direct.url}/api/jobs", headers={"X-Forwarded-For": spoofed})
            refused_as_json(api, 403)
    finally:
        restrict_addresses(direct, [])


def test_a_spoofed_forwarded_for_does_not_dodge_the_sign_in_limit(direct: LiveServer) -> None:
    add_worker(direct, "limited@example.com", "g")
    # Three failures for three emails, each claiming another address: all are 127.0.0.1's.
    for n in range(3):
        wrong = sign_in(
            direct, f"nobody{n}@example.com", "wrong-password", **{"X-Forwarded-For": f"10.9.9.{n}"}
        )
        assert wrong.status_code == 401
    right = sign_in(direct, "limited@example.com", PASSWORD, **{"X-Forwarded-For": "10.9.9.99"})
    assert refused_as_json(right, 429)["code"] == "ThrottlingException"


def test_a_spoofed_forwarded_proto_does_not_make_cookies_secure(server: LiveServer) -> None:
    add_worker(server, "proto@example.com", "proto")
    response = sign_in(server, "proto@example.com", PASSWORD, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "secure" not in response.headers["set-cookie"].lower()


def test_a_trusted_proxy_passes_on_the_client_address(proxied: LiveServer) -> None:
    restrict_addresses(proxied, [OUTSIDE])
    try:
        cases = [
            ("10.0.0.1", 200),  # the client, as the proxy saw it
            ("192.168.1.1", 403),
            ("10.0.0.1, 192.168.1.1", 403),  # the proxy appended the real client last
            ("192.168.1.1, 10.0.0.1", 200),  # whatever came before the proxy is not trusted
        ]
        for forwarded, status in cases:
            response = httpx.get(f"{proxied.url}/signin", headers={"X-Forwarded-For": forwarded})
            assert response.status_code == status, forwarded
    finally:
        restrict_addresses(proxied, [])


def test_a_trusted_proxy_gets_a_sign_in_limit_per_client(proxied: LiveServer) -> None:
    add_worker(proxied, "behind@example.com", "g")
    for n in range(3):
        wrong = sign_in(
            proxied, f"other{n}@example.com", "wrong-password", **{"X-Forwarded-For": "10.1.1.1"}
        )
        assert wrong.status_code == 401
    blocked = sign_in(proxied, "behind@example.com", PASSWORD, **{"X-Forwarded-For": "10.1.1.1"})
    refused_as_json(blocked, 429)
    # Another client behind the same proxy is not held back by the first one's failures.
    fine = sign_in(
        proxied,
        "behind@example.com",
        PASSWORD,
        **{"X-Forwarded-For": "10.1.1.2", "X-Forwarded-Proto": "https"},
    )
    assert fine.status_code == 200, fine.text
    assert "secure" in fine.headers["set-cookie"].lower()


# -- bounded bodies --------------------------------------------------------------------------


def test_a_huge_sign_in_body_is_refused_before_it_is_read(server: LiveServer) -> None:
    huge = b'{"email": "' + b"a" * (64 * 1024 * 1024) + b'", "password": "x"}'
    response = httpx.post(
        f"{server.url}/api/session",
        content=huge,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert "too large" in refused_as_json(response, 413)["detail"]


def test_a_huge_streamed_body_is_refused_while_it_arrives(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        yield b'{"email": "'
        for _ in range(256):
            yield b"a" * 65536
        yield b'", "password": "x"}'

    response = httpx.post(
        f"{server.url}/api/session",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    refused_as_json(response, 413)


def test_a_huge_form_gets_a_readable_page(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        token = hidden(client.get("/signin").text, "form_token")
        response = client.post(
            "/signin",
            data={"email": "x" * 200_000, "password": "p", "form_token": token},
        )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "too large" in response.text


@pytest.fixture(scope="module")
def answers(server: LiveServer) -> str:
    """A job whose loops each need one answer, with a worker in its team."""
    flow = make_flow(server, "answers", "answers", FORM)
    add_worker(server, "answers@example.com", "answers")
    a2i = server.client("sagemaker-a2i-runtime")
    for n in range(6):
        a2i.start_human_loop(
            HumanLoopName=f"answers-{n}",
            FlowDefinitionArn=flow,
            HumanLoopInput={"InputContent": json.dumps({"n": n})},
        )
    return "answers"


def test_an_answer_up_to_its_limit_fits_and_a_bigger_body_does_not(
    server: LiveServer, answers: str
) -> None:
    worker = PortalClient(server, "answers@example.com")
    task = worker.claim(answers)
    assert task is not None
    too_big = worker.submit(task["taskId"], {"label": "x" * 3_000_000})
    refused_as_json(too_big, 413)
    # Just under the answer limit of 1,000,000 bytes of JSON.
    largest = worker.submit(task["taskId"], {"label": "x" * 999_900})
    assert largest.status_code == 204, largest.text


# -- answers and times -----------------------------------------------------------------------

# (raw JSON body of a submit, a word the refusal's message carries)
BAD_SUBMITS = [
    ('{"answer": {"label": NaN}}', "not a JSON number"),
    ('{"answer": {"label": Infinity}}', "not a JSON number"),
    ('{"answer": {"label": -Infinity}}', "not a JSON number"),
    ('{"answer": {"label": 1e400}}', "JSON cannot represent"),
    ('{"answer": {"label": "\\ud800"}}', "lone surrogate"),
    ('{"answer": {"\\udfff": "x"}}', "lone surrogate"),
    ('{"answer": {"label": ' + "[" * 150 + "]" * 150 + "}}", "nested"),
    ('{"answer": {"label": ' + "[" * 5000 + "]" * 5000 + "}}", "nested"),
    ('{"answer": {"label": ' + "9" * 5000 + "}}", "4300 digits"),
    ('{"answer": {"label": "x"}, "timeSpentInSeconds": NaN}', "not a JSON number"),
    ('{"answer": {"label": "x"}, "timeSpentInSeconds": 1e400}', "JSON cannot represent"),
    ('{"answer": {"label": "x"}, "timeSpentInSeconds": -Infinity}', "not a JSON number"),
    ('{"answer": {"label": "x"}, "timeSpentInSeconds": -1}', "timeSpentInSeconds"),
    ('{"answer": {"label": "x"}, "timeSpentInSeconds": "soon"}', "timeSpentInSeconds"),
    ('{"answer": ["x"]}', "answer"),
]


def test_answers_and_times_json_cannot_carry_are_refused(server: LiveServer, answers: str) -> None:
    worker = PortalClient(server, "answers@example.com")
    task = worker.claim(answers)
    assert task is not None
    url = f"/api/tasks/{task['taskId']}/submit"
    headers = {"X-CSRF-Token": worker.csrf, "Content-Type": "application/json"}
    for body, words in BAD_SUBMITS:
        response = worker.http.post(url, content=body.encode(), headers=headers)
        refused = refused_as_json(response, (400, 422))
        assert words in refused["detail"], (body[:80], refused)
    # None of that was recorded: the task is still the worker's, and a real answer completes
    # the loop with an output file that is JSON.
    assert worker.submit(task["taskId"], {"label": "fine"}).status_code == 204
    name = task["humanLoopName"]
    wait_for(lambda: loop_status(server, name) == "Completed", what="completion")
    described = server.client("sagemaker-a2i-runtime").describe_human_loop(HumanLoopName=name)
    output = read_output(server, described["HumanLoopOutput"]["OutputS3Uri"])
    assert output["humanAnswers"][0]["answerContent"] == {"label": "fine"}
    path = Path(server.data_dir, "s3", *described["HumanLoopOutput"]["OutputS3Uri"][5:].split("/"))
    strict_json(path.read_text())


# -- invalid Unicode and NUL -----------------------------------------------------------------


def test_sign_in_refuses_invalid_text_clearly(server: LiveServer) -> None:
    add_worker(server, "plain@example.com", "plain")
    cases = [
        ('{"email": "pla\\u0000in@example.com", "password": "password123"}', "NUL"),
        ('{"email": "\\ud800plain@example.com", "password": "password123"}', "surrogate"),
        ('{"email": "plain@example.com", "password": "password\\udc00123"}', "surrogate"),
        ('{"email": "plain@example.com", "password": "password\\u0000123"}', "NUL"),
        ('{"email": "pla\\u0007in@example.com", "password": "password123"}', "control"),
    ]
    for body, words in cases:
        response = httpx.post(
            f"{server.url}/api/session",
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        refused = refused_as_json(response, 400)
        assert refused["code"] == "ValidationException" and words in refused["detail"], body
    # The sign-in page says it in words, on a page.
    with httpx.Client(base_url=server.url) as client:
        token = hidden(client.get("/signin").text, "form_token")
        page = client.post(
            "/signin",
            data={"email": "pla\x00in@example.com", "password": PASSWORD, "form_token": token},
        )
        assert page.status_code == 400 and "NUL" in page.text
    # None of those counted as a failed sign-in, and the account still works.
    assert PortalClient(server, "plain@example.com").jobs() == {}


def test_tokens_with_non_ascii_characters_are_refused_not_crashed(server: LiveServer) -> None:
    add_worker(server, "tokens@example.com", "tokens")
    worker = PortalClient(server, "tokens@example.com")
    header = worker.http.post(
        "/api/jobs/none/claim",
        headers={"X-CSRF-Token": b"\xe9t\xe9"},  # type: ignore[dict-item]
    )
    refused_as_json(header, 403)
    form = worker.http.post("/jobs/none/start", data={"csrf_token": "été"})
    assert form.status_code == 403 and "CSRF" in form.text
    with httpx.Client(base_url=server.url) as client:
        client.get("/signin")
        page = client.post(
            "/signin", data={"email": "a@example.com", "password": "p", "form_token": "été"}
        )
        assert page.status_code == 403
    for query in (
        "expires=99999999999&signature=%C3%A9",
        "expires=%C2%B2&signature=00",
        f"expires={'9' * 5000}&signature=00",
    ):
        link = httpx.get(f"{server.url}/objects/bucket/key.txt?{query}")
        assert link.status_code == 403, query
        template = httpx.get(f"{server.url}/human-task-uis/ui/template.liquid?{query}")
        assert template.status_code == 403, query


def test_nul_in_a_portal_path_is_refused_not_crashed(server: LiveServer) -> None:
    add_worker(server, "paths@example.com", "paths")
    worker = PortalClient(server, "paths@example.com")
    for response in (
        worker.post("/api/jobs/a%00b/claim"),
        worker.http.get("/api/tasks/a%00b"),
        worker.post("/api/tasks/a%00b/release"),
    ):
        refused_as_json(response, (400, 404))
    for path in ("/tasks/a%00b", "/tasks/a%00b/frame", "/jobs/a%00b/done"):
        page = worker.http.get(path)
        assert page.status_code in (400, 404), path
        assert page.headers["content-type"].startswith("text/html"), path


def test_sign_up_refuses_invalid_passwords_clearly(server: LiveServer) -> None:
    result = server.cli("workers", "invite", "joiner@example.com", "--group", "joiners")
    assert result.returncode == 0, result.stderr
    path = "/join/" + result.stdout.strip().rsplit("/join/", 1)[1]
    with httpx.Client(base_url=server.url) as client:
        token = hidden(client.get(path).text, "form_token")
        bad = "pass\x00word-long"
        refused = client.post(
            path, data={"password": bad, "password_again": bad, "form_token": token}
        )
        assert refused.status_code == 400 and "NUL" in refused.text
        good = "a-good-password"
        joined = client.post(
            path, data={"password": good, "password_again": good, "form_token": token}
        )
        assert joined.status_code == 303


NFC = "jos\u00e9@example.com"
NFD = unicodedata.normalize("NFD", NFC)


def test_an_email_has_one_form_whatever_its_normalisation_or_case(server: LiveServer) -> None:
    assert NFC != NFD
    add_worker(server, NFD.upper(), "accents")
    listed = server.cli("workers", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    emails = [json.loads(line)["email"] for line in listed.stdout.splitlines()]
    assert NFC in emails and NFD not in emails
    again = server.cli("workers", "add", NFC, "--group", "g", "--password-stdin", input="x" * 9)
    assert again.returncode != 0 and "already exists" in again.stderr
    for typed in (NFC, NFD, NFC.upper(), f"  {NFD}  "):
        assert sign_in(server, typed, PASSWORD).status_code == 200, ascii(typed)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("add", "a\x01b@example.com", "--group", "g", "--password-stdin"), "control"),
        (("add", "\udcff@example.com", "--group", "g", "--password-stdin"), "surrogate"),
        (("add", "ok@example.com", "--group", "\udcff", "--password-stdin"), "surrogate"),
        (("invite", "a\x7fb@example.com", "--group", "g"), "control"),
        (("invite", "ok@example.com", "--group", "\udcff"), "surrogate"),
    ],
)
def test_the_command_line_refuses_invalid_emails_and_groups(
    server: LiveServer, args: tuple[str, ...], words: str
) -> None:
    result = server.cli("workers", *args, input="password123\n")
    assert result.returncode != 0
    assert words in result.stderr and "Traceback" not in result.stderr, result.stderr


# -- emails stored before normalisation ------------------------------------------------------


def test_stored_emails_are_normalised_once_and_collisions_are_left_alone(
    tmp_path: Path, new_database: Any
) -> None:
    url = new_database()
    db = Database(url or f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    other = unicodedata.normalize("NFD", "ana\u00efs@example.com")
    rows = [
        (1, NFD),  # the older account, NFD
        (2, NFC),  # the same address typed NFC: a second account before normalisation
        (3, other),  # NFD and alone: becomes NFC
        (4, "plain@example.com"),
    ]
    try:
        with db.write_engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
            for key, email in rows:
                conn.exec_driver_sql(
                    "INSERT INTO workers (id, worker_id, email, identity_provider, subject, "
                    "created_at, updated_at) VALUES (%s, %s, %s, 'Cognito', %s, 1, 1)"
                    if url
                    else "INSERT INTO workers (id, worker_id, email, identity_provider, subject, "
                    "created_at, updated_at) VALUES (?, ?, ?, 'Cognito', ?, 1, 1)",
                    (key, f"w{key}", email, f"s{key}"),
                )
            conn.exec_driver_sql(
                "INSERT INTO invitations (token_sha256, email, groups, created_at, expires_at) "
                + ("VALUES (%s, %s, '[]', 1, 2)" if url else "VALUES (?, ?, '[]', 1, 2)"),
                ("t" * 64, other),
            )
        db.migrate()
        with db.read_engine.connect() as conn:
            stored = dict(conn.exec_driver_sql("SELECT id, email FROM workers").all())
            invited = conn.exec_driver_sql("SELECT email FROM invitations").scalar_one()
        assert stored == {
            1: NFD,  # its normal form was taken: left as it was, for an administrator
            2: NFC,
            3: unicodedata.normalize("NFC", other),
            4: "plain@example.com",
        }
        assert invited == unicodedata.normalize("NFC", other)
    finally:
        db.close()

"""The requester console signs requesters in through the workforce's OIDC provider
(HANDLOOP_CONSOLE_OIDC_GROUP): the real provider of tests/oidc_support.py, its own login
page in Chromium, the same callback as workers'. Only the group's members get a console
session; no one gets a worker's session from it, and a worker's session from the provider
opens nothing in the console. Password requesters keep working beside it."""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from handloop.settings import Settings
from tests.console_support import PASSWORD, add_requester, csrf_of, form_token
from tests.oidc_support import CLIENT_ID, Certificates, Provider, ProviderUser
from tests.support import LiveServer

GROUP = "console-admins"
# In the console's group (and a worker team's, which the console ignores).
ERIN = ProviderUser("erin", "erin-password", "erin-sub-5", "erin@example.com", [GROUP, "x"])
# Only in a workers' group.
BOB = ProviderUser("bob", "bob-password", "bob-sub-2", "bob@example.com", ["reviewers"])
# In the group, as one comma-separated string.
FRED = ProviderUser("fred", "fred-password", "fred-sub-6", "fred@example.com", f"misc, {GROUP}")


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[tuple[LiveServer, Provider, Certificates]]:
    """A portal whose workforce signs in through the provider, with the console open to GROUP."""
    base = tmp_path_factory.mktemp("console-oidc")
    certificates = Certificates(base / "certs")
    server = LiveServer(
        data_dir=base / "data",
        database_url=database_url,
        extra_env={
            "HANDLOOP_OIDC_CA_FILE": str(certificates.ca_file),
            "HANDLOOP_CONSOLE_OIDC_GROUP": GROUP,
        },
    )
    provider = Provider(
        folder=base / "provider",
        certificates=certificates,
        users=[ERIN, BOB, FRED],
        redirect_uris=[f"{server.url}/oauth2/idpresponse"],
        post_logout_redirect_uris=[f"{server.url}/signedout"],
    )
    with server:
        provider.start()
        try:
            sm = server.client("sagemaker")
            sm.delete_workforce(WorkforceName="default")
            sm.create_workforce(WorkforceName="oidc", OidcConfig=provider.oidc_config())
            yield server, provider, certificates
        finally:
            provider.stop()


@pytest.fixture(scope="module")
def server(setup: tuple[LiveServer, Provider, Certificates]) -> LiveServer:
    return setup[0]


@pytest.fixture(scope="module")
def provider(setup: tuple[LiveServer, Provider, Certificates]) -> Provider:
    return setup[1]


@pytest.fixture(scope="module")
def certificates(setup: tuple[LiveServer, Provider, Certificates]) -> Certificates:
    return setup[2]


def client(certificates: Certificates) -> httpx.Client:
    """A browser-like HTTP client: cookies, and the test CA trusted for the provider."""
    return httpx.Client(
        verify=ssl.create_default_context(cafile=str(certificates.ca_file)), timeout=30
    )


def provider_login(http: httpx.Client, form: httpx.Response, user: ProviderUser) -> httpx.Response:
    """Fill the provider's login form (``form``, the page it showed) as ``user``; the
    portal's answer at the callback (redirects followed up to it, not beyond)."""
    assert form.status_code == 200, form.text
    action = re.search(r'<form method="post" action="([^"]+)"', form.text)
    assert action is not None, form.text
    response = http.post(
        str(form.url.join(action.group(1))),
        data={"username": user.username, "password": user.password},
    )
    for _ in range(10):
        if response.url.path == "/oauth2/idpresponse" or not response.is_redirect:
            return response
        response = http.get(response.url.join(response.headers["location"]))
    raise AssertionError(f"no way back to the portal from {response.url}")


def console_sign_in(server: LiveServer, certificates: Certificates, user: ProviderUser) -> Any:
    """Sign ``user`` in to the console over HTTP; the client and the last answer."""
    http = client(certificates)
    form = http.get(f"{server.url}/console/signin/provider", follow_redirects=True)
    return http, provider_login(http, form, user)


def cookie_names(http: httpx.Client) -> set[str]:
    return {cookie.name for cookie in http.cookies.jar}


def workers(server: LiveServer) -> list[str]:
    listed = server.cli("workers", "list", "--json").stdout.splitlines()
    return [json.loads(line)["email"] for line in listed]


def requesters(server: LiveServer) -> list[str]:
    listed = server.cli("requesters", "list", "--json").stdout.splitlines()
    return [json.loads(line)["email"] for line in listed]


# -- in the browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_a_requester_in_the_group_signs_in_on_the_providers_page_and_out(
    server: LiveServer, provider: Provider, browser: Any
) -> None:
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        # No requester has a password: the console goes straight to the provider.
        page.goto(f"{server.url}/console/flows/none")
        page.wait_for_url(f"{provider.issuer}/interaction/*")
        assert page.text_content("h1") == "Sign in to the test provider"
        page.fill("input[name=username]", ERIN.username)
        page.fill("input[name=password]", ERIN.password)
        page.click("button[type=submit]")
        # Back on the page the sign-in began for, then the overview, signed in.
        page.wait_for_url(f"{server.url}/console/flows/none")
        page.goto(f"{server.url}/console")
        assert page.text_content("h1") == "Flows"
        assert page.text_content(".who") == ERIN.email
        names = {cookie["name"] for cookie in context.cookies()}
        assert "handloop_console" in names
        assert "handloop_session" not in names  # no worker's session from the console's flow

        # Signing out ends the console's session and the provider's.
        page.click("text=Sign out")
        page.wait_for_url(f"{provider.issuer}/session/end*")
        query = parse_qs(urlsplit(page.url).query)
        assert query["client_id"] == [CLIENT_ID]
        page.click("text=Yes, sign me out")
        page.wait_for_url(f"{server.url}/signedout")
        page.goto(f"{server.url}/console")
        page.wait_for_url(f"{provider.issuer}/interaction/*")
        assert page.locator("input[name=password]").count() == 1
    finally:
        context.close()
    assert ERIN.email in requesters(server)
    assert ERIN.email not in workers(server)


@pytest.mark.browser
def test_a_user_outside_the_group_is_refused_with_a_readable_page(
    server: LiveServer, provider: Provider, browser: Any
) -> None:
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/console")
        page.wait_for_url(f"{provider.issuer}/interaction/*")
        page.fill("input[name=username]", BOB.username)
        page.fill("input[name=password]", BOB.password)
        with page.expect_response(lambda r: "/oauth2/idpresponse" in r.url) as answered:
            page.click("button[type=submit]")
        assert answered.value.status == 403
        assert page.text_content("h1") == "The console is not open to you"
        message = page.text_content("[role=alert]") or ""
        assert f"members of its group '{GROUP}'" in message
        assert "reviewers" in message  # the groups the provider gave
        # A way on: signing out of the provider, to sign in as someone else.
        assert page.locator(f"a[href^='{provider.issuer}/session/end']").count() == 1
        names = {cookie["name"] for cookie in context.cookies()}
        assert "handloop_console" not in names
        assert "handloop_session" not in names
        # No worker session either: the portal's API (with the browser's cookies) refuses.
        assert context.request.get(f"{server.url}/api/jobs").status == 401
    finally:
        context.close()
    assert BOB.email not in workers(server)
    assert BOB.email not in requesters(server)


# -- over HTTP -----------------------------------------------------------------------------


def test_the_callback_answers_with_a_page_that_moves_on(
    server: LiveServer, certificates: Certificates
) -> None:
    """The console's cookie is SameSite=Strict: the callback answers with a page of the
    portal's that goes on to the console, where the cookie is sent."""
    http, answer = console_sign_in(server, certificates, FRED)  # groups as a string
    try:
        assert answer.status_code == 200, answer.text
        assert str(answer.url).startswith(f"{server.url}/oauth2/idpresponse")
        assert '<meta http-equiv="refresh" content="0; url=/console">' in answer.text
        assert "handloop_session" not in cookie_names(http)
        overview = http.get(f"{server.url}/console")
        assert overview.status_code == 200
        assert f'<span class="who">{FRED.email}</span>' in overview.text
    finally:
        http.close()


def test_a_worker_session_from_the_provider_does_not_open_the_console(
    server: LiveServer, certificates: Certificates
) -> None:
    http = client(certificates)
    try:
        # Erin, a member of the console's group, signs in to the portal as a worker, even
        # with the console as the page to return to: the sign-in's purpose is the stored
        # one (a worker's), so the answer opens a worker's session and no console one.
        form = http.get(f"{server.url}/signin?next=/console", follow_redirects=True)
        answer = provider_login(http, form, ERIN)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/console"
        assert "handloop_session" in cookie_names(http)
        assert "handloop_console" not in cookie_names(http)
        assert http.get(f"{server.url}/api/jobs").status_code == 200
        # The console does not take the worker's session.
        console = http.get(f"{server.url}/console")
        assert console.status_code == 303
        assert console.headers["location"].startswith("/console/signin")
        assert http.get(f"{server.url}/console/api/exports/x").status_code == 401
    finally:
        http.close()


def test_console_sign_out_sends_the_browser_to_the_providers_logout(
    server: LiveServer, provider: Provider, certificates: Certificates
) -> None:
    http, _ = console_sign_in(server, certificates, ERIN)
    try:
        overview = http.get(f"{server.url}/console")
        out = http.post(
            f"{server.url}/console/signout", data={"csrf_token": csrf_of(overview.text)}
        )
        assert out.status_code == 200
        logout = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', out.text)
        assert logout is not None, out.text
        url = logout.group(1).replace("&amp;", "&")
        assert url.startswith(f"{provider.issuer}/session/end?")
        assert parse_qs(urlsplit(url).query)["post_logout_redirect_uri"] == [
            f"{server.url}/signedout"
        ]
        assert http.get(f"{server.url}/console").status_code == 303  # the session is over
    finally:
        http.close()


def test_password_requesters_keep_working_beside_the_provider(
    server: LiveServer, certificates: Certificates
) -> None:
    add_requester(server, "pat@example.com")
    try:
        http = client(certificates)
        try:
            # With a password requester, the sign-in page offers both ways.
            page = http.get(f"{server.url}/console/signin")
            assert page.status_code == 200
            assert "Sign in with your organisation's provider" in page.text
            assert 'href="/console/signin/provider?next=/console"' in page.text
            signed_in = http.post(
                f"{server.url}/console/signin",
                data={
                    "email": "pat@example.com",
                    "password": PASSWORD,
                    "form_token": form_token(page.text),
                    "next": "/console",
                },
            )
            assert signed_in.status_code == 303, signed_in.text
            overview = http.get(f"{server.url}/console")
            assert '<span class="who">pat@example.com</span>' in overview.text
            # A password requester's sign-out stays on the console.
            out = http.post(
                f"{server.url}/console/signout", data={"csrf_token": csrf_of(overview.text)}
            )
            assert out.status_code == 303
            assert out.headers["location"] == "/console/signin"
        finally:
            http.close()
    finally:
        server.cli("requesters", "remove", "pat@example.com")


def test_a_provider_requester_has_no_password(
    server: LiveServer, certificates: Certificates
) -> None:
    http, _ = console_sign_in(server, certificates, ERIN)
    http.close()
    add_requester(server, "pat@example.com")  # so the password form is shown
    try:
        with httpx.Client(base_url=server.url, timeout=30) as anonymous:
            page = anonymous.get("/console/signin")
            refused = anonymous.post(
                "/console/signin",
                data={
                    "email": ERIN.email,
                    "password": "any password at all",
                    "form_token": form_token(page.text),
                    "next": "/console",
                },
            )
            assert refused.status_code == 401
            assert "handloop_console" not in refused.headers.get("set-cookie", "")
    finally:
        server.cli("requesters", "remove", "pat@example.com")


def test_the_group_setting_is_one_group_name() -> None:
    assert Settings(console_oidc_group="").console_oidc_group is None
    assert Settings(console_oidc_group=" admins ").console_oidc_group == "admins"
    for bad in ("a,b", "x" * 64):
        with pytest.raises(ValueError, match="HANDLOOP_CONSOLE_OIDC_GROUP"):
            Settings(console_oidc_group=bad)

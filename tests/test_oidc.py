"""OIDC sign-in against a real provider: panva's oidc-provider (tests/oidc/provider.mjs) run
by Node over TLS with a certificate authority this module makes, trusted by the server
through HANDLOOP_OIDC_CA_FILE. Workers sign in on the provider's own login form, in
Chromium and over HTTP; their ``sagemaker:groups`` decide their teams; their answers carry
the provider's issuer and subject. What no honest provider sends (tampered, expired,
wrong-audience tokens, a replayed nonce) comes from a TLS stub of the token and JWKS
endpoints, with tokens signed by a key the test holds."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from handloop.services.oidc import SignInRefused, groups_of
from handloop.settings import Settings
from tests.oidc_support import (
    CLIENT_ID,
    Certificates,
    Provider,
    ProviderUser,
    TokenStub,
)
from tests.portal_support import read_output, wait_for
from tests.support import LiveServer, free_port

TEMPLATE = """<crowd-form>
  <p class="item">{{ task.input.item }}</p>
  <select name="verdict"><option value="yes">Yes</option><option value="no">No</option></select>
</crowd-form>"""
WORKFORCE = "oidc-workforce"
TEAM_GROUP = "reviewers"
ALICE = ProviderUser(
    "alice", "alice-password", "alice-sub-1", "alice@example.com", [TEAM_GROUP, "x"]
)
# Not in the team's group.
BOB = ProviderUser("bob", "bob-password", "bob-sub-2", "bob@example.com", ["other-team"])
# Her groups as one comma-separated string, the team's among them.
CAROL = ProviderUser(
    "carol", "carol-password", "carol-sub-3", "carol@example.com", "misc, reviewers"
)
DAVE = ProviderUser("dave", "dave-password", "dave-sub-4", "dave@example.com", [TEAM_GROUP])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("oidc-certs"))


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str | None,
    certificates: Certificates,
) -> Iterator[tuple[LiveServer, Provider]]:
    """A portal whose workforce signs in through the provider, a team of TEAM_GROUP, and a
    flow with loops waiting."""
    base = tmp_path_factory.mktemp("oidc")
    server = LiveServer(
        data_dir=base / "data",
        database_url=database_url,
        extra_env={"HANDLOOP_OIDC_CA_FILE": str(certificates.ca_file)},
    )
    provider = Provider(
        folder=base / "provider",
        certificates=certificates,
        users=[ALICE, BOB, CAROL, DAVE],
        redirect_uris=[f"{server.url}/oauth2/idpresponse"],
        post_logout_redirect_uris=[f"{server.url}/signedout"],
    )
    with server:
        provider.start()
        try:
            sm = server.client("sagemaker")
            sm.delete_workforce(WorkforceName="default")
            sm.create_workforce(WorkforceName=WORKFORCE, OidcConfig=provider.oidc_config())
            team = sm.create_workteam(
                WorkteamName="oidc-team",
                Description="reviewers signed in through the provider",
                MemberDefinitions=[{"OidcMemberDefinition": {"Groups": [TEAM_GROUP]}}],
            )["WorkteamArn"]
            ui = sm.create_human_task_ui(
                HumanTaskUiName="oidc-ui", UiTemplate={"Content": TEMPLATE}
            )["HumanTaskUiArn"]
            flow = sm.create_flow_definition(
                FlowDefinitionName="oidc-flow",
                RoleArn="arn:aws:iam::123456789012:role/a2i",
                HumanLoopConfig={
                    "WorkteamArn": team,
                    "HumanTaskUiArn": ui,
                    "TaskTitle": "Review items",
                    "TaskDescription": "Say yes or no",
                    "TaskCount": 1,
                },
                OutputConfig={"S3OutputPath": "s3://oidc-outputs/out"},
            )["FlowDefinitionArn"]
            a2i = server.client("sagemaker-a2i-runtime")
            for n in range(6):
                a2i.start_human_loop(
                    HumanLoopName=f"item-{n}",
                    FlowDefinitionArn=flow,
                    HumanLoopInput={"InputContent": json.dumps({"item": f"item {n}"})},
                )
            yield server, provider
        finally:
            provider.stop()


@pytest.fixture(scope="module")
def server(setup: tuple[LiveServer, Provider]) -> LiveServer:
    return setup[0]


@pytest.fixture(scope="module")
def provider(setup: tuple[LiveServer, Provider]) -> Provider:
    return setup[1]


@pytest.fixture(scope="module")
def stub(certificates: Certificates) -> Iterator[TokenStub]:
    s = TokenStub(certificates)
    yield s
    s.stop()


def use_config(server: LiveServer, provider: Provider, **overrides: str) -> None:
    server.client("sagemaker").update_workforce(
        WorkforceName=WORKFORCE, OidcConfig=provider.oidc_config(**overrides)
    )


@pytest.fixture
def via_stub(server: LiveServer, provider: Provider, stub: TokenStub) -> Iterator[TokenStub]:
    """The workforce's token, JWKS and userinfo endpoints are the stub's for one test."""
    stub.id_token = ""
    stub.userinfo = None
    stub.broken.clear()
    stub.token_requests.clear()
    use_config(
        server,
        provider,
        TokenEndpoint=f"{stub.url}/token",
        JwksUri=f"{stub.url}/jwks",
        UserInfoEndpoint=f"{stub.url}/userinfo",
    )
    yield stub
    use_config(server, provider)


def trust(certificates: Certificates) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificates.ca_file))


def client(certificates: Certificates) -> httpx.Client:
    """A browser-like HTTP client: cookies, and the test CA trusted for the provider."""
    return httpx.Client(verify=trust(certificates), timeout=30)


def sign_in(server: LiveServer, certificates: Certificates, user: ProviderUser) -> httpx.Client:
    """Sign ``user`` in over HTTP through the provider's login form; the signed-in client."""
    http = client(certificates)
    form = http.get(f"{server.url}/signin", follow_redirects=True)
    assert form.status_code == 200, form.text
    action = re.search(r'<form method="post" action="([^"]+)"', form.text)
    assert action is not None, form.text
    home = http.post(
        str(form.url.join(action.group(1))),
        data={"username": user.username, "password": user.password},
        follow_redirects=True,
    )
    assert home.status_code == 200, home.text
    assert str(home.url) == f"{server.url}/", home.url
    return http


def csrf_of(http: httpx.Client, server: LiveServer) -> str:
    page = http.get(f"{server.url}/")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found is not None, page.text
    return found.group(1)


def jobs(http: httpx.Client, server: LiveServer) -> dict[str, int]:
    response = http.get(f"{server.url}/api/jobs")
    assert response.status_code == 200, response.text
    return {j["flowDefinitionName"]: j["waiting"] for j in response.json()}


def begin(http: httpx.Client, server: LiveServer) -> dict[str, str]:
    """Start a sign-in; the parameters of the redirect to the authorization endpoint."""
    response = http.get(f"{server.url}/signin")
    assert response.status_code == 303, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def answer(http: httpx.Client, server: LiveServer, state: str, **extra: str) -> httpx.Response:
    """The provider's answer to the portal, as the browser would bring it back."""
    return http.get(
        f"{server.url}/oauth2/idpresponse", params={"code": "stub-code", "state": state, **extra}
    )


def claims_for(provider: Provider, nonce: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "sub": DAVE.sub,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 600,
        "nonce": nonce,
        "email": DAVE.email,
        "sagemaker:groups": [TEAM_GROUP],
    }
    claims.update(changes)
    return claims


def signed_in(response: httpx.Response) -> bool:
    return response.status_code == 303 and "handloop_session" in response.headers.get(
        "set-cookie", ""
    )


# -- sign-in through the provider --------------------------------------------------------------


@pytest.mark.browser
def test_a_worker_signs_in_on_the_providers_page_and_submits_as_that_identity(
    server: LiveServer, provider: Provider, browser: Any
) -> None:
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/")
        # The portal sent the browser to the provider's own login form.
        page.wait_for_url(f"{provider.issuer}/interaction/*")
        assert page.text_content("h1") == "Sign in to the test provider"
        page.fill("input[name=username]", ALICE.username)
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        assert "Wrong username or password" in page.text_content("[role=alert]")
        page.fill("input[name=username]", ALICE.username)
        page.fill("input[name=password]", ALICE.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        assert page.text_content(".who") == ALICE.email
        page.wait_for_selector("text=Review items")
        page.click("text=Start working")
        page.wait_for_url("**/tasks/*")
        item = page.frame_locator("#task-frame").locator(".item").text_content()
        page.frame_locator("#task-frame").locator("select[name=verdict]").select_option("no")
        task_url = page.url
        page.click("#submit")
        page.wait_for_url(lambda url: url != task_url)
    finally:
        context.close()

    a2i = server.client("sagemaker-a2i-runtime")
    assert item is not None
    name = "item-" + item.split()[-1]
    described = wait_for(
        lambda: (
            (d := a2i.describe_human_loop(HumanLoopName=name))["HumanLoopStatus"] == "Completed"
            and d
        ),
        what="the loop to complete",
    )
    output = read_output(server, described["HumanLoopOutput"]["OutputS3Uri"])
    [human] = output["humanAnswers"]
    assert human["answerContent"] == {"verdict": "no"}
    assert human["workerMetadata"]["identityData"] == {
        "identityProviderType": "Oidc",
        "issuer": provider.issuer,
        "sub": ALICE.sub,
    }
    listed = server.cli("workers", "list", "--json").stdout.splitlines()
    [worker] = [w for w in map(json.loads, listed) if w["email"] == ALICE.email]
    assert worker["workerId"] == human["workerId"]
    assert worker["groups"] == sorted(ALICE.groups)  # the claim's groups, as the worker's


def test_groups_from_the_claim_decide_the_teams(
    server: LiveServer, certificates: Certificates
) -> None:
    alice = sign_in(server, certificates, ALICE)  # groups as a list
    carol = sign_in(server, certificates, CAROL)  # groups as "misc, reviewers"
    bob = sign_in(server, certificates, BOB)  # not in the team's group
    try:
        assert jobs(alice, server).get("oidc-flow", 0) > 0
        assert jobs(carol, server).get("oidc-flow", 0) > 0
        assert jobs(bob, server) == {}
        home = bob.get(f"{server.url}/")
        assert "Review items" not in home.text
        claim = bob.post(
            f"{server.url}/api/jobs/oidc-flow/claim",
            headers={"X-CSRF-Token": csrf_of(bob, server)},
        )
        assert claim.status_code == 404, claim.text
    finally:
        for http in (alice, carol, bob):
            http.close()


def test_an_oidc_workers_answer_carries_the_providers_issuer(
    server: LiveServer, provider: Provider, certificates: Certificates
) -> None:
    http = sign_in(server, certificates, CAROL)
    try:
        headers = {"X-CSRF-Token": csrf_of(http, server)}
        claimed = http.post(f"{server.url}/api/jobs/oidc-flow/claim", headers=headers)
        assert claimed.status_code == 200, claimed.text
        task = claimed.json()["task"]
        done = http.post(
            f"{server.url}/api/tasks/{task['taskId']}/submit",
            json={"answer": {"verdict": "yes"}},
            headers=headers,
        )
        assert done.status_code == 204, done.text
    finally:
        http.close()
    name = "item-" + task["input"]["item"].split()[-1]
    a2i = server.client("sagemaker-a2i-runtime")
    described = wait_for(
        lambda: (
            (d := a2i.describe_human_loop(HumanLoopName=name))["HumanLoopStatus"] == "Completed"
            and d
        ),
        what="the loop to complete",
    )
    output = read_output(server, described["HumanLoopOutput"]["OutputS3Uri"])
    identity = output["humanAnswers"][0]["workerMetadata"]["identityData"]
    assert identity == {"identityProviderType": "Oidc", "issuer": provider.issuer, "sub": CAROL.sub}


def test_passwords_and_sign_up_links_are_closed_while_the_provider_signs_in(
    server: LiveServer, provider: Provider
) -> None:
    refused = httpx.post(
        f"{server.url}/api/session", json={"email": ALICE.email, "password": ALICE.password}
    )
    assert refused.status_code == 403
    assert "OIDC" in refused.json()["detail"]
    join = httpx.get(f"{server.url}/join/some-token")
    assert join.status_code == 403
    assert "sign-up links are not used" in join.text


def test_the_authorization_request_has_pkce_state_nonce_scope_and_extra_params(
    server: LiveServer, provider: Provider, certificates: Certificates
) -> None:
    use_config(
        server,
        provider,
        Scope="openid email",
        AuthenticationRequestExtraParams={"prompt": "login", "state": "attacker"},
    )
    try:
        with client(certificates) as http:
            params = begin(http, server)
    finally:
        use_config(server, provider)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"{server.url}/oauth2/idpresponse"
    assert params["scope"] == "openid email"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["prompt"] == "login"  # an extra parameter is passed on...
    assert params["state"] != "attacker"  # ...but cannot replace the flow's own
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32


# -- what the portal refuses ---------------------------------------------------------------------


def test_a_valid_token_with_pkce_and_client_secret_post_signs_in(
    server: LiveServer, provider: Provider, certificates: Certificates, via_stub: TokenStub
) -> None:
    """The control for the refusals below: the same stub with an honest token signs in."""
    with client(certificates) as http:
        params = begin(http, server)
        via_stub.id_token = via_stub.sign(claims_for(provider, params["nonce"]))
        response = answer(http, server, params["state"], iss=provider.issuer)
        assert signed_in(response), response.text
    [request] = via_stub.token_requests
    assert request["grant_type"] == ["authorization_code"]
    assert request["client_id"] == [CLIENT_ID]
    assert request["client_secret"] == [provider.oidc_config()["ClientSecret"]]
    assert request["redirect_uri"] == [f"{server.url}/oauth2/idpresponse"]
    verifier = request["code_verifier"][0]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == params["code_challenge"]


def _foreign_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda stub, provider, nonce: TokenStub.tamper(
                stub.sign(claims_for(provider, nonce)), sub=BOB.sub
            ),
            "signature does not verify",
        ),
        (
            lambda stub, provider, nonce: stub.sign(
                claims_for(provider, nonce), key=_foreign_key()
            ),
            "signature does not verify",
        ),
        (
            lambda stub, provider, nonce: stub.sign(
                claims_for(
                    provider, nonce, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600
                )
            ),
            "expired",
        ),
        (
            lambda stub, provider, nonce: stub.sign(
                claims_for(provider, nonce, aud="someone-elses-client")
            ),
            "another client",
        ),
        (
            lambda stub, provider, nonce: stub.sign(
                claims_for(provider, nonce, iss="https://127.0.0.1:1/other")
            ),
            "another identity provider",
        ),
        (
            lambda stub, provider, nonce: TokenStub.unsigned(claims_for(provider, nonce)),
            "not accepted",
        ),
    ],
    ids=["tampered", "foreign-key", "expired", "wrong-audience", "wrong-issuer", "alg-none"],
)
def test_a_bad_id_token_is_refused(
    server: LiveServer,
    provider: Provider,
    certificates: Certificates,
    via_stub: TokenStub,
    make: Any,
    words: str,
) -> None:
    with client(certificates) as http:
        params = begin(http, server)
        via_stub.id_token = make(via_stub, provider, params["nonce"])
        response = answer(http, server, params["state"])
        assert response.status_code == 401, response.text
        assert not signed_in(response)
        assert words in response.text
        assert "Sign in again" in response.text
        # No session came of it.
        assert http.get(f"{server.url}/api/jobs").status_code == 401


def test_a_replayed_state_is_refused(
    server: LiveServer, provider: Provider, certificates: Certificates, via_stub: TokenStub
) -> None:
    with client(certificates) as http:
        params = begin(http, server)
        via_stub.id_token = via_stub.sign(claims_for(provider, params["nonce"]))
        assert signed_in(answer(http, server, params["state"]))
        # The same answer again, with the state cookie the browser had.
        http.cookies.set("handloop_oidc", params["state"], path="/oauth2/idpresponse")
        replayed = answer(http, server, params["state"])
    assert replayed.status_code == 401, replayed.text
    assert "used already or has expired" in replayed.text
    assert len(via_stub.token_requests) == 1  # the replay never reached the provider


def test_a_state_from_another_browser_is_refused(
    server: LiveServer, provider: Provider, certificates: Certificates, via_stub: TokenStub
) -> None:
    with client(certificates) as victim, client(certificates) as attacker:
        params = begin(attacker, server)
        via_stub.id_token = via_stub.sign(claims_for(provider, params["nonce"]))
        response = answer(victim, server, params["state"])
    assert response.status_code == 403, response.text
    assert "not started in this browser" in response.text
    assert via_stub.token_requests == []


def test_a_replayed_nonce_is_refused(
    server: LiveServer, provider: Provider, certificates: Certificates, via_stub: TokenStub
) -> None:
    with client(certificates) as http:
        first = begin(http, server)
        token = via_stub.sign(claims_for(provider, first["nonce"]))
        via_stub.id_token = token
        assert signed_in(answer(http, server, first["state"]))
        # A second sign-in is answered with the first one's token (its nonce).
        second = begin(http, server)
        response = answer(http, server, second["state"])
    assert response.status_code == 401, response.text
    assert "nonce is not this sign-in" in response.text


def test_userinfo_about_someone_else_is_refused(
    server: LiveServer, provider: Provider, certificates: Certificates, via_stub: TokenStub
) -> None:
    via_stub.userinfo = {"sub": BOB.sub, "sagemaker:groups": [TEAM_GROUP]}
    with client(certificates) as http:
        params = begin(http, server)
        via_stub.id_token = via_stub.sign(claims_for(provider, params["nonce"]))
        response = answer(http, server, params["state"])
    assert response.status_code == 401, response.text
    assert "another subject" in response.text


def test_the_providers_error_is_shown(
    server: LiveServer, provider: Provider, certificates: Certificates
) -> None:
    with client(certificates) as http:
        params = begin(http, server)
        response = http.get(
            f"{server.url}/oauth2/idpresponse",
            params={
                "state": params["state"],
                "error": "access_denied",
                "error_description": "<b>User cancelled</b>",
            },
        )
    assert response.status_code == 403
    assert "did not sign you in: &lt;b&gt;User cancelled&lt;/b&gt;" in response.text


def test_a_disabled_oidc_worker_cannot_sign_in(
    server: LiveServer, provider: Provider, certificates: Certificates, via_stub: TokenStub
) -> None:
    user_sub = "disabled-sub-9"
    with client(certificates) as http:
        params = begin(http, server)
        via_stub.id_token = via_stub.sign(
            claims_for(provider, params["nonce"], sub=user_sub, email="gone@example.com")
        )
        assert signed_in(answer(http, server, params["state"]))
    assert server.cli("workers", "disable", "gone@example.com").returncode == 0
    with client(certificates) as http:
        params = begin(http, server)
        via_stub.id_token = via_stub.sign(
            claims_for(provider, params["nonce"], sub=user_sub, email="gone@example.com")
        )
        response = answer(http, server, params["state"])
    assert response.status_code == 401, response.text
    assert "disabled" in response.text


# -- the provider down or answering garbage ---------------------------------------------------


def test_the_provider_down_gives_a_clear_page(
    server: LiveServer, provider: Provider, certificates: Certificates
) -> None:
    closed = free_port()  # nothing listens there
    use_config(server, provider, TokenEndpoint=f"https://127.0.0.1:{closed}/token")
    try:
        with client(certificates) as http:
            params = begin(http, server)
            response = answer(http, server, params["state"])
    finally:
        use_config(server, provider)
    assert response.status_code == 503, response.text
    assert "cannot be reached" in response.text
    assert "Sign in again" in response.text


@pytest.mark.parametrize(
    ("path", "status", "body", "words"),
    [
        ("/token", 200, b"<html>not json</html>", "not a JSON object"),
        ("/token", 500, b'{"error": "server_error"}', "HTTP 500"),
        ("/token", 400, b'{"error": "invalid_client"}', "invalid_client"),
        ("/jwks", 200, b'{"no": "keys"}', "without a list of keys"),
        ("/jwks", 200, b"garbage", "not a JSON object"),
    ],
    ids=["token-html", "token-500", "token-invalid-client", "jwks-no-keys", "jwks-garbage"],
)
def test_a_provider_answering_garbage_gives_a_clear_page(
    server: LiveServer,
    provider: Provider,
    certificates: Certificates,
    via_stub: TokenStub,
    path: str,
    status: int,
    body: bytes,
    words: str,
) -> None:
    via_stub.broken[path] = (status, body)
    # Keys are cached per JWKS URL: a URL of its own makes the server fetch them.
    use_config(
        server,
        provider,
        TokenEndpoint=f"{via_stub.url}/token",
        JwksUri=f"{via_stub.url}/jwks?case={path}{status}{len(body)}",
        UserInfoEndpoint=f"{via_stub.url}/userinfo",
    )
    with client(certificates) as http:
        params = begin(http, server)
        via_stub.id_token = via_stub.sign(claims_for(provider, params["nonce"]))
        response = answer(http, server, params["state"])
    assert response.status_code == 502, response.text
    assert words in response.text
    assert "identity provider" in response.text


def test_a_provider_whose_certificate_is_not_trusted_gives_a_clear_page(
    server: LiveServer,
    provider: Provider,
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    """The stub's certificate comes from a CA HANDLOOP_OIDC_CA_FILE does not hold."""
    untrusted = TokenStub(Certificates(tmp_path / "other-ca"))
    use_config(server, provider, TokenEndpoint=f"{untrusted.url}/token")
    try:
        with client(certificates) as http:
            params = begin(http, server)
            response = answer(http, server, params["state"])
    finally:
        use_config(server, provider)
        untrusted.stop()
    assert response.status_code == 502, response.text
    assert "HANDLOOP_OIDC_CA_FILE" in response.text


# -- sign-out ------------------------------------------------------------------------------------


@pytest.mark.browser
def test_sign_out_ends_the_portal_session_and_the_providers(
    server: LiveServer, provider: Provider, browser: Any
) -> None:
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/signin")
        page.wait_for_url(f"{provider.issuer}/interaction/*")
        page.fill("input[name=username]", DAVE.username)
        page.fill("input[name=password]", DAVE.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.click("text=Sign out")
        # The provider's logout endpoint, told who the client is and where to come back.
        page.wait_for_url(f"{provider.issuer}/session/end*")
        query = parse_qs(urlsplit(page.url).query)
        assert query["client_id"] == [CLIENT_ID]
        assert query["post_logout_redirect_uri"] == [f"{server.url}/signedout"]
        page.click("text=Yes, sign me out")
        page.wait_for_url(f"{server.url}/signedout")
        assert page.text_content("h1") == "You are signed out"
        # Both sessions are over: the portal sends the browser to sign in, and the provider
        # asks for the password again instead of signing it straight back in.
        page.goto(f"{server.url}/")
        page.wait_for_url(f"{provider.issuer}/interaction/*")
        assert page.locator("input[name=password]").count() == 1
    finally:
        context.close()


def test_sign_out_sends_the_browser_to_the_logout_endpoint(
    server: LiveServer, provider: Provider, certificates: Certificates
) -> None:
    http = sign_in(server, certificates, ALICE)
    try:
        out = http.post(f"{server.url}/signout", data={"csrf_token": csrf_of(http, server)})
        assert out.status_code == 200
        logout = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', out.text)
        assert logout is not None, out.text
        url = logout.group(1).replace("&amp;", "&")
        assert url.startswith(f"{provider.issuer}/session/end?")
        query = parse_qs(urlsplit(url).query)
        assert query["client_id"] == [CLIENT_ID]
        assert query["post_logout_redirect_uri"] == [f"{server.url}/signedout"]
        assert query["logout_uri"] == [f"{server.url}/signedout"]
        # The portal's session is over.
        assert http.get(f"{server.url}/api/jobs").status_code == 401
    finally:
        http.close()


# -- pieces ----------------------------------------------------------------------------------


def test_groups_are_a_list_or_a_comma_separated_string() -> None:
    assert groups_of({"sagemaker:groups": ["b", "a", "a"]}) == ["a", "b"]
    assert groups_of({"sagemaker:groups": "a, b ,,c"}) == ["a", "b", "c"]
    assert groups_of({"sagemaker-groups": "solo"}) == ["solo"]
    assert groups_of({"email": "x@example.com"}) is None
    with pytest.raises(SignInRefused, match="neither a list nor a string"):
        groups_of({"sagemaker:groups": {"a": 1}})
    with pytest.raises(SignInRefused, match="at most 10"):
        groups_of({"sagemaker:groups": [f"g{n}" for n in range(11)]})
    with pytest.raises(SignInRefused, match="longer than 63"):
        groups_of({"sagemaker:groups": ["x" * 64]})


def test_the_ca_file_setting_is_checked_at_start(tmp_path: Path) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(ValueError, match="holds no PEM certificate"):
        Settings(oidc_ca_file=not_pem)
    with pytest.raises(ValueError, match="cannot be read"):
        Settings(oidc_ca_file=tmp_path / "missing.pem")
    assert Settings(oidc_ca_file="").oidc_ca_file is None

"""Sign-in through the workforce's OIDC provider, as A2I's private workforces do it.

A workforce created with ``OidcConfig`` replaces the built-in password sign-in: the portal
sends the worker to the provider's authorization endpoint (authorization code flow with
PKCE S256, ``state`` and ``nonce``), and the provider sends them back to
``/oauth2/idpresponse`` (the path A2I's portals use) with a code. The server then, over TLS
that trusts the system store plus ``HANDLOOP_OIDC_CA_FILE``:

* exchanges the code at the token endpoint, with ``client_id`` and ``client_secret`` in the
  form body (``client_secret_post``, what A2I sends);
* verifies the ID token against the provider's JWKS with PyJWT: signature (asymmetric
  algorithms only, so a token "signed" with ``none`` or with the client secret cannot pass),
  issuer, audience (the client id), expiry, and the nonce of this sign-in;
* reads the userinfo endpoint when the config has one;
* finds or creates the worker by (issuer, subject) and gives them the groups of the
  ``sagemaker:groups`` claim, which decide their teams exactly as Cognito groups do
  (``domain.records.in_team`` matches them against each team's
  ``OidcMemberDefinition.Groups``).

A sign-in under way is a database row keyed by the hash of its state, deleted as it is
used: a replayed answer finds nothing, and every server process on the database shares the
rows. The row also says whom it signs in (``purpose``): a worker to the portal, or a
requester to the console (``HANDLOOP_CONSOLE_OIDC_GROUP``; ``services.requesters`` finds
the requester); the callback is the same for both. Provider failures are
``ProviderUnavailable`` (503) or ``ProviderAnswerInvalid`` (502); a token that does not
verify is ``SignInRefused`` (401): pages show each in words.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from handloop.domain.json_values import check_text
from handloop.domain.records import Worker
from handloop.errors import HandloopError, ValidationError
from handloop.services.clock import Clock
from handloop.services.lifecycle import revoke_outside_teams
from handloop.services.workers import check_email, load_worker, token_digest
from handloop.services.workforces import Workforces
from handloop.store import Database
from handloop.store.tables import oidc_sign_ins, worker_groups
from handloop.store.tables import workers as workers_table

log = logging.getLogger("handloop.oidc")

OIDC = "Oidc"  # A2I's identityProviderType for an OIDC workforce's workers
CALLBACK_PATH = "/oauth2/idpresponse"  # where A2I's portals take the provider's answer
SIGNED_OUT_PATH = "/signedout"
WORKER = "worker"  # the purposes of a sign-in: the portal's worker, or the console's requester
CONSOLE = "console"
PURPOSES = (WORKER, CONSOLE)
SIGN_IN_SECONDS = 600  # from the redirect to the provider until its answer must be back
HTTP_SECONDS = 10.0  # each call to the provider, from connecting to the last byte
JWKS_SECONDS = 300.0  # keys are fetched again after this, or at once for an unknown key id
LEEWAY_SECONDS = 60  # clock difference allowed between the provider and this server
# Asymmetric algorithms only: the provider's JWKS holds public keys; "none" and HMAC with
# the client secret are refused, as are keys of the wrong type for the header's algorithm.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# A2I reads each claim under either spelling.
GROUP_CLAIMS = ("sagemaker:groups", "sagemaker-groups")
SUBJECT_CLAIMS = ("sagemaker:sub", "sagemaker-sub")
MAX_GROUPS = 10  # A2I's quotas: 10 groups per worker, 63 characters per group name
MAX_GROUP_LENGTH = 63
# The parameters the flow's security rests on: AuthenticationRequestExtraParams cannot set them.
_OWN_PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    }
)


class ProviderUnavailable(HandloopError):
    """The identity provider could not be reached (down, refusing, too slow)."""

    code = "ServiceUnavailable"
    status = 503


class ProviderAnswerInvalid(HandloopError):
    """The identity provider answered, but not with what OIDC says it must."""

    code = "BadGateway"
    status = 502


class SignInRefused(HandloopError):
    """The provider's answer does not sign this browser in: a used or unknown state, an ID
    token that does not verify, a disabled account. Not ``NotSignedIn``: the portal
    answers that on pages with a redirect to sign-in, which would go round in a circle."""

    code = "AccessDeniedException"
    status = 401


@dataclass(frozen=True)
class Provider:
    """A workforce's ``OidcConfig``, as the sign-in uses it."""

    client_id: str
    client_secret: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    logout_endpoint: str | None
    scope: str
    extra_params: dict[str, str]

    @classmethod
    def of(cls, config: dict[str, Any]) -> Provider | None:
        """The provider of a workforce's config, or None when it signs in with passwords."""
        oidc = config.get("OidcConfig")
        if not oidc:
            return None
        return cls(
            client_id=oidc["ClientId"],
            client_secret=oidc["ClientSecret"],
            issuer=oidc["Issuer"],
            authorization_endpoint=oidc["AuthorizationEndpoint"],
            token_endpoint=oidc["TokenEndpoint"],
            jwks_uri=oidc["JwksUri"],
            userinfo_endpoint=oidc.get("UserInfoEndpoint") or None,
            logout_endpoint=oidc.get("LogoutEndpoint") or None,
            # A2I's default: the scope that makes the request an OpenID Connect one.
            scope=oidc.get("Scope") or "openid",
            extra_params={
                str(k): str(v)
                for k, v in (oidc.get("AuthenticationRequestExtraParams") or {}).items()
            },
        )

    @property
    def host(self) -> str:
        return urlsplit(self.issuer).netloc or self.issuer


@dataclass(frozen=True)
class Started:
    """A sign-in sent to the provider: where the browser goes, and the state it must bring
    back (the portal binds it to the browser with a cookie)."""

    url: str
    state: str


@dataclass(frozen=True)
class Pending:
    """A sign-in the provider's answer came back for: whom it is for and where it returns."""

    purpose: str
    next_path: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """Whom the provider's verified answer names: issuer, subject (``sagemaker:sub`` when
    the provider sends it), email (None when absent or not an address) and groups (None
    when neither group claim is there)."""

    issuer: str
    subject: str
    email: str | None
    groups: list[str] | None


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The certificates calls to the provider trust: the system store, plus the PEM file of
    ``HANDLOOP_OIDC_CA_FILE`` (an internal CA, or the tests' own)."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def _same(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(
        expected.encode(), given.encode("utf-8", "surrogatepass")
    )


def groups_of(claims: dict[str, Any]) -> list[str] | None:
    """The groups of ``sagemaker:groups`` (or ``sagemaker-groups``): a list of names, or
    one string of comma-separated names; None when neither claim is there."""
    for name in GROUP_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, str):
            items: list[Any] = value.split(",")
        elif isinstance(value, list):
            items = value
        else:
            raise SignInRefused(
                f"The identity provider's {name} claim is neither a list nor a string; "
                "ask your administrator to fix the provider's configuration."
            )
        groups = sorted({str(item).strip() for item in items if str(item).strip()})
        for group in groups:
            check_text(group, "A group name")
            if len(group) > MAX_GROUP_LENGTH:
                raise SignInRefused(
                    f"The group '{group[:80]}' in the identity provider's {name} claim is "
                    f"longer than {MAX_GROUP_LENGTH} characters (A2I's limit)."
                )
        if len(groups) > MAX_GROUPS:
            raise SignInRefused(
                f"The identity provider puts you in {len(groups)} groups; a worker can be in "
                f"at most {MAX_GROUPS} (A2I's limit). Ask your administrator."
            )
        return groups
    return None


class OidcSignIns:
    """Sign-ins through the workforce's OIDC provider (see the module's docstring)."""

    # The workforce's config is read at most this often (and at once after a change made
    # through this process), as the portal's address check does.
    CACHE_SECONDS = 5.0

    def __init__(
        self,
        db: Database,
        clock: Clock,
        workforces: Workforces,
        *,
        public_url: str,
        ca_file: Path | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._workforces = workforces
        self.redirect_uri = public_url.rstrip("/") + CALLBACK_PATH
        self.signed_out_uri = public_url.rstrip("/") + SIGNED_OUT_PATH
        self._tls = tls_context(ca_file)
        self._provider: Provider | None = None
        self._loaded = 0.0
        self._generation = -1
        self._jwks: dict[str, tuple[float, dict[str, Any]]] = {}

    # -- the workforce's provider --------------------------------------------------------------

    async def provider(self) -> Provider | None:
        """The provider the workforce signs in with, or None for built-in sign-in."""
        now = time.monotonic()
        generation = self._workforces.generation
        if now - self._loaded > self.CACHE_SECONDS or generation != self._generation:
            forces = await self._workforces.list_all()
            found = [p for p in (Provider.of(f.config) for f in forces) if p is not None]
            self._provider = found[0] if found else None
            self._loaded, self._generation = now, generation
        return self._provider

    async def required(self) -> Provider:
        provider = await self.provider()
        if provider is None:
            raise ValidationError(
                "This portal signs workers in with passwords: its workforce has no OidcConfig."
            )
        return provider

    # -- to the provider and back ---------------------------------------------------------------

    async def begin(self, next_path: str, purpose: str = WORKER) -> Started:
        """Start a sign-in for ``purpose`` (``WORKER`` or ``CONSOLE``) that returns to
        ``next_path`` (a same-site path): its state, nonce and PKCE verifier are kept for
        ``SIGN_IN_SECONDS``; the URL takes the browser to the provider's authorization
        endpoint."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown sign-in purpose {purpose!r}")
        provider = await self.required()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43-128
        now = self._clock()

        def op(conn: Connection) -> None:
            conn.execute(delete(oidc_sign_ins).where(oidc_sign_ins.c.expires_at <= now))
            conn.execute(
                insert(oidc_sign_ins).values(
                    state_sha256=token_digest(state),
                    nonce=nonce,
                    code_verifier=verifier,
                    next_path=next_path[:2048],
                    expires_at=now + SIGN_IN_SECONDS * 1_000_000,
                    purpose=purpose,
                )
            )

        await self._db.write(op)
        params = {k: v for k, v in provider.extra_params.items() if k not in _OWN_PARAMETERS}
        params.update(
            response_type="code",
            client_id=provider.client_id,
            redirect_uri=self.redirect_uri,
            scope=provider.scope,
            state=state,
            nonce=nonce,
            code_challenge=_challenge(verifier),
            code_challenge_method="S256",
        )
        separator = "&" if "?" in provider.authorization_endpoint else "?"
        return Started(f"{provider.authorization_endpoint}{separator}{urlencode(params)}", state)

    async def take(self, state: str) -> Pending:
        """The sign-in of ``state``, deleted as it is read; SignInRefused when it is unknown,
        used already or expired."""
        digest = token_digest(state)
        now = self._clock()

        def op(conn: Connection) -> Any:
            row = conn.execute(
                select(oidc_sign_ins).where(oidc_sign_ins.c.state_sha256 == digest)
            ).first()
            if row is None:
                return None
            gone = conn.execute(delete(oidc_sign_ins).where(oidc_sign_ins.c.state_sha256 == digest))
            # Another process took it between the select and the delete: not ours to use.
            return row if gone.rowcount == 1 and row.expires_at > now else None

        row = await self._db.write(op)
        if row is None:
            raise SignInRefused(
                "This sign-in answer was used already or has expired; sign in again."
            )
        return Pending(
            purpose=str(row.purpose),
            next_path=str(row.next_path),
            nonce=str(row.nonce),
            code_verifier=str(row.code_verifier),
        )

    async def abandon(self, state: str) -> str | None:
        """Forget the sign-in of ``state`` (the provider answered with an error); its
        purpose, or None when there was none."""
        digest = token_digest(state)

        def op(conn: Connection) -> str | None:
            purpose = conn.scalar(
                select(oidc_sign_ins.c.purpose).where(oidc_sign_ins.c.state_sha256 == digest)
            )
            conn.execute(delete(oidc_sign_ins).where(oidc_sign_ins.c.state_sha256 == digest))
            return None if purpose is None else str(purpose)

        result: str | None = await self._db.write(op)
        return result

    async def identify(self, pending: Pending, code: str, issuer: str | None = None) -> Identity:
        """Whom the provider's answer (``code`` for the sign-in ``pending``, taken with
        ``take``; ``issuer`` is the callback's ``iss`` parameter, RFC 9207, when the
        provider sends one) names, once its ID token verifies."""
        provider = await self.required()
        if issuer is not None and issuer != provider.issuer:
            raise SignInRefused(
                "This sign-in answer comes from another identity provider than the workforce's."
            )
        async with httpx.AsyncClient(
            verify=self._tls, timeout=HTTP_SECONDS, follow_redirects=False
        ) as client:
            tokens = await self._json(
                client,
                provider,
                "token endpoint",
                "POST",
                provider.token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "client_id": provider.client_id,
                    "client_secret": provider.client_secret,
                    "code_verifier": pending.code_verifier,
                },
            )
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str) or not id_token:
                raise ProviderAnswerInvalid(
                    f"The identity provider ({provider.host}) answered the token request "
                    "without an ID token; ask your administrator to check its configuration "
                    "(the scope must include openid)."
                )
            claims = await self._verify(client, provider, id_token, pending.nonce)
            userinfo: dict[str, Any] = {}
            access_token = tokens.get("access_token")
            if provider.userinfo_endpoint and isinstance(access_token, str) and access_token:
                userinfo = await self._json(
                    client,
                    provider,
                    "userinfo endpoint",
                    "GET",
                    provider.userinfo_endpoint,
                    headers={"Authorization": f"Bearer {access_token}"},
                )
                # OIDC Core 5.3.2: a userinfo answer about someone else is not used.
                if userinfo.get("sub") != claims["sub"]:
                    raise SignInRefused(
                        "The identity provider's userinfo answer is about another subject "
                        "than its ID token; the sign-in is refused."
                    )
        return self._identity(provider, claims, userinfo)

    def logout_url(self, provider: Provider) -> str | None:
        """Where sign-out sends the browser so the provider's session ends too: its logout
        endpoint with ``client_id`` and the page to come back to, under both names
        providers use for it (``post_logout_redirect_uri``, OIDC RP-Initiated Logout;
        ``logout_uri``, Amazon Cognito's). None when the config has no logout endpoint."""
        if provider.logout_endpoint is None:
            return None
        params = {
            "client_id": provider.client_id,
            "post_logout_redirect_uri": self.signed_out_uri,
            "logout_uri": self.signed_out_uri,
        }
        separator = "&" if "?" in provider.logout_endpoint else "?"
        return f"{provider.logout_endpoint}{separator}{urlencode(params)}"

    # -- calls to the provider ------------------------------------------------------------------

    async def _json(
        self,
        client: httpx.AsyncClient,
        provider: Provider,
        what: str,
        method: str,
        url: str,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A JSON object from one of the provider's endpoints, or the error that says in
        words why there is none (unreachable: 503; any other answer: 502)."""
        try:
            response = await client.request(
                method,
                url,
                headers={"Accept": "application/json", **kwargs.pop("headers", {})},
                **kwargs,
            )
        except httpx.HTTPError as exc:
            reason = _reason(exc)
            log.warning("OIDC %s %s: %s", what, url, reason)
            if _untrusted(exc):
                raise ProviderAnswerInvalid(
                    f"The identity provider's {what} ({urlsplit(url).netloc}) has a TLS "
                    "certificate this server does not trust. The administrator can add its "
                    "certificate authority with HANDLOOP_OIDC_CA_FILE."
                ) from None
            raise ProviderUnavailable(
                f"The identity provider ({urlsplit(url).netloc}) cannot be reached: {reason}. "
                "Try again in a few minutes; if it goes on, tell your administrator."
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            detail = ""
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                description = body.get("error_description")
                detail = f" ({body['error'][:100]}"
                detail += f": {description[:300]})" if isinstance(description, str) else ")"
            shape = "JSON" if isinstance(body, dict) else "something that is not a JSON object"
            log.warning(
                "OIDC %s %s answered %s with %s%s", what, url, response.status_code, shape, detail
            )
            raise ProviderAnswerInvalid(
                f"The identity provider's {what} ({urlsplit(url).netloc}) answered with "
                f"HTTP {response.status_code} and {shape}{detail}, not what sign-in needs. "
                "Try again; if it goes on, tell your administrator."
            )
        return body

    async def _keys(
        self, client: httpx.AsyncClient, provider: Provider, fresh: bool
    ) -> dict[str, Any]:
        cached = self._jwks.get(provider.jwks_uri)
        if not fresh and cached is not None and time.monotonic() - cached[0] < JWKS_SECONDS:
            return cached[1]
        keys = await self._json(client, provider, "JWKS endpoint", "GET", provider.jwks_uri)
        if not isinstance(keys.get("keys"), list):
            raise ProviderAnswerInvalid(
                f"The identity provider's JWKS endpoint ({urlsplit(provider.jwks_uri).netloc}) "
                "answered without a list of keys."
            )
        self._jwks[provider.jwks_uri] = (time.monotonic(), keys)
        return keys

    async def _key(
        self, client: httpx.AsyncClient, provider: Provider, kid: object, alg: str
    ) -> Any:
        """The provider's public key for the token's ``kid`` (keys fetched again once when
        the id is unknown: the provider may have rotated its keys)."""
        for fresh in (False, True):
            keys = await self._keys(client, provider, fresh)
            candidates = []
            for jwk in keys["keys"]:
                if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
                    continue
                if kid is not None and jwk.get("kid") != kid:
                    continue
                try:
                    candidates.append(jwt.PyJWK(jwk, algorithm=alg))
                except jwt.PyJWTError:
                    continue  # a key of another type, or one this library cannot use
            if len(candidates) == 1 or (kid is not None and candidates):
                return candidates[0].key
            if len(candidates) > 1:
                raise SignInRefused(
                    "The ID token names no key and the provider has several; it cannot be verified."
                )
        raise SignInRefused(
            "The ID token is signed with a key the identity provider does not publish; the "
            "sign-in is refused."
        )

    async def _verify(
        self, client: httpx.AsyncClient, provider: Provider, token: str, nonce: str
    ) -> dict[str, Any]:
        """The ID token's claims once its signature, issuer, audience, times and nonce hold."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise ProviderAnswerInvalid(
                f"The identity provider ({provider.host}) sent an ID token that is not a JWT."
            ) from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise SignInRefused(
                f"The ID token is signed with '{str(alg)[:20]}', which is not accepted "
                f"(accepted: {', '.join(ALGORITHMS)})."
            )
        key = await self._key(client, provider, header.get("kid"), alg)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=provider.client_id,
                issuer=provider.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignInRefused(
                "The identity provider's ID token has expired; sign in again."
            ) from None
        except jwt.InvalidAudienceError:
            raise SignInRefused(
                "The ID token was issued for another client than this portal's; the sign-in "
                "is refused."
            ) from None
        except jwt.InvalidIssuerError:
            raise SignInRefused(
                "The ID token was issued by another identity provider than the workforce's."
            ) from None
        except jwt.InvalidSignatureError:
            raise SignInRefused(
                "The ID token's signature does not verify against the identity provider's "
                "keys: it was altered or forged. The sign-in is refused."
            ) from None
        except jwt.PyJWTError as exc:
            raise SignInRefused(
                f"The ID token is not valid ({exc}); the sign-in is refused."
            ) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != provider.client_id:
            raise SignInRefused("The ID token names several audiences but not this portal as azp.")
        if not _same(nonce, claims.get("nonce")):
            raise SignInRefused(
                "The ID token's nonce is not this sign-in's (a token replayed from another "
                "sign-in); the sign-in is refused."
            )
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise SignInRefused("The ID token's subject (sub) is empty.")
        return claims

    # -- the worker -------------------------------------------------------------------------------

    @staticmethod
    def _identity(provider: Provider, claims: dict[str, Any], userinfo: dict[str, Any]) -> Identity:
        merged = {**claims, **userinfo}  # userinfo is the fresher, ID token the fallback
        subject = next(
            (merged[c] for c in SUBJECT_CLAIMS if isinstance(merged.get(c), str) and merged[c]),
            claims["sub"],
        )
        check_text(subject, "The subject")
        if len(subject) > 255:
            raise SignInRefused("The identity provider's subject is longer than 255 characters.")
        groups = groups_of(userinfo)
        if groups is None:
            groups = groups_of(claims)
        return Identity(provider.issuer, subject, _email_of(merged), groups)

    async def worker(self, identity: Identity) -> Worker:
        """Find or create the worker of (issuer, subject) and give them the provider's groups."""
        subject, email, issuer = identity.subject, identity.email, identity.issuer
        groups = identity.groups
        if groups is None:
            log.warning("OIDC sign-in of %s without sagemaker:groups: in no team", subject)
            groups = []
        fallback = f"{token_digest(issuer + chr(10) + subject)[:32]}@oidc.invalid"
        now = self._clock()

        def op(conn: Connection) -> Worker:
            row = conn.execute(
                select(workers_table).where(workers_table.c.subject == subject)
            ).first()
            address = email
            if address is not None:
                owner = conn.scalar(
                    select(workers_table.c.subject).where(workers_table.c.email == address)
                )
                if owner is not None and owner != subject:
                    address = None  # another account's address: not taken from it
            if row is None:
                key = conn.execute(
                    insert(workers_table).values(
                        worker_id=secrets.token_hex(8),
                        email=address or fallback,
                        password_hash=None,
                        identity_provider=OIDC,
                        subject=subject,
                        issuer=issuer,
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key
                assert key is not None
                worker_pk = key[0]
            else:
                if row.identity_provider != OIDC or row.issuer != issuer:
                    raise SignInRefused(
                        "Another account (built-in, or from another identity provider) has "
                        "this subject; ask your administrator."
                    )
                if row.disabled_at is not None:
                    raise SignInRefused("This account is disabled; ask your administrator.")
                worker_pk = row.id
                if address is not None and address != row.email:
                    conn.execute(
                        update(workers_table)
                        .where(workers_table.c.id == worker_pk)
                        .values(email=address, updated_at=now)
                    )
            # The provider decides the groups, at every sign-in.
            conn.execute(delete(worker_groups).where(worker_groups.c.worker_pk == worker_pk))
            for group in groups:
                conn.execute(insert(worker_groups).values(worker_pk=worker_pk, group_name=group))
            worker = load_worker(conn, id=worker_pk)
            assert worker is not None
            revoke_outside_teams(conn, worker)
            return worker

        for attempt in range(2):
            try:
                worker: Worker = await self._db.write(op)
                return worker
            except IntegrityError:
                # Another sign-in of the same person (or for the same address) in the
                # same moment; the second try sees its row.
                if attempt:
                    raise SignInRefused(
                        "This account was being signed in elsewhere at the same moment; "
                        "sign in again."
                    ) from None
        raise AssertionError("unreachable")


def _email_of(claims: dict[str, Any]) -> str | None:
    """The claims' email in handloop's one form, or None when absent or not an address."""
    value = claims.get("email")
    if not isinstance(value, str):
        return None
    try:
        return check_email(value)
    except ValidationError:
        return None


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {HTTP_SECONDS:g} seconds"
    if isinstance(exc, httpx.ConnectError):
        return "the connection was refused or failed"
    return type(exc).__name__


def _untrusted(exc: BaseException) -> bool:
    """Whether a failed call failed on the provider's certificate (not on the network)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)

"""Every portal route states its guards: a session for anything not public, a CSRF check
for every state change. A new route that forgets one fails here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from handloop.services import open_services
from handloop.settings import Settings
from handloop.web.portal import create_portal
from handloop.web.security import csrf_from_form, csrf_from_header, form_token_matches, signed_in

# Reached without a session: signing in and up, the health check, and links that carry
# their own signature.
PUBLIC = {
    ("POST", "/api/session"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("GET", "/join/{token}"),
    ("POST", "/join/{token}"),
    ("GET", "/healthz"),
    ("GET", "/human-task-uis/{name}/template.liquid"),
    ("GET", "/objects/{bucket}/{key:path}"),
    # OIDC sign-in: the provider's answer (bound to the browser by its own cookie) and the
    # page its logout comes back to.
    ("GET", "/oauth2/idpresponse"),
    ("GET", "/signedout"),
}
# Changes that come before a session exists; the form ones carry the double-submit token.
PUBLIC_JSON_CHANGES = {("POST", "/api/session")}
# FastAPI's own documentation routes and the static files.
FRAMEWORK = {"/api/openapi.json", "/api/docs", "/docs/oauth2-redirect", "/static"}
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    data: Path = tmp_path_factory.mktemp("routes") / "data"
    services = open_services(Settings(data_dir=data), create=True)
    try:
        yield list(create_portal(services).routes)
    finally:
        services.close()


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every function a route's dependencies run, however deep."""
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from calls(dependency)


def flattened(routes: list[Any]) -> Iterator[Any]:
    """The app's routes with included routers opened (newer FastAPI keeps an included
    router as one entry holding the original router; older ones copy its routes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from flattened(included.routes)
        else:
            yield route


def endpoints(routes: list[Any]) -> Iterator[tuple[str, str, set[Callable[..., Any]]]]:
    for route in flattened(routes):
        # The requester console has guards of its own: tests/test_console_routes.py.
        if isinstance(route, APIRoute) and not route.path.startswith("/console"):
            for method in route.methods:
                yield method, route.path, set(calls(route.dependant))


def test_every_route_is_known(routes: list[Any]) -> None:
    others = [r for r in flattened(routes) if not isinstance(r, APIRoute)]
    assert all(isinstance(r, Route | Mount) for r in others)
    assert {r.path for r in others} == FRAMEWORK


def test_every_route_but_the_public_ones_needs_a_session(routes: list[Any]) -> None:
    found = list(endpoints(routes))
    assert len(found) > len(PUBLIC)
    missing = [
        (method, path)
        for method, path, needs in found
        if (method, path) not in PUBLIC and signed_in not in needs
    ]
    assert not missing, f"routes without the session dependency: {missing}"
    assert {(m, p) for m, p, _ in found} >= PUBLIC, "a public route is gone: update PUBLIC"


def test_every_state_change_checks_its_csrf_token(routes: list[Any]) -> None:
    unchecked = [
        (method, path)
        for method, path, needs in endpoints(routes)
        if method in CHANGES
        and (method, path) not in PUBLIC_JSON_CHANGES
        and not needs & {csrf_from_header, csrf_from_form, form_token_matches}
    ]
    assert not unchecked, f"state changes without a CSRF check: {unchecked}"


def test_json_changes_take_the_header_and_forms_the_field(routes: list[Any]) -> None:
    for method, path, needs in endpoints(routes):
        if (
            method in CHANGES
            and path.startswith("/api/")
            and (method, path) != ("POST", "/api/session")
        ):
            assert csrf_from_header in needs, (method, path)
        elif method in CHANGES and not path.startswith("/api/"):
            assert needs & {csrf_from_form, form_token_matches}, (method, path)

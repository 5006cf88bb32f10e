"""Every console route states its guards, as the portal's do: the console's session for
anything but signing in, a CSRF check (the form field, or the header for the console's
scripts) for every state change. A new console route that forgets one fails here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from handloop.services import open_services
from handloop.settings import Settings
from handloop.web.console_security import (
    console_csrf_from_form,
    console_csrf_from_header,
    console_signed_in,
)
from handloop.web.portal import create_portal
from handloop.web.security import form_token_matches, signed_in
from tests.test_portal_routes import CHANGES, calls, flattened

PUBLIC = {
    ("GET", "/console/signin"),
    ("POST", "/console/signin"),
    ("GET", "/console/signin/provider"),
}


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    data: Path = tmp_path_factory.mktemp("console-routes") / "data"
    services = open_services(Settings(data_dir=data), create=True)
    try:
        yield list(create_portal(services).routes)
    finally:
        services.close()


def console_endpoints(routes: list[Any]) -> list[tuple[str, str, set[Any]]]:
    return [
        (method, route.path, set(calls(route.dependant)))
        for route in flattened(routes)
        if isinstance(route, APIRoute) and route.path.startswith("/console")
        for method in route.methods
    ]


def test_every_console_route_but_sign_in_needs_a_console_session(routes: list[Any]) -> None:
    found = console_endpoints(routes)
    assert len(found) > 25
    assert {(m, p) for m, p, _ in found} >= PUBLIC
    missing = [
        (m, p) for m, p, needs in found if (m, p) not in PUBLIC and console_signed_in not in needs
    ]
    assert not missing, f"console routes without the console session: {missing}"
    # None of them takes the worker's session.
    assert not [(m, p) for m, p, needs in found if signed_in in needs]


def test_every_console_change_checks_its_csrf_token(routes: list[Any]) -> None:
    for method, path, needs in console_endpoints(routes):
        if method not in CHANGES:
            continue
        if path.startswith("/console/api/"):
            assert console_csrf_from_header in needs, (method, path)
        elif (method, path) in PUBLIC:
            assert form_token_matches in needs, (method, path)
        else:
            assert console_csrf_from_form in needs, (method, path)

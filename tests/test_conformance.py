"""Every distinct template of the conformance corpus renders, upgrades, fills and submits
in a sandboxed frame in Chromium with the network blocked, with AWS's answer shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance import Template, browser_context, run_one, templates
from tests.task_pages import TaskPages

TEMPLATES = templates()


def test_the_corpus_has_89_distinct_templates() -> None:
    assert len(TEMPLATES) == 89


@pytest.fixture(scope="module")
def browser() -> Iterator[tuple[Any, TaskPages]]:
    with browser_context() as pair:
        yield pair


@pytest.mark.browser
@pytest.mark.parametrize("template", TEMPLATES, ids=[t.path.split("/", 1)[1] for t in TEMPLATES])
def test_template(browser: tuple[Any, TaskPages], template: Template) -> None:
    context, pages = browser
    result = run_one(context, pages, template)
    assert result.passed, result.reason
    assert result.elements, "no crowd element found"

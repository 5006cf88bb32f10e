"""Every distinct template of the conformance corpus renders, upgrades, fills and submits
in a sandboxed frame in Chromium with the network blocked, with AWS's answer shapes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance import TaskBrowser, Template, browser_context, run_one, templates

TEMPLATES = templates()


def test_the_corpus_has_89_distinct_templates() -> None:
    assert len(TEMPLATES) == 89


@pytest.fixture(scope="module")
def browser() -> Iterator[TaskBrowser]:
    with browser_context() as browser:
        yield browser


@pytest.mark.browser
@pytest.mark.parametrize("template", TEMPLATES, ids=[t.path.split("/", 1)[1] for t in TEMPLATES])
def test_template(browser: TaskBrowser, template: Template) -> None:
    result = run_one(browser, template)
    assert result.passed, result.reason
    assert result.elements, "no crowd element found"

"""The task frame's document: AWS's asset URLs point at handloop's, the bridge is in."""

from __future__ import annotations

import pytest

from handloop.web.frame import frame_document

BASE = "http://portal.test/static"


@pytest.mark.parametrize(
    "template",
    [
        '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script><crowd-form></crowd-form>',
        "<script src='https://assets.crowd.aws/crowd-html-elements-v2.js'></script><crowd-form></crowd-form>",
        "<crowd-form></crowd-form>",
    ],
)
def test_the_element_library_is_handloops_and_loaded_once(template: str) -> None:
    document = frame_document(template, static_base=BASE)
    assert "assets.crowd.aws" not in document
    assert document.count(f"{BASE}/crowd-html-elements.js") == 1
    assert f'<script src="{BASE}/frame-bridge.js"></script>' in document


def test_aws_stylesheets_become_handloops() -> None:
    template = (
        '<link rel="stylesheet" href="https://assets.crowd.aws/crowd-html-elements-v2.css">'
        "<crowd-form></crowd-form>"
    )
    document = frame_document(template, static_base=BASE + "/")
    assert "assets.crowd.aws" not in document
    assert f'<link rel="stylesheet" href="{BASE}/crowd-html-elements.css">' in document


def test_other_scripts_are_left_alone() -> None:
    template = (
        '<script src="https://code.jquery.com/jquery.min.js"></script><crowd-form></crowd-form>'
    )
    assert "https://code.jquery.com/jquery.min.js" in frame_document(template, static_base=BASE)

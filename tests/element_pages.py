"""Opening a snippet of template HTML in the sandboxed task frame, for element tests."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conformance import TaskBrowser, browser_context

SCRIPT = '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n'
_ids = itertools.count()


def wait_for(predicate: Callable[[], Any], what: str, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Frames:
    def __init__(self, browser: TaskBrowser) -> None:
        self.browser = browser

    def open(self, html: str) -> Any:
        """The frame (Playwright Frame) of a task page made of ``html``, elements ready.
        The module's one page goes to it; the frame of the previous ``open`` is gone."""
        frame = self.browser.open(f"snippet{next(_ids)}.html", SCRIPT + html)
        wait_for(lambda: frame.evaluate("window.__ready"), "all-crowd-elements-ready")
        return frame

    @staticmethod
    def answers(frame: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = frame.evaluate("window.__answers")
        return result

    def answer(self, frame: Any) -> dict[str, Any]:
        return wait_for(lambda: self.answers(frame), "an answer")[-1]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def frames() -> Iterator[Frames]:
    with browser_context() as browser:
        yield Frames(browser)

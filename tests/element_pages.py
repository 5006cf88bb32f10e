"""Opening a snippet of template HTML in the sandboxed task frame, for element tests."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conformance import browser_context
from tests.task_pages import TaskPages

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
    def __init__(self, context: Any, pages: TaskPages) -> None:
        self.context = context
        self.pages = pages

    def open(self, html: str) -> Any:
        """The frame (Playwright Frame) of a task page made of ``html``, elements ready."""
        page = self.context.new_page()
        page.goto(self.pages.add(f"snippet{next(_ids)}.html", SCRIPT + html))
        wait_for(lambda: len(page.frames) > 1 and page.frames[1].url.endswith(".html"), "frame")
        frame = page.frames[1]
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
    with browser_context() as (context, pages):
        yield Frames(context, pages)

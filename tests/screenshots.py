"""`python -m tests.screenshots DIR`: a PNG of every corpus template as a worker sees it
in the sandboxed task frame (the network blocked, media generated), to look at; then a
gallery of handloop's preference elements (`preference__<element>.png`), each at desktop
width and at a phone's (`preference__<element>__phone.png`, a 390 px wide viewport).

`python -m tests.screenshots DIR preference` makes the gallery alone.

Then every page of the requester console (`console__<page>.png`), on a server of its own
with data made for it (tests/console_pages.py); `python -m tests.screenshots DIR console`
makes those alone.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handloop.templating import render_template
from tests.conformance import TaskBrowser, browser_context, templates

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# A gallery picture is as tall as its page (up to this), so nothing is cut off at the
# bottom; a response box's own cap (45% of the viewport's height) grows with it.
TALLEST = 4000


def wait_ready(frame: Any) -> None:
    """Until the element library says every element is ready (at most 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not frame.evaluate("window.__ready === true"):
        time.sleep(0.05)


def corpus(browser: TaskBrowser, out: Path) -> int:
    count = 0
    for template in templates():
        name = template.path.split("/", 1)[1].replace("/", "__").removesuffix(".html")
        rendered = render_template(
            template.source, template.task_input, grant_read_access=browser.pages.grant
        )
        frame = browser.open(f"{name}.html", rendered)
        wait_ready(frame)
        browser.page.wait_for_load_state("load")
        browser.page.screenshot(path=str(out / f"{name}.png"))
        count += 1
    return count


# -- the preference elements' gallery --------------------------------------------------------

PALINDROME_GOOD = """Here is a version that ignores case, spaces and punctuation:

```python
def is_palindrome(text: str) -> bool:
    letters = [c.lower() for c in text if c.isalnum()]
    return letters == letters[::-1]
```

1. `c.isalnum()` keeps only letters and digits.
2. `c.lower()` makes the check **case-insensitive**.
3. `letters[::-1]` is the list reversed.

It runs in *O(n)* time."""

PALINDROME_WEAK = """Just reverse the string:

```python
def is_palindrome(s):
    return s == s[::-1]
```

This works for `racecar`; for sentences, remove the spaces first with `s.replace(" ", "")`."""

DECORATOR_CODE = """A **decorator** wraps a function to add behaviour without changing its code:

```python
import functools, time

def timed(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            print(f"{func.__name__} took {time.perf_counter() - start:.3f} s")
    return wrapper

@timed
def slow_sum(n): return sum(range(n))
```

`@timed` above `def` is the same as `slow_sum = timed(slow_sum)`."""

DECORATOR_LIST = """Decorators are functions that take a function and return another one.

- Written with `@name` on the line above a `def`.
- Common built-ins: `@property`, `@staticmethod`, `@functools.lru_cache`.
- Use `functools.wraps` so the wrapped function keeps its **name** and docstring."""

DECORATOR_SHORT = "It's a function that modifies another function. Use the `@` symbol."

DATABASES_TABLE = """| | **SQLite** | **PostgreSQL** |
|---|---|---|
| Setup | none: one file | a server to run and back up |
| Concurrent writes | one writer at a time | many, with row-level locks |
| Features | basic types | JSONB, full-text search, extensions |

**Pick SQLite** for a small app on one machine; **pick PostgreSQL** once several processes
write at the same time."""

DATABASES_LIST = """Both are good choices.

- **SQLite** is lightweight and easy.
- **PostgreSQL** is powerful and scalable.

It depends on your needs."""

CAPITAL_RIGHT = """The capital of Australia is **Canberra**, chosen in 1908 as a compromise
between *Sydney* and *Melbourne*."""

CAPITAL_WRONG = "The capital of Australia is **Sydney**, its largest city."

EMAIL = """Subject: **Running late for our 10:00 meeting**

Hi Sam,

I'm stuck in traffic and will be about *15 minutes* late. Could we:

- start at 10:15 instead, or
- move to 14:00 if that suits you better?

Sorry for the short notice,
Alex"""

CONVERSATION = [
    {"role": "system", "content": "You are a concise, careful assistant for developers."},
    {"role": "user", "content": "How do I undo my last **git** commit?"},
    {
        "role": "assistant",
        "content": "Do you want to keep the changes in your working tree? If so:\n\n"
        "```sh\ngit reset --soft HEAD~1\n```",
    },
    {"role": "user", "content": "Yes, and what if I already pushed it?"},
    {
        "role": "assistant",
        "content": "Then rewrite nothing; add a commit that undoes it:\n\n"
        "1. `git revert HEAD`\n2. `git push`\n\n"
        "| command | rewrites history? |\n|---|---|\n"
        "| `git reset` | **yes** |\n| `git revert` | no |",
    },
]

PROMPT = """<h3>Prompt</h3>
<div class="prompt">{{ task.input.prompt | markdown }}</div>
"""


@dataclass(frozen=True)
class Exhibit:
    """One element of the gallery: its snippet (in a crowd-form), the task input, and the
    keys pressed before the picture (so a chosen state shows how selection looks)."""

    element: str
    snippet: str
    task_input: dict[str, Any]
    keys: tuple[str, ...] = ()


EXHIBITS = [
    Exhibit(
        "hl-comparison-choice",
        PROMPT + "<hl-comparison-choice name='preference' header='Which response is better?' "
        "responses='{{ task.input.responses | to_json }}' allow-tie allow-both-bad strength "
        "reason></hl-comparison-choice>",
        {
            "prompt": "Write a Python function that checks whether a string is a "
            "**palindrome**, ignoring case and punctuation.",
            "responses": [PALINDROME_GOOD, PALINDROME_WEAK],
        },
        keys=("1", "ArrowUp", "ArrowUp", "ArrowUp"),
    ),
    Exhibit(
        "hl-comparison-rank",
        PROMPT + "<hl-comparison-rank name='ranking' header='Rank the responses, 1 is best' "
        "responses='{{ task.input.responses | to_json }}' reason></hl-comparison-rank>",
        {
            "prompt": "What is a Python decorator? Show an example.",
            "responses": [DECORATOR_CODE, DECORATOR_LIST, DECORATOR_SHORT],
        },
        keys=("1",),
    ),
    Exhibit(
        "hl-comparison-likert",
        PROMPT + "<hl-comparison-likert name='likert' header='Which response is better?' "
        "responses='{{ task.input.responses | to_json }}' reason></hl-comparison-likert>",
        {
            "prompt": "Compare SQLite and PostgreSQL for a small web app. Keep it short.",
            "responses": [DATABASES_LIST, DATABASES_TABLE],
        },
        keys=("4",),
    ),
    Exhibit(
        "hl-likert",
        PROMPT + "<hl-likert name='ratings' header='Rate each response' "
        "responses='{{ task.input.responses | to_json }}' "
        """criteria='[{"name": "helpfulness", "description": "Does it answer the question?"},"""
        """ {"name": "harmlessness", "label": "Harmlessness", """
        """"description": "Is it safe and respectful?"}]' reason></hl-likert>""",
        {
            "prompt": "What is the capital of Australia?",
            "responses": [CAPITAL_RIGHT, CAPITAL_WRONG],
        },
        keys=("4",),
    ),
    Exhibit(
        "hl-thumbs",
        PROMPT + "<hl-thumbs name='thumbs' header='Is each response acceptable?' "
        "responses='{{ task.input.responses | to_json }}' reason></hl-thumbs>",
        {
            "prompt": "What is the capital of Australia?",
            "responses": [CAPITAL_RIGHT, CAPITAL_WRONG, DATABASES_LIST],
        },
        keys=("2", "d"),
    ),
    Exhibit(
        "hl-response-edit",
        PROMPT + "<hl-response-edit name='edit' header='Improve one response' "
        "responses='{{ task.input.responses | to_json }}' reason></hl-response-edit>",
        {
            "prompt": "Write a short email to Sam saying I'll be late for our 10:00 meeting.",
            "responses": [EMAIL, "Sam, late, sorry."],
        },
        keys=("1",),
    ),
    Exhibit(
        "hl-conversation",
        "<h3>Conversation</h3><hl-conversation messages='{{ task.input.messages | to_json }}'>"
        "</hl-conversation><hl-thumbs name='last' header='Is the last answer good?' "
        "responses='{{ task.input.responses | to_json }}'></hl-thumbs>",
        {"messages": CONVERSATION, "responses": ["`git revert HEAD` then `git push`."]},
    ),
]


def _shoot(browser: TaskBrowser, exhibit: Exhibit, size: dict[str, int], path: Path) -> None:
    """Load the exhibit at ``size`` and save a picture of the whole page: the viewport
    grows (a few rounds, as response boxes grow with it) until the page fits."""
    page = browser.page
    page.set_viewport_size(size)
    rendered = render_template(
        f"<crowd-form>{exhibit.snippet}</crowd-form>",
        exhibit.task_input,
        grant_read_access=browser.pages.grant,
    )
    frame = browser.open(f"preference__{path.stem}.html", rendered, seed="gallery")
    wait_ready(frame)
    page.wait_for_load_state("load")
    # Keys reach the frame's document once the frame has the focus (a press on an element
    # inside it does not move the browser's focus there).
    page.focus("iframe")
    for key in exhibit.keys:
        page.keyboard.press(key)
    height = size["height"]
    for _ in range(4):
        needed = min(TALLEST, int(frame.evaluate("document.documentElement.scrollHeight")))
        if needed <= height:
            break
        height = needed
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(100)  # a relayout, for the next measure
    page.screenshot(path=str(path))
    page.set_viewport_size(DESKTOP)


def preference_gallery(browser: TaskBrowser, out: Path) -> int:
    """``preference__<element>.png`` and ``…__phone.png`` for every preference element."""
    count = 0
    for exhibit in EXHIBITS:
        for suffix, size in (("", DESKTOP), ("__phone", PHONE)):
            _shoot(browser, exhibit, size, out / f"preference__{exhibit.element}{suffix}.png")
            count += 1
    return count


# -- the requester console ---------------------------------------------------------------------


def console(out: Path) -> int:
    """``console__<page>.png`` for every console page, as a requester sees it."""
    import tempfile

    from playwright.sync_api import sync_playwright

    from tests.chromium import launch
    from tests.console_pages import pages, seed, settle, sign_in
    from tests.support import LiveServer

    count = 0
    with (
        tempfile.TemporaryDirectory(prefix="handloop-console-") as tmp,
        LiveServer(data_dir=Path(tmp) / "data") as server,
    ):
        seeded = seed(server)
        try:
            with sync_playwright() as pw:
                browser = launch(pw, offline=True)
                try:
                    page = browser.new_context(viewport=DESKTOP).new_page()
                    for number, (name, path) in enumerate(pages(seeded)):
                        if number == 1:
                            sign_in(page, server, seeded.requester)
                        page.goto(f"{server.url}{path}")
                        settle(page, name)
                        page.screenshot(path=str(out / f"console__{name}.png"), full_page=True)
                        count += 1
                finally:
                    browser.close()
        finally:
            seeded.receiver.close()
    return count


def main(folder: str, only: str | None = None) -> int:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    if only in (None, "preference"):
        with browser_context() as browser:
            if only is None:
                count += corpus(browser, out)
            count += preference_gallery(browser, out)
    if only in (None, "console"):
        count += console(out)
    print(f"{count} screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "screenshots", *sys.argv[2:3]))

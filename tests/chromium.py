"""Headless Chromium for the tests, launched one way everywhere.

``HANDLOOP_TEST_CHROMIUM`` names the browser binary (default: Debian's
``/usr/bin/chromium``); this is the one place the tests read it.
"""

from __future__ import annotations

import os
from typing import Any

CHROMIUM = os.environ.get("HANDLOOP_TEST_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Every request to a host other than loopback goes to a proxy that is not there (the
# discard port), so it fails at once: CDNs, public S3 and trackers named by a template are
# never reached. Chromium decides this itself; routing each request through Playwright
# would cost a round trip to the test process per request.
OFFLINE_ARGS = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost"]


def launch(playwright: Any, *, offline: bool = False) -> Any:
    """A headless Chromium browser from a started (sync) Playwright; with ``offline``, one
    that reaches nothing but this machine's loopback."""
    args = CHROMIUM_ARGS + (OFFLINE_ARGS if offline else [])
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args)

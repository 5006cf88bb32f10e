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


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from a started (sync) Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

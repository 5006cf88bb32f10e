"""`python -m tests.screenshots DIR`: a PNG of every corpus template as a worker sees it
in the sandboxed task frame (the network blocked, media generated), to look at."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from handloop.templating import render_template
from tests.conformance import browser_context, templates


def main(folder: str) -> int:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with browser_context() as browser:
        for template in templates():
            name = template.path.split("/", 1)[1].replace("/", "__").removesuffix(".html")
            rendered = render_template(
                template.source, template.task_input, grant_read_access=browser.pages.grant
            )
            frame = browser.open(f"{name}.html", rendered)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not frame.evaluate("window.__ready === true"):
                time.sleep(0.05)
            browser.page.wait_for_load_state("load")
            browser.page.screenshot(path=str(out / f"{name}.png"))
            count += 1
    print(f"{count} screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))

"""Render time per conformance template: p50 and p99 over repeated renders (target p99 < 5 ms).

Run: .venv/bin/python bench/render.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from handloop.templating import TemplateRenderError, render_template

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "conformance"


def _grant(uri: str) -> str:
    return "https://handloop.example/objects/" + uri[5:] + "?expires=1&signature=0123456789abcdef"


DOS_ATTEMPTS = {
    "huge loop": "{% for i in (1..100000000) %}x{% endfor %}",
    "nested loops": "{% for i in (1..10000) %}{% for j in (1..10000) %}x{% endfor %}{% endfor %}",
    "huge range in a filter": "{{ (1..100000000) | join: ',' }}",
    "doubling string": "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..60) %}"
    "{% assign s = s | append: s %}{% endfor %}",
    "doubling capture": "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..60) %}"
    "{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}",
    "deep nesting": "{% if true %}" * 5000 + "{% endif %}" * 5000,
    "huge output": "{% for i in (1..99999) %}{{ task.input }}{% endfor %}",
}


def dos() -> None:
    print("\ndenial-of-service attempts (each must stop with an error within a second)")
    for name, source in DOS_ATTEMPTS.items():
        started = time.perf_counter()
        try:
            render_template(source, "y" * 3000)
            outcome = "RENDERED"
        except TemplateRenderError as exc:
            outcome = exc.message
        print(f"  {name:<24} {(time.perf_counter() - started) * 1000:8.1f} ms  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    seen: set[str] = set()
    worst = 0.0
    rows = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        inputs = json.loads((folder / "inputs.json").read_text())
        for path, task_input in sorted(inputs.items()):
            source = (folder / path).read_text()
            if source in seen:
                continue
            seen.add(source)
            render_template(source, task_input, grant_read_access=_grant)  # parse + cache
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                render_template(source, task_input, grant_read_access=_grant)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            worst = max(worst, p99)
            rows.append((f"{folder.name}/{path}", statistics.median(times), p99))
    width = max(len(r[0]) for r in rows)
    print(f"{'template':<{width}}  p50 ms  p99 ms")
    for name, p50, p99 in rows:
        print(f"{name:<{width}}  {p50:6.3f}  {p99:6.3f}")
    print(f"{len(rows)} templates, {args.repeat} renders each;", end=" ")
    print(f"worst p99 {worst:.3f} ms (target < 5)")
    dos()


if __name__ == "__main__":
    main()

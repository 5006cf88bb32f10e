"""What every console page is made with: the Jinja environment and its filters (times,
durations, charts as inline SVG), and ``ConsolePages``, which renders a page, a public form
page, or a template in the sandboxed frame."""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from handloop.domain.timestamps import to_datetime
from handloop.services import Services
from handloop.services.console import CHART_HOURS, ORDER, STATUSES, FlowSummary
from handloop.templating.prerender import prerender_markdown
from handloop.web.frame import frame_document
from handloop.web.pages import FORM_MAX_AGE, TEMPLATES, origin_of
from handloop.web.security import FORM_COOKIE, form_token, frame_csp, secure_headers, set_cookie

# -- formatting (Jinja filters) ---------------------------------------------------------------


def when(us: int | None) -> str:
    if us is None:
        return "–"
    return to_datetime(us).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: '45 s', '12 min', '3 h 20 min', '2 d 5 h'."""
    if seconds is None or math.isnan(seconds):
        return "–"
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def hour_label(hour: int) -> str:
    return to_datetime(hour * 3_600_000_000).strftime("%H:00")


def bar_chart(
    values: list[int],
    labels: list[str],
    *,
    label: str,
    unit: str = "",
    width: int = 480,
    height: int = 80,
) -> str:
    """A bar chart: inline SVG bars (attributes only: the page's CSP allows no inline
    styles) with a summary for screen readers and a tooltip per bar, and its first and
    last labels and its peak as text below (text in a stretched SVG would be distorted)."""
    peak = max(values) if values else 0
    top = peak or 1
    step = width / max(len(values), 1)
    bars = []
    for i, (value, text) in enumerate(zip(values, labels, strict=True)):
        h = 0 if value == 0 else max(1.0, height * value / top)
        bars.append(
            f'<rect class="bar" x="{i * step + 1:.1f}" y="{height - h:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" data-index="{i}">'
            f"<title>{escape(text)}: {value}</title></rect>"
        )
    first, last = (escape(labels[0]), escape(labels[-1])) if labels else ("", "")
    return (
        '<div class="chart-box-inner">'
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} '
        f'{height}" preserveAspectRatio="none" width="100%" height="{height}">'
        + "".join(bars)
        + "</svg>"
        f'<div class="chart-axis" aria-hidden="true"><span>{first}</span>'
        f'<span>peak <span class="chart-peak">{peak}</span>{escape(unit)}</span>'
        f"<span>{last}</span></div></div>"
    )


def progress_bar(summary: FlowSummary) -> str:
    """The flow's loops by status as one bar of segments (inline SVG, percent widths)."""
    x = 0.0
    parts = []
    for status in ORDER:
        count = summary.counts.get(status, 0)
        share = 100.0 * count / summary.total if summary.total else 0.0
        parts.append(
            f'<rect class="seg {status}" data-status="{status}" x="{x:.3f}%" y="0" '
            f'width="{share:.3f}%" height="100%"><title>{status}: {count}</title></rect>'
        )
        x += share
    text = ", ".join(f"{s} {summary.counts.get(s, 0)}" for s in ORDER)
    return (
        f'<svg class="progress" role="img" aria-label="{escape(summary.name)} loops: '
        f'{escape(text)}" width="100%" height="14" data-flow="{escape(summary.name)}">'
        f'<rect class="track" x="0" y="0" width="100%" height="100%"></rect>'
        + "".join(parts)
        + "</svg>"
    )


def answers_chart(summary: FlowSummary) -> str:
    values = [answers for _, answers, _ in summary.hourly]
    labels = [hour_label(hour) for hour, _, _ in summary.hourly]
    total = sum(values)
    return bar_chart(
        values,
        labels,
        unit=" an hour",
        label=f"Answers per hour over the last {CHART_HOURS} hours for {summary.name}: "
        f"{total} in all",
    )


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters.update(
        when=when, duration=duration, number=number, pretty_json=pretty_json, urlquote=quote
    )
    env.globals.update(
        progress_bar=progress_bar,
        answers_chart=answers_chart,
        bar_chart=bar_chart,
        STATUSES=STATUSES,
        ORDER=ORDER,
    )
    return templates


# -- the pieces every console route uses ------------------------------------------------------


class ConsolePages:
    """Renders console pages: the requester's session in every page's context."""

    def __init__(self, services: Services, templates: Jinja2Templates) -> None:
        self.services = services
        self.templates = templates

    def page(
        self, request: Request, template: str, code: int = 200, /, **context: object
    ) -> HTMLResponse:
        response = self.templates.TemplateResponse(
            request, f"console/{template}", context, status_code=code
        )
        secure_headers(response)
        return response

    def form_page(
        self, request: Request, name: str, status: int = 200, **context: object
    ) -> Response:
        token = form_token(request)
        response = self.page(request, name, status, form_token=token, **context)
        set_cookie(response, request, self.services, FORM_COOKIE, token, FORM_MAX_AGE)
        return response

    def frame(
        self, request: Request, rendered: str, status: int = 200, seed: str | None = None
    ) -> Response:
        """A rendered template as the sandboxed frame's document, with the frame's CSP."""
        origin = origin_of(request, self.services)
        document = frame_document(
            prerender_markdown(rendered), static_base=f"{origin}/static", seed=seed
        )
        response = HTMLResponse(document, status_code=status)
        secure_headers(response, frame_csp(origin))
        return response

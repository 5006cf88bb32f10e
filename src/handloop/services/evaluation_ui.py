"""The task UI of an evaluation job, and its answers in Bedrock's words.

As on Bedrock, whose human evaluation flows show an AWS-managed UI, an evaluation job's
loops do not use the flow's own task UI: handloop generates one from the job's metrics,
with its preference elements (docs/templates.md), every metric of a prompt on one page:

| rating method | element |
|---|---|
| ComparisonChoice | ``hl-comparison-choice`` |
| ComparisonRank | ``hl-comparison-rank`` (ties allowed, as Bedrock's ranks may tie) |
| ComparisonLikertScale | ``hl-comparison-likert`` |
| IndividualLikertScale | one ``hl-likert``, each such metric a criterion |
| ThumbsUpDown | ``hl-thumbs`` |

The template is the job's; which metrics a loop shows comes from its input (a job's
datasets may each name their own metrics). The first element on the page shows the
responses' text, the others only their letters (A, B), in the same per-task order.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from handloop.templating.markdown import render_markdown

CHOICE = "ComparisonChoice"
RANK = "ComparisonRank"
COMPARISON_LIKERT = "ComparisonLikertScale"
LIKERT = "IndividualLikertScale"
THUMBS = "ThumbsUpDown"
RATING_METHODS = (THUMBS, LIKERT, COMPARISON_LIKERT, CHOICE, RANK)
COMPARISONS = frozenset((CHOICE, RANK, COMPARISON_LIKERT))
LIKERT_FIELD = "likert"  # the one hl-likert's name in the answer

_ELEMENTS = {
    CHOICE: "hl-comparison-choice",
    RANK: "hl-comparison-rank",
    COMPARISON_LIKERT: "hl-comparison-likert",
    THUMBS: "hl-thumbs",
}
_EXTRA = {RANK: " allow-ties"}


@dataclass(frozen=True)
class Metric:
    index: int
    name: str
    method: str
    description: str

    @property
    def field(self) -> str:
        """The answer field of the metric's element."""
        return LIKERT_FIELD if self.method == LIKERT else f"m{self.index}"


def metrics_of(custom_metrics: list[dict[str, Any]]) -> list[Metric]:
    return [
        Metric(i, m["name"], m["ratingMethod"], m.get("description") or "")
        for i, m in enumerate(custom_metrics)
    ]


def job_template(metrics: list[Metric], instructions: str, *, randomize: bool) -> str:
    """The Liquid template of a job's loops (see the module docstring)."""
    order = "" if randomize else ' randomize="false"'
    parts = [
        '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>',
        "<style>.hl-eval section{margin:18px 0}.hl-eval h3{margin:0 0 4px;font-size:16px}"
        ".hl-eval .about{margin:0 0 6px;color:#545b64}.hl-eval .meta{color:#545b64}"
        ".hl-eval .prompt,.hl-eval .reference{border:1px solid #d5dbdb;border-radius:8px;"
        "padding:8px 12px;background:#fafafa}</style>",
        '<crowd-form><div class="hl-eval">',
    ]
    if instructions.strip():
        parts.append(
            '<details open class="instructions"><summary>Instructions</summary>'
            f"{render_markdown(instructions)}</details>"
        )
    parts += [
        '{% if task.input.category %}<p class="meta">Category: {{ task.input.category }}</p>'
        "{% endif %}",
        '<h3>Prompt</h3><div class="prompt">{{ task.input.prompt | markdown }}</div>',
        "{% if task.input.referenceResponse %}<h3>Reference response</h3>"
        '<div class="reference">{{ task.input.referenceResponse | markdown }}</div>{% endif %}',
    ]
    likert_done = False
    for metric in metrics:
        if metric.method == LIKERT:
            if likert_done:
                continue
            likert_done = True
            parts.append(
                "{% if task.input.likertCriteria.size > 0 %}<section><h3>Rate each response</h3>"
                f'<hl-likert name="{LIKERT_FIELD}" responses=\'{{{{ task.input.responses | '
                "to_json }}' criteria='{{ task.input.likertCriteria | to_json }}'"
                f"{order}"
                f'{{% if task.input.showText != "{LIKERT_FIELD}" %}} hide-text{{% endif %}}>'
                "</hl-likert></section>{% endif %}"
            )
            continue
        name = html.escape(metric.name)
        about = (
            f'<p class="about">{html.escape(metric.description)}</p>' if metric.description else ""
        )
        parts.append(
            f"{{% if task.input.metrics contains {json.dumps(metric.name)} %}}"
            f"<section><h3>{name}</h3>{about}"
            f'<{_ELEMENTS[metric.method]} name="{metric.field}" '
            "responses='{{ task.input.responses | to_json }}'"
            f"{_EXTRA.get(metric.method, '')}{order}"
            f'{{% if task.input.showText != "{metric.field}" %}} hide-text{{% endif %}}>'
            f"</{_ELEMENTS[metric.method]}></section>{{% endif %}}"
        )
    parts.append("</div></crowd-form>")
    return "\n".join(parts)


def loop_input(
    record: dict[str, Any],
    models: list[str],
    metrics: list[Metric],
    *,
    job_arn: str,
    dataset: str,
    index: int,
) -> dict[str, Any]:
    """A loop's InputContent: what the task UI shows, and what the results need back."""
    by_model = {r["modelIdentifier"]: r["response"] for r in record["modelResponses"]}
    shown = [m for m in metrics if m.method != LIKERT]
    likert = [m for m in metrics if m.method == LIKERT]
    first = metrics[0]
    return {
        "prompt": record["prompt"],
        "category": record.get("category"),
        "referenceResponse": record.get("referenceResponse"),
        "responses": [
            {"id": str(i), "text": by_model[model], "modelIdentifier": model}
            for i, model in enumerate(models)
        ],
        "metrics": [m.name for m in shown],
        "likertCriteria": [{"name": m.name, "description": m.description} for m in likert],
        # The element that shows the responses' text: the first on the page.
        "showText": first.field,
        "evaluation": {
            "jobArn": job_arn,
            "dataset": dataset,
            "record": index,
            "inputRecord": record,
        },
    }


def _left_right(value: dict[str, Any]) -> tuple[str, str, int]:
    left, right = value["shownOrder"][0], value["shownOrder"][1]
    preferred, margin = value.get("preferred"), int(value.get("margin") or 0)
    if preferred is None or margin == 0:
        return left, right, 3
    if preferred == left:
        return left, right, 3 - margin  # much better: 1, slightly: 2
    return left, right, 3 + margin  # slightly: 4, much: 5


def evaluation_results(answer: dict[str, Any], metrics: list[Metric]) -> dict[str, Any]:
    """One worker's answer (the elements' values) as Bedrock's ``answerContent``:
    ``evaluationResults`` by rating method, naming responses by ``modelResponseId``, and
    handloop's ``displayOrder`` (the ids in the order this worker saw them)."""
    results: dict[str, list[dict[str, Any]]] = {}
    order: list[str] | None = None
    for metric in metrics:
        value = answer.get(metric.field)
        if not isinstance(value, dict):
            continue
        if order is None and isinstance(value.get("shownOrder"), list):
            order = [str(i) for i in value["shownOrder"]]
        name = metric.name
        if metric.method == CHOICE and value.get("chosen") is not None:
            entry = {"metricName": name, "result": {"modelResponseId": value["chosen"]}}
            results.setdefault("comparisonChoice", []).append(entry)
        elif metric.method == COMPARISON_LIKERT and len(value.get("shownOrder") or []) == 2:
            left, right, point = _left_right(value)
            results.setdefault("comparisonLikertScale", []).append(
                {
                    "leftModelResponseId": left,
                    "metricName": name,
                    "result": point,
                    "rightModelResponseId": right,
                }
            )
        elif metric.method == RANK and isinstance(value.get("ranks"), dict):
            ranks = value["ranks"]
            results.setdefault("comparisonRank", []).append(
                {
                    "metricName": name,
                    "result": [{"modelResponseId": i, "rank": ranks[i]} for i in sorted(ranks)],
                }
            )
        elif metric.method == LIKERT:
            ratings = (value.get("ratings") or {}).get(name) or {}
            for model_id in sorted(ratings):
                results.setdefault("individualLikertScale", []).append(
                    {"metricName": name, "modelResponseId": model_id, "result": ratings[model_id]}
                )
        elif metric.method == THUMBS and isinstance(value.get("thumbs"), dict):
            for model_id in sorted(value["thumbs"]):
                results.setdefault("thumbsUpDown", []).append(
                    {
                        "metricName": name,
                        "modelResponseId": model_id,
                        "result": value["thumbs"][model_id] == "up",
                    }
                )
    content: dict[str, Any] = {"evaluationResults": results}
    if order is not None:
        content["displayOrder"] = order
    return content

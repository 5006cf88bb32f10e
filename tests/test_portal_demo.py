"""`handloop serve --demo`: a newcomer's first run has a worker, two jobs (ranking three
answers; picking the better of two with a preference element) and loops to review."""

from __future__ import annotations

import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from handloop.services.demo import (
    DEMO_EMAIL,
    DEMO_FLOW,
    EVALUATION_FLOW,
    EVALUATION_JOB,
    EVALUATION_PROMPTS,
    PAIRWISE_FLOW,
    PAIRWISE_SAMPLES,
    PAIRWISE_TEMPLATE,
    SAMPLES,
    seed_demo,
)
from handloop.templating import render_template
from handloop.templating.prerender import prerender_markdown
from tests.lifecycle_support import fresh_harness
from tests.portal_support import PortalClient, wait_for
from tests.support import HANDLOOP, LiveServer, free_port, run_cli

RANKS = {"response_1_ranking": "1", "response_2_ranking": "2", "response_3_ranking": "3"}
# What the pairwise flow's hl-comparison-choice submits (docs/templates.md): ids, not places.
PREFERENCE = {
    "preference": {
        "kind": "comparison-choice",
        "shownOrder": ["1", "0"],
        "outcome": "chosen",
        "chosen": "0",
        "strength": {"value": 2, "label": "Better"},
    }
}
WAITING = {
    DEMO_FLOW: len(SAMPLES),
    PAIRWISE_FLOW: len(PAIRWISE_SAMPLES),
    EVALUATION_FLOW: len(EVALUATION_PROMPTS),
}


def serve_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "HANDLOOP_DATA_DIR": str(data_dir), "HANDLOOP_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [*HANDLOOP, "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith("  job"):
            break
    return process, lines


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.slow  # `handloop serve --demo` started twice
def test_the_demo_can_be_clicked_through_and_survives_a_restart(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    process, lines = serve_demo(data_dir, port)
    live = LiveServer(data_dir=data_dir, port=port)
    try:
        printed = "".join(lines)
        match = re.search(r"password = (\S+)", printed)
        assert match is not None and DEMO_EMAIL in printed
        key = re.search(r"aws_access_key_id\s+= (\S+)\s+aws_secret_access_key = (\S+)", printed)
        assert key is not None
        live.first_key = {"AccessKeyId": key.group(1), "SecretAccessKey": key.group(2)}
        worker = wait_for(lambda: _try_sign_in(live, match.group(1)), what="sign-in")
        assert worker.jobs() == WAITING
        a2i = live.client("sagemaker-a2i-runtime")
        task = worker.claim(DEMO_FLOW)
        assert task is not None and len(task["input"]["taskObject"]["responses"]) == 3
        pair = worker.claim(PAIRWISE_FLOW)
        assert pair is not None and len(pair["input"]["responses"]) == 2
        assert worker.submit(task["taskId"], RANKS).status_code == 204
        assert worker.submit(pair["taskId"], PREFERENCE).status_code == 204
        names = [task["humanLoopName"], pair["humanLoopName"]]
        wait_for(
            lambda: all(
                a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "Completed"
                for name in names
            ),
            what="both demo loops Completed",
        )
    finally:
        stop(process)
    process, lines = serve_demo(data_dir, port)
    try:
        assert "as printed the first time" in "".join(lines)
        worker = wait_for(lambda: _try_sign_in(live, match.group(1)), what="sign-in again")
        # Seeding again started no loop twice and none afresh: one fewer in each job worked.
        worked = (DEMO_FLOW, PAIRWISE_FLOW)
        assert worker.jobs() == {
            flow: waiting - (flow in worked) for flow, waiting in WAITING.items()
        }
    finally:
        stop(process)


def test_seeding_again_adds_nothing_and_both_flows_have_their_loops(
    tmp_path: Path, database_url: str | None
) -> None:
    """Every `serve --demo` seeds: a second run must neither fail nor start loops again,
    and the worker it made first sees both jobs with every sample loop waiting."""
    with fresh_harness(tmp_path, database_url) as h:
        first = h.run(seed_demo(h.services))
        again = h.run(seed_demo(h.services))
        assert first.password is not None and again.password is None
        worker = h.services.workers.verify_password(DEMO_EMAIL, first.password)
        jobs = h.run(h.services.tasks.jobs(worker))
        assert {job.flow_definition_name: job.waiting for job in jobs} == WAITING
        [pairwise] = [job for job in jobs if job.flow_definition_name == PAIRWISE_FLOW]
        assert pairwise.title == "Pick the better of two answers"
        inputs = []
        while (task := h.run(h.services.tasks.claim(worker, PAIRWISE_FLOW))) is not None:
            inputs.append(json.loads(task.input_content))
            h.run(h.services.tasks.submit(worker, task.public_id, PREFERENCE, 5.0))
        assert sorted(inputs, key=json.dumps) == sorted(PAIRWISE_SAMPLES, key=json.dumps)
        # The evaluation job, seeded once, shows its generated UI, not its flow's.
        page = h.run(
            h.services.evaluations.page(
                created_after=None,
                created_before=None,
                status=None,
                name_contains=None,
                ascending=True,
                token=None,
                max_results=10,
            )
        )
        assert [(job.name, job.status) for job in page.items] == [(EVALUATION_JOB, "InProgress")]
        task = h.run(h.services.tasks.claim(worker, EVALUATION_FLOW))
        assert task is not None and "<hl-comparison-choice" in task.template
        assert json.loads(task.input_content)["prompt"] == EVALUATION_PROMPTS[0][0]


def test_the_pairwise_answers_export_without_a_mapping(
    tmp_path: Path, database_url: str | None
) -> None:
    """What README promises for the demo: `handloop export flow:llm-pairwise-demo` turns
    its answers into pairs with no --mapping, the conversation sample included (its
    prompt is the conversation, ending with the last user turn)."""
    with fresh_harness(tmp_path, database_url) as h:
        seeded = h.run(seed_demo(h.services))
        assert seeded.password is not None
        worker = h.services.workers.verify_password(DEMO_EMAIL, seeded.password)
        while (task := h.run(h.services.tasks.claim(worker, PAIRWISE_FLOW))) is not None:
            h.run(h.services.tasks.submit(worker, task.public_id, PREFERENCE, 5.0))
        settings = h.services.settings
        store = ["--database-url", settings.database_url] if settings.database_url else []
        out = tmp_path / "pairs.jsonl"
        result = run_cli(
            "export",
            f"flow:{PAIRWISE_FLOW}",
            "--to",
            str(out),
            "--data-dir",
            str(settings.data_dir),
            *store,
            "--quiet",
        )
    assert result.returncode == 0, result.stderr
    rows = {row["human_loop_name"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert sorted(rows) == [f"demo-pairwise-{n}" for n in range(1, len(PAIRWISE_SAMPLES) + 1)]
    for number, sample in enumerate(PAIRWISE_SAMPLES, start=1):
        row = rows[f"demo-pairwise-{number}"]
        assert (row["chosen"], row["rejected"]) == tuple(sample["responses"])  # "0" chosen
        if "messages" in sample:
            assert sample["messages"][-1]["content"] in row["prompt"]
        else:
            assert row["prompt"] == sample["prompt"]


class _Attributes(HTMLParser):
    """The attributes of every hl- element of a page, by tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.startswith("hl-"):
            self.found[tag] = dict(attrs)


def _elements(page: str) -> dict[str, dict[str, str | None]]:
    parser = _Attributes()
    parser.feed(page)
    parser.close()
    return parser.found


@pytest.mark.parametrize("sample", PAIRWISE_SAMPLES, ids=lambda s: str(sorted(s)))
def test_the_pairwise_template_shows_each_sample_as_markdown(sample: dict[str, Any]) -> None:
    """The pairwise template puts each sample's responses into hl-comparison-choice intact
    (quotes, backticks and pipes survive the single-quoted attribute) with every option the
    demo shows, and the prompt as Markdown, or the conversation in hl-conversation; the
    responses are real Markdown that the server renders (code, lists, a table, bold)."""
    page = render_template(PAIRWISE_TEMPLATE, sample)
    elements = _elements(page)
    choice = elements["hl-comparison-choice"]
    assert json.loads(choice["responses"] or "") == sample["responses"]
    assert choice["name"] == "preference"
    assert {"allow-tie", "allow-both-bad", "strength", "reason"} <= set(choice)
    if "messages" in sample:
        assert json.loads(elements["hl-conversation"]["messages"] or "") == sample["messages"]
        assert 'class="prompt"' not in page
    else:
        assert "hl-conversation" not in elements
        assert '<div class="prompt"><div class="hl-markdown">' in page
    shown = prerender_markdown(page)
    assert shown.count("<template data-hl-markdown>") == len(elements)
    assert re.search(r"<strong[\s>]", shown)


def test_the_pairwise_samples_use_rich_markdown() -> None:
    """The demo is where a newcomer first sees responses rendered: across the samples there
    is a code block, a numbered and a bulleted list, a table, bold and a quote."""
    shown = "".join(
        prerender_markdown(render_template(PAIRWISE_TEMPLATE, sample))
        for sample in PAIRWISE_SAMPLES
    )
    for tag in ("pre", "ol", "ul", "table", "strong", "blockquote"):
        assert re.search(rf"<{tag}[\s>]", shown), tag


def _try_sign_in(live: LiveServer, password: str) -> PortalClient | None:
    try:
        return PortalClient(live, DEMO_EMAIL, password)
    except Exception:
        return None

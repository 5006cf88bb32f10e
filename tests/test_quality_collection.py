"""Quality control during collection (docs/quality.md), on SQLite and PostgreSQL: the flow
tags checked at CreateFlowDefinition, gold items that never leak, adaptive overlap one
answer per round up to the cap, pausing and resuming a worker, and concurrent workers that
never push a loop past its cap. Services on a fake clock where the steps must be exact; a
live server, boto3, the portal's JSON API and the command line where the wire is the point.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from handloop.domain.output_layout import split_s3_uri
from handloop.domain.records import Worker
from handloop.services.quality import PAUSED_EVENT, WorkerPaused
from handloop.store.tables import events, gold_tasks, human_loops, tasks, worker_quality
from tests.fixtures.feedback.builders import TEMPLATE as RANKING_TEMPLATE
from tests.lifecycle_support import Harness, fresh_harness
from tests.portal_support import PortalClient, add_worker, read_output, wait_for
from tests.support import LiveServer, error_of, run_cli

# -- services on a fake clock -----------------------------------------------------------------


@pytest.fixture
def h(tmp_path: Path, database_url: str | None) -> Iterator[Harness]:
    with fresh_harness(tmp_path, database_url) as harness:
        yield harness


def answer_next(h: Harness, worker: Worker, flow: str, answer: dict[str, Any]) -> str | None:
    """The worker claims their next task on the flow and submits ``answer``; the loop's
    name (a gold task's is made up), or None when nothing was left for them."""
    task = h.run(h.services.tasks.claim(worker, flow))
    if task is None:
        return None
    h.run(h.services.tasks.submit(worker, task.public_id, answer))
    return task.human_loop_name


def loop_row(h: Harness, name: str) -> Any:
    return h.services.db.read_now(
        lambda c: c.execute(sa.select(human_loops).where(human_loops.c.name == name)).one()
    )


def answers_in_output(h: Harness, name: str) -> list[dict[str, Any]]:
    loop = h.run(h.services.human_loops.get(name))
    bucket, key = split_s3_uri(loop.output_uri)
    doc = json.loads(h.services.blobs.get(bucket, key))
    return [answer["answerContent"] for answer in doc["humanAnswers"]]


def rows(h: Harness, table: sa.Table) -> list[Any]:
    return list(h.services.db.read_now(lambda c: c.execute(sa.select(table)).all()))


def cli_on(h: Harness, *args: str) -> Any:
    """``handloop ARGS`` on the harness's data directory and database."""
    settings = h.services.settings
    where = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        where += ["--database-url", settings.database_url]
    return run_cli(*args, *where)


GOLD_FILE = (
    b'{"input": {"n": "gold-1"}, "answer": {"x": "right"}}\n'
    b"\n"
    b'{"input": {"n": "gold-2"}, "answers": [{"x": "right"}, {"x": "also right"}]}\n'
)


def test_a_flow_without_tags_behaves_as_a2i(h: Harness) -> None:
    flow = h.flow("plain", "g", task_count=2)
    # Gold items may be loaded; without handloop:gold-rate they are never served.
    h.run(h.services.quality.add_gold(flow, GOLD_FILE))
    ann, bob = h.worker("ann@example.com", "g"), h.worker("bob@example.com", "g")
    h.start(flow, "plain-1")
    assert answer_next(h, ann, flow, {"x": "a"}) == "plain-1"
    assert answer_next(h, bob, flow, {"x": "b"}) == "plain-1"  # they disagree: no matter
    assert answer_next(h, ann, flow, {"x": "a"}) is None
    assert h.status("plain-1") == "Completed"
    assert answers_in_output(h, "plain-1") == [{"x": "a"}, {"x": "b"}]
    loop = loop_row(h, "plain-1")
    assert (loop.task_count, loop.max_task_count, loop.rounds, loop.stop_reason) == (
        2,
        None,
        0,
        None,
    )
    assert rows(h, worker_quality) == [] and rows(h, gold_tasks) == []
    listed = cli_on(h, "workers", "list", "--flow", flow, "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    assert "no handloop quality tags" in listed.stderr
    unknown = cli_on(h, "workers", "list", "--flow", "no-such-flow")
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr


def adaptive_flow(h: Harness, name: str, agreement: str) -> str:
    return h.flow(
        name,
        "g",
        task_count=2,
        tags={"handloop:max-task-count": "4", "handloop:agreement": agreement, "team": "x"},
    )


def test_each_round_of_disagreement_adds_exactly_one_answer_up_to_the_cap(h: Harness) -> None:
    flow = adaptive_flow(h, "overlap", "0.9")
    people = [h.worker(f"w{k}@example.com", "g") for k in range(6)]
    h.start(flow, "split")
    assert loop_row(h, "split").max_task_count == 4
    for person, answer in zip(people[:2], ("a", "b"), strict=True):
        assert answer_next(h, person, flow, {"x": answer}) == "split"
    for expected_count, person, answer in ((3, people[2], "c"), (4, people[3], "d")):
        loop = loop_row(h, "split")
        assert (loop.task_count, loop.rounds, loop.claimed) == (
            expected_count,
            expected_count - 2,
            expected_count - 1,
        )
        assert h.status("split") == "InProgress"
        task = h.run(h.services.tasks.claim(person, flow))
        assert task is not None and task.human_loop_name == "split"
        # Exactly one more answer: while it is held, nobody else is offered the loop.
        assert h.run(h.services.tasks.claim(people[5], flow)) is None
        h.run(h.services.tasks.submit(person, task.public_id, {"x": answer}))
    loop = loop_row(h, "split")
    assert (loop.task_count, loop.submitted, loop.rounds, loop.stop_reason) == (4, 4, 2, "cap")
    assert h.status("split") == "Completed"
    assert answers_in_output(h, "split") == [{"x": v} for v in "abcd"]
    assert answer_next(h, people[4], flow, {"x": "e"}) is None


def test_a_loop_waiting_for_an_extra_answer_completes_with_its_answers_at_lifetime(
    h: Harness,
) -> None:
    """Its round's answers are in: the lifetime ends the wait, not the loop's answers."""
    flow = h.flow(
        "lapse",
        "g",
        task_count=2,
        lifetime=600,
        tags={"handloop:max-task-count": "4", "handloop:agreement": "0.9"},
    )
    people = [h.worker(f"l{k}@example.com", "g") for k in range(3)]
    h.start(flow, "waiting")
    for person, answer in zip(people[:2], ("a", "b"), strict=True):
        assert answer_next(h, person, flow, {"x": answer}) == "waiting"
    held = h.run(h.services.tasks.claim(people[2], flow))  # the extra turn, never answered
    assert held is not None and loop_row(h, "waiting").task_count == 3
    h.clock.advance(601)
    h.run(h.services.tasks.expire_loops())
    loop = loop_row(h, "waiting")
    assert h.status("waiting") == "Completed"
    assert (loop.task_count, loop.submitted, loop.stop_reason) == (2, 2, "lifetime")
    assert answers_in_output(h, "waiting") == [{"x": "a"}, {"x": "b"}]


def test_agreement_stops_a_loop_at_once_or_after_a_round(h: Harness) -> None:
    flow = adaptive_flow(h, "agree", "0.3")
    ann, bob, cat = (h.worker(f"{n}@example.com", "g") for n in ("ann", "bob", "cat"))
    h.start(flow, "alike")
    h.start(flow, "apart")
    for person, answers in ((ann, ("a", "a")), (bob, ("a", "b"))):
        for answer in answers:
            answer_next(h, person, flow, {"x": answer})
    alike = loop_row(h, "alike")
    assert (alike.task_count, alike.rounds, alike.stop_reason) == (2, 0, "agreement")
    assert answers_in_output(h, "alike") == [{"x": "a"}, {"x": "a"}]
    assert loop_row(h, "apart").task_count == 3 and h.status("apart") == "InProgress"
    # Agreement of [a, b, a]: one pair in three alike, 0.33 >= 0.3.
    assert answer_next(h, cat, flow, {"x": "a"}) == "apart"
    apart = loop_row(h, "apart")
    assert (apart.task_count, apart.rounds, apart.stop_reason) == (3, 1, "agreement")
    assert answers_in_output(h, "apart") == [{"x": "a"}, {"x": "b"}, {"x": "a"}]


PAUSING = {
    "handloop:gold-rate": "0.5",
    "handloop:min-trust": "0.7",
    "handloop:min-evidence": "3",
}


def test_pausing_returns_the_workers_tasks_and_records_the_event_once(h: Harness) -> None:
    """Bea misses both gold items (trust 9/14 = 0.64, two observations: not enough to
    judge), answers two loops against the others and holds a third. Cal's answer ends the
    first loop: her third observation (trust 9/15 = 0.6 < 0.7) pauses her. Dan's ends the
    second: it would pause her too, but she is paused once."""
    flow = h.flow("paused", "g", task_count=2, tags=PAUSING)
    h.run(h.services.quality.add_gold(flow, GOLD_FILE))
    bea, cal, dan, eve = (h.worker(f"{n}@example.com", "g") for n in ("bea", "cal", "dan", "eve"))
    for name in ("p-1", "p-2", "p-3"):
        h.start(flow, name)
    served = [answer_next(h, bea, flow, {"x": "wrong"}) for _ in range(4)]
    assert served[2:] == ["p-1", "p-2"]  # gold first, and gold-2 right after (rate 0.5)
    assert not {served[0], served[1]} & {"p-1", "p-2", "p-3"}
    held = h.run(h.services.tasks.claim(bea, flow))
    assert held is not None and held.human_loop_name == "p-3"
    assert loop_row(h, "p-3").claimed == 1

    for person, loop in ((cal, "p-1"), (dan, "p-2")):
        assert [answer_next(h, person, flow, {"x": "right"}) for _ in range(3)][2] == loop
        assert h.status(loop) == "Completed"

    [bea_row] = [r for r in rows(h, worker_quality) if r.worker_pk == bea.id]
    assert bea_row.paused_at is not None and "below 0.70" in bea_row.paused_reason
    assert (bea_row.gold_answers, bea_row.agreement_n) == (2, 2)
    # Her task on p-3 went back to the pool, for someone else.
    [turn] = [r for r in rows(h, tasks) if r.public_id == held.public_id]
    assert turn.state == "revoked" and loop_row(h, "p-3").claimed == 0
    with pytest.raises(WorkerPaused, match="paused"):
        h.run(h.services.tasks.claim(bea, flow))
    assert answer_next(h, eve, flow, {"x": "right"}) is not None  # eve's first: gold
    assert answer_next(h, eve, flow, {"x": "right"}) is not None
    assert answer_next(h, eve, flow, {"x": "right"}) == "p-3"

    paused = [r.body for r in rows(h, events) if r.body["detail-type"] == PAUSED_EVENT]
    assert len(paused) == 1
    [event] = paused
    assert event["source"] == "handloop"
    assert event["resources"] == [h.services.arns.build("flow-definition", flow)]
    detail = event["detail"]
    assert (detail["flowDefinitionName"], detail["email"], detail["workerId"]) == (
        flow,
        "bea@example.com",
        bea.worker_id,
    )
    assert detail["trust"] == pytest.approx(0.6) and detail["reason"] == bea_row.paused_reason

    # The figures, as the requester sees them; then resuming her.
    listed = cli_on(h, "workers", "list", "--flow", flow, "--json")
    assert listed.returncode == 0, listed.stderr
    figures = {entry["email"]: entry for entry in json.loads(listed.stdout)}
    assert figures["bea@example.com"]["paused"] is True
    assert figures["bea@example.com"]["trust"] == pytest.approx(9 / 16)  # dan's answer too
    assert figures["bea@example.com"]["gold_accuracy"] == 0.0
    assert figures["cal@example.com"]["paused"] is False
    assert figures["cal@example.com"]["gold_accuracy"] == 1.0
    resumed = cli_on(h, "workers", "resume", bea.worker_id, "--flow", flow)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resumed bea@example.com" in resumed.stdout
    again = cli_on(h, "workers", "resume", "bea@example.com", "--flow", flow)
    assert again.returncode == 2 and "not paused" in again.stderr
    back = h.run(h.services.tasks.claim(bea, flow))  # her turn at p-3 again, no 403
    assert back is not None and back.public_id == held.public_id


def test_a_removed_workers_answer_does_not_block_its_loop(h: Harness) -> None:
    """The answer stays without a worker: it counts for agreement, has no figures."""
    flow = h.flow("removed", "g", task_count=2, tags={"handloop:min-trust": "0.5"})
    ann, bob = h.worker("ann@example.com", "g"), h.worker("bob@example.com", "g")
    h.start(flow, "r-1")
    answer_next(h, ann, flow, {"x": "a"})
    h.services.workers.remove("ann@example.com")
    assert answer_next(h, bob, flow, {"x": "a"}) == "r-1"
    assert h.status("r-1") == "Completed"
    [bob_row] = rows(h, worker_quality)
    assert (bob_row.worker_pk, bob_row.agreement_n, bob_row.agreement_sum) == (bob.id, 1, 1.0)


def test_gold_commands(h: Harness, tmp_path: Path) -> None:
    flow = h.flow("golden", "g", tags={"handloop:gold-rate": "0.1"})
    good = tmp_path / "gold.jsonl"
    good.write_bytes(GOLD_FILE)
    added = cli_on(h, "gold", "add", flow, str(good))
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"added 2, updated 0 gold item(s) on {flow}"
    assert added.stderr == ""
    good.write_bytes(GOLD_FILE + b'{"input": {"n": "gold-3"}, "answer": {"x": "3"}}\n')
    assert "added 1, updated 2" in cli_on(h, "gold", "add", flow, str(good)).stdout

    for bad, where in [
        (b'{"input": {"n": 1}, "answer": {"x": 1}}\n{"input": {"n": 2}}\n', "line 2"),
        (b'{"input": {"n": 1}, "answer": {"x": 1}}\n\n{"input": \n', "line 3"),
        (b'{"input": [1], "answer": {"x": 1}}\n', "line 1"),
        (b'{"input": {}, "answer": {}, "answers": [{}]}\n', "line 1"),
        (b'{"input": {}, "answers": []}\n', "line 1"),
        (b'{"input": {"n": "\xff"}, "answer": {}}\n', "line 1"),
    ]:
        path = tmp_path / "bad.jsonl"
        path.write_bytes(bad)
        refused = cli_on(h, "gold", "add", flow, str(path))
        assert refused.returncode == 2, (bad, refused.stdout, refused.stderr)
        assert where in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    assert cli_on(h, "gold", "add", flow, str(tmp_path / "empty.jsonl")).returncode == 2
    missing = cli_on(h, "gold", "add", "no-such-flow", str(good))
    assert missing.returncode == 1 and "does not exist" in missing.stderr

    listed = json.loads(cli_on(h, "gold", "list", flow, "--json").stdout)
    assert [item["input"] for item in listed] == [{"n": "gold-1"}, {"n": "gold-2"}, {"n": "gold-3"}]
    assert listed[1]["answers"] == [{"x": "right"}, {"x": "also right"}]
    assert {(item["answered"], item["mean_score"]) for item in listed} == {(0, None)}
    ann = h.worker("ann@example.com", "g")
    h.start(flow, "real")
    assert answer_next(h, ann, flow, {"x": "also right"}) != "real"  # gold-1 comes first
    text = cli_on(h, "gold", "list", flow).stdout.splitlines()
    assert text[0].split("\t")[:3] == [str(listed[0]["id"]), "answered 1", "mean 0.00"]
    assert text[1].split("\t")[3] == '{"n":"gold-2"}'

    assert cli_on(h, "gold", "remove", flow).returncode == 2
    assert cli_on(h, "gold", "remove", flow, "--id", "1", "--all").returncode == 2
    gone = cli_on(h, "gold", "remove", flow, "--id", str(listed[1]["id"]))
    assert gone.returncode == 0 and "Removed 1 gold item(s)" in gone.stdout
    unknown = cli_on(h, "gold", "remove", flow, "--id", "999")
    assert unknown.returncode == 1 and "No gold item 999" in unknown.stderr
    assert "Removed 2 gold item(s)" in cli_on(h, "gold", "remove", flow, "--all").stdout
    assert json.loads(cli_on(h, "gold", "list", flow, "--json").stdout) == []
    plain = h.flow("not-golden", "g")
    note = cli_on(h, "gold", "add", plain, str(good))
    assert note.returncode == 0 and "no handloop:gold-rate tag" in note.stderr


# -- a live server: boto3, the portal's JSON API, the command line -------------------------------


def server_engine(server: LiveServer) -> sa.Engine:
    url = server.database_url or f"sqlite:///{server.data_dir / 'handloop.db'}"
    return sa.create_engine(url)


def server_rows(server: LiveServer, query: Any) -> list[Any]:
    engine = server_engine(server)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def tagged_flow(
    server: LiveServer,
    name: str,
    tags: dict[str, str],
    *,
    task_count: int = 1,
    template: str = "<crowd-form><input name='x'></crowd-form>",
) -> str:
    """A work team of group ``name``, a template and a flow with ``tags``; the flow's ARN."""
    team, ui = team_and_ui(server, name, template)
    request = _flow_request(name, team, ui, task_count, tags)
    arn: str = server.client("sagemaker").create_flow_definition(**request)["FlowDefinitionArn"]
    return arn


def team_and_ui(server: LiveServer, name: str, template: str) -> tuple[str, str]:
    """A work team of the group ``name`` and a task UI with ``template``; their ARNs."""
    sm = server.client("sagemaker")
    team: str = sm.create_workteam(
        WorkteamName=f"{name}-team",
        Description="reviewers",
        MemberDefinitions=[
            {
                "CognitoMemberDefinition": {
                    "UserPool": "us-east-1_pool",
                    "UserGroup": name,
                    "ClientId": "client",
                }
            }
        ],
    )["WorkteamArn"]
    ui: str = sm.create_human_task_ui(
        HumanTaskUiName=f"{name}-ui", UiTemplate={"Content": template}
    )["HumanTaskUiArn"]
    return team, ui


def _flow_request(
    name: str, team: str, ui: str, task_count: int, tags: dict[str, str]
) -> dict[str, Any]:
    return {
        "FlowDefinitionName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/a2i",
        "HumanLoopConfig": {
            "WorkteamArn": team,
            "HumanTaskUiArn": ui,
            "TaskTitle": f"{name} title",
            "TaskDescription": f"{name} description",
            "TaskCount": task_count,
        },
        "OutputConfig": {"S3OutputPath": "s3://quality-outputs/out"},
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }


def start_loops(server: LiveServer, flow_arn: str, inputs: dict[str, Any]) -> None:
    a2i = server.client("sagemaker-a2i-runtime")
    for name, content in inputs.items():
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow_arn,
            HumanLoopInput={"InputContent": json.dumps(content)},
        )


def completed(server: LiveServer, names: list[str]) -> bool:
    a2i = server.client("sagemaker-a2i-runtime")
    return all(
        a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "Completed"
        for name in names
    )


@pytest.mark.parametrize(
    ("tags", "task_count", "words"),
    [
        ({"handloop:gold-rate": "lots"}, 1, "handloop:gold-rate"),
        ({"handloop:gold-rate": "0.9"}, 1, "from 0 to 0.5"),
        ({"handloop:agreement": "0"}, 1, "handloop:agreement"),
        ({"handloop:min-trust": "1"}, 1, "less than 1"),
        ({"handloop:min-evidence": "-3"}, 1, "handloop:min-evidence"),
        ({"handloop:gold_rate": "0.1"}, 1, "Unknown tag"),
        ({"handloop:max-task-count": "2"}, 3, "TaskCount (3)"),
        ({"handloop:max-task-count": "99"}, 1, "handloop:max-task-count"),
    ],
)
def test_bad_quality_tags_are_a_validation_exception(
    server: LiveServer, tags: dict[str, str], task_count: int, words: str
) -> None:
    sm = server.client("sagemaker")
    name = f"tags-{abs(hash(json.dumps(tags))) % 10**8}-{task_count}"
    team, ui = team_and_ui(server, name, "<crowd-form></crowd-form>")
    code, status, message = error_of(
        lambda: sm.create_flow_definition(**_flow_request(name, team, ui, task_count, tags))
    )
    assert (code, status) == ("ValidationException", 400)
    assert words in message
    assert (
        "ResourceNotFound"
        in error_of(lambda: sm.describe_flow_definition(FlowDefinitionName=name))[0]
    )
    # The same request with good tags (and a tag of the user's own) is accepted.
    good = {"handloop:max-task-count": "5", "handloop:agreement": "0.7", "owner": "me"}
    created = sm.create_flow_definition(**_flow_request(name, team, ui, task_count, good))
    assert created["FlowDefinitionArn"].endswith(f"flow-definition/{name}")


GOLD_MARK = "GOLD-MARK-7f3a"
ANSWER_MARK = "GOLD-ANSWER-MARK-91c2"


def test_gold_never_reaches_outputs_counts_events_or_exports(
    server: LiveServer, tmp_path: Path
) -> None:
    flow = "leak-check"
    arn = tagged_flow(
        server, flow, {"handloop:gold-rate": "0.5"}, task_count=3, template=RANKING_TEMPLATE
    )
    gold_lines = [
        {
            "input": {
                "taskObject": {
                    "prompt": f"{GOLD_MARK} prompt {k}",
                    "responses": [f"{GOLD_MARK} r{k}{i}" for i in range(3)],
                }
            },
            "answer": {f"response_{i}_ranking": str(i) for i in (1, 2, 3)},
        }
        for k in range(2)
    ]
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("\n".join(json.dumps(line) for line in gold_lines) + "\n")
    loaded = server.cli("gold", "add", flow, str(gold_file))
    assert loaded.returncode == 0 and "added 2, updated 0" in loaded.stdout, loaded.stderr
    names = [f"leak-{k}" for k in range(4)]
    start_loops(
        server,
        arn,
        {
            name: {"taskObject": {"prompt": f"real {name}", "responses": ["one", "two", "three"]}}
            for name in names
        },
    )
    a2i = server.client("sagemaker-a2i-runtime")
    gold_loop_names = []
    for email in ("l1@example.com", "l2@example.com", "l3@example.com"):
        add_worker(server, email, flow)
        worker = PortalClient(server, email)
        seen = []
        while (task := worker.claim(flow)) is not None:
            is_gold = GOLD_MARK in json.dumps(task["input"])
            if is_gold:
                gold_loop_names.append(task["humanLoopName"])
                # It looks like any task: a loop name, a frame that renders the template.
                frame = worker.http.get(task["frameUrl"])
                assert frame.status_code == 200 and GOLD_MARK in frame.text
                assert (
                    "ResourceNotFound"
                    in error_of(
                        lambda t=task: a2i.describe_human_loop(HumanLoopName=t["humanLoopName"])
                    )[0]
                )
            answer = {f"response_{i}_ranking": str(4 - i) for i in (1, 2, 3)}
            if is_gold:
                answer["note"] = ANSWER_MARK
            assert worker.submit(task["taskId"], answer).status_code == 204
            seen.append("gold" if is_gold else task["humanLoopName"])
        worker.close()
        # Gold first and then one in two claims, among real work only: two gold items each.
        assert seen == ["gold", "gold", *names], seen
    assert len(set(gold_loop_names)) == 6
    wait_for(lambda: completed(server, names), what="the loops to complete")

    listed = a2i.list_human_loops(FlowDefinitionArn=arn)["HumanLoopSummaries"]
    assert sorted(summary["HumanLoopName"] for summary in listed) == names
    for name in names:
        loop = a2i.describe_human_loop(HumanLoopName=name)
        output = read_output(server, loop["HumanLoopOutput"]["OutputS3Uri"])
        assert len(output["humanAnswers"]) == 3
        assert GOLD_MARK not in json.dumps(output) and ANSWER_MARK not in json.dumps(output)
    for path in (server.data_dir / "s3").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert GOLD_MARK not in text and ANSWER_MARK not in text, path
    counts = server_rows(
        server,
        sa.select(human_loops.c.name, human_loops.c.submitted, human_loops.c.claimed).where(
            human_loops.c.flow_definition_name == flow
        ),
    )
    assert sorted(counts) == [(name, 3, 3) for name in names]
    bodies = [json.dumps(row.body) for row in server_rows(server, sa.select(events))]
    mine = [body for body in bodies if f"flow-definition/{flow}" in body]
    assert len(mine) == 4
    for body in bodies:
        assert GOLD_MARK not in body and ANSWER_MARK not in body
        assert not any(name in body for name in gold_loop_names)

    out = tmp_path / "pairs.jsonl"
    exported = server.cli("export", f"flow:{flow}", "--to", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 4 * 3 * 3  # loops x workers x response pairs
    assert GOLD_MARK not in out.read_text() and ANSWER_MARK not in out.read_text()
    # The scores are kept on the requester's side only.
    gold = json.loads(server.cli("gold", "list", flow, "--json").stdout)
    # Ranks 3, 2, 1 against 1, 2, 3: one field of four alike (the note is not expected).
    assert [(item["answered"], item["mean_score"]) for item in gold] == [(3, 0.25), (3, 0.25)]


def test_a_paused_worker_is_refused_and_resume_lifts_it(server: LiveServer) -> None:
    """Three gold items missed pause the worker (trust 9/16 = 0.56 < 0.7 after three)."""
    flow = "pause-check"
    arn = tagged_flow(server, flow, PAUSING)
    gold = "\n".join(
        json.dumps({"input": {"g": k}, "answer": {"x": "right"}}) for k in range(4)
    ).encode()
    assert server.cli("gold", "add", flow, "-", input=gold.decode()).returncode == 0
    start_loops(server, arn, {f"pause-{k}": {"n": k} for k in range(6)})
    add_worker(server, "pz@example.com", flow)
    worker = PortalClient(server, "pz@example.com")
    for _ in range(4):  # gold, gold, real, gold
        task = worker.claim(flow)
        assert task is not None
        answer = {"x": "wrong"} if "g" in task["input"] else {"x": "real"}
        assert worker.submit(task["taskId"], answer).status_code == 204
    refused = worker.post(f"/api/jobs/{flow}/claim")
    assert refused.status_code == 403
    assert refused.json()["code"] == "WorkerPaused"
    assert f"You are paused on the job {flow}" in refused.json()["detail"]
    paused = [
        row.body
        for row in server_rows(server, sa.select(events))
        if row.body["detail-type"] == PAUSED_EVENT
        and row.body["detail"]["flowDefinitionName"] == flow
    ]
    assert len(paused) == 1 and paused[0]["detail"]["email"] == "pz@example.com"

    listed = server.cli("workers", "list", "--flow", flow, "--json")
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["paused"] is True and entry["trust"] < 0.7
    assert (entry["gold_answers"], entry["gold_accuracy"], entry["answers"]) == (3, 0.0, 1)
    assert entry["agreement"] is None and entry["median_seconds"] is None
    text = server.cli("workers", "list", "--flow", flow).stdout.splitlines()
    assert text[0].startswith("email\tworker id\ttrust") and "paused: trust 0.56" in text[1]

    resumed = server.cli("workers", "resume", "pz@example.com", "--flow", flow)
    assert resumed.returncode == 0, resumed.stderr
    task = worker.claim(flow)
    assert task is not None and task["humanLoopName"] == "pause-1"
    not_paused = server.cli("workers", "resume", "pz@example.com", "--flow", flow)
    assert not_paused.returncode == 2 and "not paused" in not_paused.stderr
    for args in (("nobody@example.com", "--flow", flow), ("pz@example.com", "--flow", "nope")):
        missing = server.cli("workers", "resume", *args)
        assert missing.returncode == 1 and "Traceback" not in missing.stderr
    worker.close()


def test_concurrent_workers_never_push_a_loop_past_its_cap(server: LiveServer) -> None:
    """Eight workers claim, sometimes release, and submit, all at once, until every loop
    is complete. Everyone answers the even loops alike (done at TaskCount, 2) and the odd
    ones each their own way (a round at a time up to the cap, 4): no loop ever gets more
    answers than the cap, however the claims and submits interleave."""
    flow, cap = "storm", 4
    tags = {
        "handloop:max-task-count": str(cap),
        "handloop:agreement": "0.99",
        "handloop:gold-rate": "0.2",
    }
    arn = tagged_flow(server, flow, tags, task_count=2)
    gold = "\n".join(json.dumps({"input": {"g": k}, "answer": {"x": "a"}}) for k in range(3))
    assert server.cli("gold", "add", flow, "-", input=gold).returncode == 0
    names = [f"storm-{k}" for k in range(12)]
    start_loops(server, arn, {name: {"n": name} for name in names})
    emails = [f"s{k}@example.com" for k in range(8)]
    for email in emails:
        add_worker(server, email, flow)
    stop = threading.Event()
    errors: list[str] = []

    def work(index: int) -> int:
        rng = random.Random(index)
        client = PortalClient(server, emails[index])
        done = 0
        try:
            while not stop.is_set():
                response = client.post(f"/api/jobs/{flow}/claim")
                if response.status_code != 200:
                    errors.append(f"claim {response.status_code} {response.text}")
                    return done
                task = response.json()["task"]
                if task is None:
                    stop.wait(0.02)  # a loop may get another round in a moment
                    continue
                if rng.random() < 0.2:
                    client.post(f"/api/tasks/{task['taskId']}/release")
                    continue
                item = task["input"].get("n", "gold-0")
                alike = int(item.rsplit("-", 1)[1]) % 2 == 0
                sent = client.submit(task["taskId"], {"x": "a" if alike else emails[index]})
                if sent.status_code != 204:
                    errors.append(f"submit {sent.status_code} {sent.text}")
                    return done
                done += 1
        finally:
            client.close()
        return done

    with ThreadPoolExecutor(len(emails)) as pool:
        futures = [pool.submit(work, k) for k in range(len(emails))]
        try:
            wait_for(lambda: errors or completed(server, names), 180, "every loop to complete")
        finally:
            stop.set()
        answered = sum(future.result() for future in futures)
    assert errors == []
    loops = server_rows(
        server,
        sa.select(
            human_loops.c.name,
            human_loops.c.task_count,
            human_loops.c.max_task_count,
            human_loops.c.claimed,
            human_loops.c.submitted,
            human_loops.c.rounds,
            human_loops.c.stop_reason,
        ).where(human_loops.c.flow_definition_name == flow),
    )
    assert len(loops) == len(names)
    a2i = server.client("sagemaker-a2i-runtime")
    for loop in loops:
        assert loop.max_task_count == cap
        assert 2 <= loop.submitted == loop.task_count <= cap, loop
        assert loop.claimed == loop.submitted and loop.rounds == loop.task_count - 2, loop
        uri = a2i.describe_human_loop(HumanLoopName=loop.name)["HumanLoopOutput"]["OutputS3Uri"]
        answers = [a["answerContent"]["x"] for a in read_output(server, uri)["humanAnswers"]]
        assert len(answers) == loop.submitted
        if int(loop.name.rsplit("-", 1)[1]) % 2 == 0:
            assert (loop.submitted, loop.stop_reason, answers) == (2, "agreement", ["a", "a"])
        else:
            assert (loop.submitted, loop.stop_reason) == (cap, "cap"), loop
            assert len(set(answers)) == cap
    # Gold answers are the rest of what was submitted; none counted in any loop.
    assert answered == sum(loop.submitted for loop in loops) + len(
        server_rows(
            server,
            sa.select(gold_tasks.c.id).where(
                gold_tasks.c.flow_definition_name == flow, gold_tasks.c.state == "submitted"
            ),
        )
    )

"""`handloop export flow:NAME`: loops started with boto3 on a live server, read from the store.

The worker portal, which completes loops and writes their output files, is not part of
this test: the test writes A2I-format output files itself at each loop's OutputS3Uri and
marks the loop Completed with ``complete_loop`` below, a test-only stand-in for the portal
(which writes the output first, then sets the status, as A2I does).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from handloop.domain.output_layout import split_s3_uri
from handloop.store.tables import human_loops
from tests.fixtures.feedback.builders import a2i_output, make_flow, notebook_answer
from tests.support import LiveServer, run_cli

FLOW = "store-export"


def complete_loop(server: LiveServer, name: str) -> None:
    """Test-only: set a loop Completed the way the portal will, after its output exists."""
    url = server.database_url or f"sqlite:///{server.data_dir / 'handloop.db'}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.update(human_loops)
                .where(human_loops.c.name == name)
                .values(status="Completed", updated_at=int(time.time() * 1_000_000))
            )
    finally:
        engine.dispose()


def write_output(server: LiveServer, uri: str, doc: dict[str, Any]) -> None:
    bucket, key = split_s3_uri(uri)
    path = server.data_dir / "s3" / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def loops(server: LiveServer) -> dict[str, Any]:
    sagemaker = server.client("sagemaker")
    a2i = server.client("sagemaker-a2i-runtime")
    flow = make_flow(sagemaker, FLOW)
    deadline = time.monotonic() + 30
    while (
        sagemaker.describe_flow_definition(FlowDefinitionName=FLOW)["FlowDefinitionStatus"]
        != "Active"
    ):
        assert time.monotonic() < deadline, "flow definition never became Active"
        time.sleep(0.05)
    names = [f"item-{k}" for k in range(6)]
    for k, name in enumerate(names):
        item = {"taskObject": {"prompt": f"prompt {k}", "responses": [f"a{k}", f"b{k}", f"c{k}"]}}
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow["flow_arn"],
            HumanLoopInput={"InputContent": json.dumps(item)},
        )
        uri = a2i.describe_human_loop(HumanLoopName=name)["HumanLoopOutput"]["OutputS3Uri"]
        if k < 4:  # two loops stay InProgress, without output
            answers = [(w, notebook_answer([1, 2, 3])) for w in ("alice", "bob", "carol")]
            doc = a2i_output(
                name,
                item["taskObject"]["prompt"],
                item["taskObject"]["responses"],
                answers,
                flow_arn=flow["flow_arn"],
            )
            write_output(server, uri, doc)
            complete_loop(server, name)
    return {"flow": flow, "names": names}


def test_completed_loops_are_exported_with_their_template(
    server: LiveServer, loops: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "prefs"
    result = server.cli("export", f"flow:{FLOW}", "--to", str(out), "--test-size", "0")
    assert result.returncode == 0, result.stderr
    assert "Wrote 36 rows (train 36)" in result.stderr  # 4 loops x 3 workers x 3 pairs
    card = (out / "README.md").read_text()
    assert f'"human_task_ui": "{loops["flow"]["ui_name"]}"' in card
    assert "human_task_ui_sha256" in card and loops["flow"]["flow_arn"] in card


def test_status_any_counts_loops_without_output(
    server: LiveServer, loops: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "all.jsonl"
    result = server.cli("export", f"flow:{FLOW}", "--to", str(out), "--status", "any")
    assert result.returncode == 0, result.stderr
    assert len(out.read_text().splitlines()) == 36
    only_open = server.cli(
        "export", f"flow:{FLOW}", "--to", str(out), "--status", "InProgress", "--overwrite"
    )
    assert only_open.returncode == 2
    assert "none of the 2 loop(s) has an output file yet" in only_open.stderr


def test_time_range_and_unknown_flow_are_clear(
    server: LiveServer, loops: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "x.jsonl"
    later = server.cli("export", f"flow:{FLOW}", "--to", str(out), "--created-after", "2999-01-01")
    assert later.returncode == 2 and "has no loops (Completed) in that time range" in later.stderr
    earlier = server.cli(
        "export", f"flow:{FLOW}", "--to", str(out), "--created-before", "2999-01-01"
    )
    assert earlier.returncode == 0, earlier.stderr
    missing = server.cli("export", "flow:no-such-flow", "--to", str(out), "--overwrite")
    assert missing.returncode == 2
    assert "flow definition 'no-such-flow' has no loops in the store" in missing.stderr
    bad_status = server.cli(
        "export", f"flow:{FLOW}", "--to", str(out), "--status", "Done", "--overwrite"
    )
    assert bad_status.returncode == 2 and "unknown status 'Done'" in bad_status.stderr


def test_completed_loop_without_output_is_an_error(
    server: LiveServer, loops: dict[str, Any], tmp_path: Path
) -> None:
    a2i = server.client("sagemaker-a2i-runtime")
    item = {"taskObject": {"prompt": "lost", "responses": ["x", "y"]}}
    a2i.start_human_loop(
        HumanLoopName="lost-output",
        FlowDefinitionArn=loops["flow"]["flow_arn"],
        HumanLoopInput={"InputContent": json.dumps(item)},
    )
    complete_loop(server, "lost-output")
    try:
        out = tmp_path / "y.jsonl"
        result = server.cli("export", f"flow:{FLOW}", "--to", str(out))
        assert result.returncode == 2
        assert "the loop is Completed but its output is missing" in result.stderr
        skipped = server.cli("export", f"flow:{FLOW}", "--to", str(out), "--skip-invalid-files")
        assert skipped.returncode == 0 and "1 invalid file(s) skipped" in skipped.stderr
    finally:
        a2i.delete_human_loop(HumanLoopName="lost-output")


def s3_env(server: LiveServer) -> dict[str, str]:
    key = server.default_key
    return {
        **server.env,
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_s3_prefix_through_the_server_s3_api(
    server: LiveServer, loops: dict[str, Any], tmp_path: Path
) -> None:
    from botocore.exceptions import ClientError

    try:
        server.client("s3").list_objects_v2(Bucket="review-bucket", Prefix="results/", MaxKeys=1)
    except ClientError as exc:
        if "does not serve the 's3' API" in str(exc):
            pytest.skip("this build of handloop serve has no S3 read API yet")
        raise
    out = tmp_path / "s3.jsonl"
    result = run_cli(
        "export",
        f"s3://review-bucket/results/{FLOW}/",
        "--to",
        str(out),
        "--endpoint-url",
        server.url,
        env=s3_env(server),
    )
    assert result.returncode == 0, result.stderr
    # The four loops with outputs; the S3 source reads files, not statuses.
    assert len(out.read_text().splitlines()) == 36


def test_s3_prefix_that_cannot_be_listed_is_one_line(server: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "s3.jsonl"
    result = run_cli(
        "export",
        "s3://no-such-bucket/outputs",
        "--to",
        str(out),
        "--endpoint-url",
        server.url,
        env=s3_env(server),
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "s3://no-such-bucket/outputs" in lines[0], result.stderr
    assert not out.exists()


def test_loops_are_paged_by_keyset_in_creation_order(
    server: LiveServer, loops: dict[str, Any]
) -> None:
    from handloop.services.exports import iter_flow_loops
    from handloop.store import Database

    db = Database(server.database_url or f"sqlite:///{server.data_dir / 'handloop.db'}")
    try:
        batches = list(iter_flow_loops(db, FLOW, statuses=None, batch_size=4))
        completed = [r.name for b in iter_flow_loops(db, FLOW, batch_size=3) for r in b]
    finally:
        db.close()
    refs = [ref for batch in batches for ref in batch]
    assert [len(b) for b in batches] == [4, 2]
    assert [r.name for r in refs] == loops["names"]  # started in this order
    assert [r.created_us for r in refs] == sorted(r.created_us for r in refs)
    assert completed == loops["names"][:4]
    assert all(r.output_uri.startswith(f"s3://review-bucket/results/{FLOW}/") for r in refs)

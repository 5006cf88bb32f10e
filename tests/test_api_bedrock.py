"""Bedrock's evaluation-job operations through boto3's `bedrock` client against a live
server: the job's life, and each operation's errors in Bedrock's words."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.api_fixtures import make_flow, unique
from tests.portal_support import PortalClient, add_worker
from tests.support import LiveServer, error_of

ROLE = "arn:aws:iam::123456789012:role/evaluations"
MODELS = ["model-a", "model-b"]
METRICS = [
    {"name": "Helpfulness", "description": "Which helps more", "ratingMethod": "ComparisonChoice"},
    {"name": "Correctness", "ratingMethod": "IndividualLikertScale"},
    {"name": "Accuracy", "ratingMethod": "ThumbsUpDown"},
]


def record(n: int, models: list[str] = MODELS) -> dict[str, Any]:
    return {
        "prompt": f"Question {n}?",
        "category": "General",
        "referenceResponse": f"Reference {n}",
        "modelResponses": [{"response": f"{m} says {n}", "modelIdentifier": m} for m in models],
    }


def put_dataset(server: LiveServer, key: str, lines: list[Any] | str) -> str:
    """A dataset in the store (as an upload would leave it); its s3:// URI."""
    path = Path(server.data_dir) / "s3" / "eval-data" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    text = lines if isinstance(lines, str) else "\n".join(json.dumps(line) for line in lines)
    path.write_text(text + "\n")
    return f"s3://eval-data/{key}"


def request(
    flow_arn: str,
    dataset: str,
    *,
    name: str | None = None,
    metrics: list[dict[str, Any]] = METRICS,
    models: list[str] = MODELS,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "jobName": name or unique("job"),
        "roleArn": ROLE,
        "evaluationConfig": {
            "human": {
                "humanWorkflowConfig": {"flowDefinitionArn": flow_arn, "instructions": "Be fair."},
                "customMetrics": metrics,
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {"name": "prompts", "datasetLocation": {"s3Uri": dataset}},
                        "metricNames": [m["name"] for m in metrics],
                    }
                ],
            }
        },
        "inferenceConfig": {
            "models": [
                {"precomputedInferenceSource": {"inferenceSourceIdentifier": m}} for m in models
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://eval-results/out/"},
        **extra,
    }


@pytest.fixture(scope="module")
def bedrock(server: LiveServer) -> Any:
    return server.client("bedrock")


@pytest.fixture(scope="module")
def flow(server: LiveServer) -> dict[str, str]:
    made = make_flow(server.client("sagemaker"))
    add_worker(server, "evaluator@example.com", "annotators")
    time.sleep(1.1)  # a new flow definition is Initializing for a moment
    return made


def wait_status(bedrock: Any, arn: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = bedrock.get_evaluation_job(jobIdentifier=arn)
        if job["status"] == wanted:
            return job
        assert time.monotonic() < deadline, f"job stayed {job['status']}"
        time.sleep(0.1)


def test_a_job_starts_a_loop_per_prompt_and_completes_with_bedrock_results(
    server: LiveServer, bedrock: Any, flow: dict[str, str]
) -> None:
    dataset = put_dataset(server, "ok.jsonl", [record(n) for n in range(3)])
    asked = request(flow["flow_arn"], dataset, name="complete-me")
    arn = bedrock.create_evaluation_job(**asked)["jobArn"]
    assert arn.startswith("arn:aws:bedrock:us-east-1:123456789012:evaluation-job/")
    job = bedrock.get_evaluation_job(jobIdentifier=arn)
    assert (job["status"], job["jobType"], job["jobName"]) == ("InProgress", "Human", "complete-me")
    assert job["evaluationConfig"] == asked["evaluationConfig"]
    listed = bedrock.list_evaluation_jobs(nameContains="complete")["jobSummaries"]
    assert [j["jobArn"] for j in listed] == [arn]
    assert listed[0]["inferenceConfigSummary"]["modelConfigSummary"] == {
        "precomputedInferenceSourceIdentifiers": MODELS
    }

    worker = PortalClient(server, "evaluator@example.com")
    answered = 0
    while (task := worker.claim(flow["flow_name"])) is not None:
        answer = {
            "m0": {"kind": "comparison-choice", "shownOrder": ["1", "0"], "outcome": "chosen",
                   "chosen": "1"},
            "likert": {"kind": "likert", "shownOrder": ["1", "0"], "criteria": ["Correctness"],
                       "ratings": {"Correctness": {"0": 4, "1": 2}}},
            "m2": {"kind": "thumbs", "shownOrder": ["1", "0"], "thumbs": {"0": "up", "1": "down"}},
        }  # fmt: skip
        assert worker.submit(task["taskId"], answer).status_code == 204
        answered += 1
    assert answered == 3
    job = wait_status(bedrock, arn, "Completed")
    job_id = arn.rsplit("/", 1)[1]
    folder = Path(server.data_dir) / "s3" / "eval-results" / "out" / "complete-me" / job_id
    [results] = list((folder / "datasets" / "prompts").glob("*_output.jsonl"))
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["inputRecord"]["prompt"] for r in records] == [f"Question {n}?" for n in range(3)]
    first = records[0]
    assert first["modelResponses"] == [
        {"modelIdentifier": "model-a", "text": "model-a says 0"},
        {"modelIdentifier": "model-b", "text": "model-b says 0"},
    ]
    result = first["humanEvaluationResult"]
    assert result["modelResponseIdMap"] == {"0": "model-a", "1": "model-b"}
    assert result["flowDefinitionArn"] == flow["flow_arn"]
    assert [m["metricType"] for m in result["inputContent"]["evaluationMetrics"]] == [
        "ComparisonChoice", "IndividualLikertScale", "ThumbsUpDown"
    ]  # fmt: skip
    [human] = result["humanAnswers"]
    assert human["answerContent"] == {
        "evaluationResults": {
            "comparisonChoice": [{"metricName": "Helpfulness", "result": {"modelResponseId": "1"}}],
            "individualLikertScale": [
                {"metricName": "Correctness", "modelResponseId": "0", "result": 4},
                {"metricName": "Correctness", "modelResponseId": "1", "result": 2},
            ],
            "thumbsUpDown": [
                {"metricName": "Accuracy", "modelResponseId": "0", "result": True},
                {"metricName": "Accuracy", "modelResponseId": "1", "result": False},
            ],
        },
        "displayOrder": ["1", "0"],
    }
    assert human["workerId"] and human["timeSpentInSeconds"] >= 0


def test_stop_ends_the_loops_then_the_job_is_stopped_and_can_be_deleted(
    server: LiveServer, bedrock: Any, flow: dict[str, str]
) -> None:
    dataset = put_dataset(server, "stop.jsonl", [record(n) for n in range(2)])
    arn = bedrock.create_evaluation_job(**request(flow["flow_arn"], dataset))["jobArn"]
    # A job in progress is not deleted: batch delete reports it as an error entry.
    deleted = bedrock.batch_delete_evaluation_job(jobIdentifiers=[arn])
    assert deleted["evaluationJobs"] == [] and deleted["errors"][0]["code"] == "ConflictException"
    bedrock.stop_evaluation_job(jobIdentifier=arn)
    assert bedrock.get_evaluation_job(jobIdentifier=arn)["status"] in ("Stopping", "Stopped")
    wait_status(bedrock, arn, "Stopped")
    code, status, _ = error_of(lambda: bedrock.stop_evaluation_job(jobIdentifier=arn))
    assert (code, status) == ("ConflictException", 400)
    deleted = bedrock.batch_delete_evaluation_job(jobIdentifiers=[arn])
    assert deleted == {
        "errors": [],
        "evaluationJobs": [{"jobIdentifier": arn, "jobStatus": "Deleting"}],
        "ResponseMetadata": deleted["ResponseMetadata"],
    }
    code, status, _ = error_of(lambda: bedrock.get_evaluation_job(jobIdentifier=arn))
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_errors_come_back_in_bedrock_words(
    server: LiveServer, bedrock: Any, flow: dict[str, str]
) -> None:
    good = put_dataset(server, "good.jsonl", [record(1)])
    name = unique("dup")
    bedrock.create_evaluation_job(**request(flow["flow_arn"], good, name=name))

    def fails(req: dict[str, Any]) -> tuple[str, int, str]:
        return error_of(lambda: bedrock.create_evaluation_job(**req))

    code, status, message = fails(request(flow["flow_arn"], good, name=name))
    assert (code, status) == ("ConflictException", 400) and name in message

    missing = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abcdefabcdef"
    code, status, _ = error_of(lambda: bedrock.get_evaluation_job(jobIdentifier=missing))
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, status, _ = error_of(lambda: bedrock.stop_evaluation_job(jobIdentifier=missing))
    assert (code, status) == ("ResourceNotFoundException", 404)
    errors = bedrock.batch_delete_evaluation_job(jobIdentifiers=[missing])["errors"]
    assert [e["code"] for e in errors] == ["ResourceNotFound"]

    automated = request(flow["flow_arn"], good)
    automated["evaluationConfig"] = {
        "automated": {
            "datasetMetricConfigs": [
                {
                    "taskType": "Generation",
                    "dataset": {"name": "d", "datasetLocation": {"s3Uri": good}},
                    "metricNames": ["Builtin.Accuracy"],
                }
            ]
        }
    }
    code, status, message = fails(automated)
    assert (code, status) == ("ValidationException", 400) and "calls no model" in message

    bedrock_model = request(flow["flow_arn"], good)
    bedrock_model["inferenceConfig"]["models"][0] = {
        "bedrockModel": {"modelIdentifier": "anthropic.claude-v2"}
    }
    code, _, message = fails(bedrock_model)
    assert code == "ValidationException" and "precomputedInferenceSource" in message

    one_model = request(flow["flow_arn"], good, models=["model-a"])
    code, _, message = fails(one_model)
    assert code == "ValidationException" and "compares two models" in message

    for lines, expect in (
        ("{not json", "line 1: not valid JSON"),
        (json.dumps(record(1)) + "\n" + json.dumps({"prompt": ""}), "line 2: 'prompt' must be"),
        (json.dumps({**record(1), "modelResponses": [record(1)["modelResponses"][0]]}),
         "line 1: no response of model(s) model-b"),
        (json.dumps({**record(1), "modelResponses": [
            *record(1)["modelResponses"], {"response": "x", "modelIdentifier": "other"}]}),
         "names model 'other'"),
        ("", "holds no records"),
    ):  # fmt: skip
        bad = put_dataset(server, f"{unique('bad')}.jsonl", lines)
        code, _, message = fails(request(flow["flow_arn"], bad))
        assert code == "ValidationException" and expect in message, message

    absent = request(flow["flow_arn"], "s3://eval-data/nothing-here.jsonl")
    code, _, message = fails(absent)
    assert code == "ValidationException" and "no object at" in message

    no_flow = request(flow["flow_arn"].replace(flow["flow_name"], "no-such-flow"), good)
    code, _, message = fails(no_flow)
    assert code == "ValidationException" and "does not exist" in message

    # What boto3 would refuse itself is refused by the server too.
    raw = server.client("bedrock", parameter_validation=False)
    bad_name = request(flow["flow_arn"], good, name="Not_A_Valid_Name")
    code, status, message = error_of(lambda: raw.create_evaluation_job(**bad_name))
    assert (code, status) == ("ValidationException", 400) and "jobName" in message
    # Loops of failed requests were never started.
    assert not [
        j for j in bedrock.list_evaluation_jobs()["jobSummaries"] if j["status"] == "Failed"
    ]

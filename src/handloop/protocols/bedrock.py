"""Amazon Bedrock's evaluation-job operations (REST-JSON, signed for "bedrock"), for human
evaluation jobs on handloop's own workforce (services/evaluations.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from handloop.protocols.model import Route, rest_routes, service_model
from handloop.services import Services
from handloop.services.evaluations import EvaluationJob, job_arn

Handler = Callable[[Services, dict[str, Any]], Awaitable[dict[str, Any]]]
DEFAULT_MAX_RESULTS = 100


@cache
def routes() -> tuple[Route, ...]:
    """Each implemented operation's method and path, from botocore's model."""
    return rest_routes(service_model("bedrock"), OPERATIONS)


def route(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in routes():
        labels = candidate.match(method, raw_path)
        if labels is not None:
            return candidate, labels
    return None


def is_bedrock_path(path: str) -> bool:
    """Paths of the evaluation-job operations (also valid S3 bucket names)."""
    return path in ("/evaluation-jobs", "/evaluation-jobs/batch-delete") or path.startswith(
        ("/evaluation-jobs/", "/evaluation-job/")
    )


def _time(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, tz=UTC)


def _models(job: EvaluationJob) -> list[str]:
    return [
        m["precomputedInferenceSource"]["inferenceSourceIdentifier"]
        for m in job.config["inferenceConfig"]["models"]
    ]


def _job(s: Services, job: EvaluationJob) -> dict[str, Any]:
    config = job.config
    return {
        "jobName": job.name,
        "status": job.status,
        "jobArn": job_arn(s.arns, job.job_id),
        "jobDescription": config.get("jobDescription"),
        "roleArn": config["roleArn"],
        "customerEncryptionKeyId": config.get("customerEncryptionKeyId"),
        "jobType": "Human",
        "applicationType": config.get("applicationType", "ModelEvaluation"),
        "evaluationConfig": config["evaluationConfig"],
        "inferenceConfig": config["inferenceConfig"],
        "outputDataConfig": config["outputDataConfig"],
        "creationTime": _time(job.created_us),
        "lastModifiedTime": _time(job.updated_us),
        "failureMessages": job.failure_messages,
    }


def _summary(s: Services, job: EvaluationJob) -> dict[str, Any]:
    human = job.config["evaluationConfig"]["human"]
    models = _models(job)
    return {
        "jobArn": job_arn(s.arns, job.job_id),
        "jobName": job.name,
        "status": job.status,
        "creationTime": _time(job.created_us),
        "jobType": "Human",
        "evaluationTaskTypes": sorted({d["taskType"] for d in human["datasetMetricConfigs"]}),
        "inferenceConfigSummary": {
            "modelConfigSummary": {"precomputedInferenceSourceIdentifiers": models}
        },
        "applicationType": job.config.get("applicationType", "ModelEvaluation"),
    }


async def create_evaluation_job(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    job = await s.evaluations.create(p)
    return {"jobArn": job_arn(s.arns, job.job_id)}


async def get_evaluation_job(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    return _job(s, await s.evaluations.get(p["jobIdentifier"]))


async def list_evaluation_jobs(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    page = await s.evaluations.page(
        created_after=p.get("creationTimeAfter"),
        created_before=p.get("creationTimeBefore"),
        status=p.get("statusEquals"),
        name_contains=p.get("nameContains"),
        ascending=p.get("sortOrder", "Descending") == "Ascending",
        token=p.get("nextToken"),
        max_results=p.get("maxResults", DEFAULT_MAX_RESULTS),
    )
    return {
        "jobSummaries": [_summary(s, job) for job in page.items],
        "nextToken": page.next_token,
    }


async def stop_evaluation_job(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    await s.evaluations.stop(p["jobIdentifier"])
    return {}


async def batch_delete_evaluation_job(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    deleted, errors = await s.evaluations.batch_delete(p["jobIdentifiers"])
    return {"errors": errors, "evaluationJobs": deleted}


OPERATIONS: dict[str, Handler] = {
    "CreateEvaluationJob": create_evaluation_job,
    "GetEvaluationJob": get_evaluation_job,
    "ListEvaluationJobs": list_evaluation_jobs,
    "StopEvaluationJob": stop_evaluation_job,
    "BatchDeleteEvaluationJob": batch_delete_evaluation_job,
}

"""Human model-evaluation jobs, as Amazon Bedrock runs them, on handloop's own workforce.

A job names a flow definition (its work team, TaskCount and time limits apply), one or
two models whose responses are precomputed in the dataset ("bring your own inference
responses"), and metrics with a rating method each. Creating it checks the whole request
and every dataset line (an error names the line), then starts one human loop per prompt,
showing a task UI generated from the metrics (services/evaluation_ui.py). The scheduler's
``advance`` finishes jobs: when every loop of a job has ended, it writes Bedrock's results
file per dataset, ``<s3Uri>/<job-name>/<job-id>/datasets/<dataset>/<uuid>_output.jsonl``,
and ``report.json`` beside them, then the job is Completed (Failed when no prompt was
answered; Stopping -> Stopped after StopEvaluationJob).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from handloop.blobs.base import BlobNotFound, BlobStore
from handloop.domain import json_values
from handloop.domain.arns import ArnFactory
from handloop.domain.output_layout import output_uri, split_s3_uri
from handloop.domain.records import Page
from handloop.errors import (
    Conflict,
    ResourceNotFound,
    ServiceQuotaExceeded,
    ValidationError,
)
from handloop.services.clock import Clock
from handloop.services.evaluation_ui import (
    COMPARISONS,
    RATING_METHODS,
    Metric,
    evaluation_results,
    job_template,
    loop_input,
    metrics_of,
)
from handloop.services.human_loops import HumanLoops
from handloop.services.listing import list_page
from handloop.store import Database
from handloop.store.tables import evaluation_jobs, flow_definitions, human_loops

log = logging.getLogger(__name__)

IN_PROGRESS, COMPLETED, FAILED = "InProgress", "Completed", "Failed"
STOPPING, STOPPED, DELETING = "Stopping", "Stopped", "Deleting"
ENDED_LOOPS = ("Completed", "Failed", "Stopped")
FINAL = (COMPLETED, FAILED, STOPPED)
MAX_RECORDS = 1000  # prompts per dataset, as Bedrock's human evaluation jobs
MAX_DATASET_BYTES = 64 * 1024 * 1024
MAX_TEXT_CHARS = 100_000  # a prompt, response or reference (the markdown filter's limit)
_ID_ALPHABET = string.ascii_lowercase + string.digits
_RESULTS_NAMESPACE = uuid.UUID("6f1d3a52-2c8e-4d1b-9a57-2f0f7e3c9b10")


@dataclass(frozen=True)
class EvaluationJob:
    id: int
    job_id: str
    name: str
    status: str
    flow_definition_name: str
    config: dict[str, Any]
    failure_messages: list[str] | None
    results: dict[str, Any] | None
    created_us: int
    updated_us: int


def _record(row: Row[Any]) -> EvaluationJob:
    return EvaluationJob(
        id=row.id,
        job_id=row.job_id,
        name=row.name,
        status=row.status,
        flow_definition_name=row.flow_definition_name,
        config=row.config,
        failure_messages=row.failure_messages,
        results=row.results,
        created_us=row.created_at,
        updated_us=row.updated_at,
    )


def loop_name(job_id: str, dataset: int, record: int) -> str:
    return f"eval-{job_id}-{dataset}-{record:04d}"


def job_arn(arns: ArnFactory, job_id: str) -> str:
    return f"arn:aws:bedrock:{arns.region}:{arns.account_id}:evaluation-job/{job_id}"


def _check_config(request: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The human config and the models' identifiers; ValidationError for what handloop
    cannot run (it calls no model, so every response must be in the dataset)."""
    config = request["evaluationConfig"]
    if "automated" in config:
        raise ValidationError(
            "handloop runs human evaluation jobs only (evaluationConfig.human): an automated "
            "job needs a model to judge the responses, and handloop calls no model."
        )
    human = config.get("human")
    if not human:
        raise ValidationError("evaluationConfig.human is required.")
    if request.get("applicationType", "ModelEvaluation") != "ModelEvaluation":
        raise ValidationError("handloop runs ModelEvaluation jobs only, not RagEvaluation.")
    inference = request["inferenceConfig"]
    if inference.get("ragConfigs"):
        raise ValidationError("inferenceConfig.ragConfigs: handloop evaluates models only.")
    models = inference.get("models") or []
    if not models:
        raise ValidationError("inferenceConfig.models must name one or two models.")
    identifiers: list[str] = []
    for i, model in enumerate(models):
        source = model.get("precomputedInferenceSource")
        if model.get("bedrockModel") or not source:
            raise ValidationError(
                f"inferenceConfig.models[{i}]: handloop calls no model; give each model as "
                "precomputedInferenceSource, with its responses in the dataset's "
                "modelResponses."
            )
        identifiers.append(source["inferenceSourceIdentifier"])
    if len(set(identifiers)) != len(identifiers):
        raise ValidationError("inferenceConfig.models: each inferenceSourceIdentifier once.")
    if not human.get("humanWorkflowConfig"):
        raise ValidationError(
            "evaluationConfig.human.humanWorkflowConfig (flowDefinitionArn) is required: its "
            "flow definition's work team rates the responses."
        )
    metrics = human.get("customMetrics") or []
    if not metrics:
        raise ValidationError("evaluationConfig.human.customMetrics must list the metrics.")
    names = [m["name"] for m in metrics]
    if len(set(names)) != len(names):
        raise ValidationError("evaluationConfig.human.customMetrics: each metric name once.")
    for metric in metrics:
        method = metric["ratingMethod"]
        if method not in RATING_METHODS:
            raise ValidationError(
                f"Metric {metric['name']}: ratingMethod '{method}' is not one of "
                f"{', '.join(RATING_METHODS)}."
            )
        if method in COMPARISONS and len(identifiers) != 2:
            raise ValidationError(
                f"Metric {metric['name']}: {method} compares two models' responses; this job "
                f"has {len(identifiers)}."
            )
    datasets = human["datasetMetricConfigs"]
    seen: set[str] = set()
    for dataset in datasets:
        name = dataset["dataset"]["name"]
        if name in seen:
            raise ValidationError(f"Dataset {name} is named twice in datasetMetricConfigs.")
        seen.add(name)
        if not (dataset["dataset"].get("datasetLocation") or {}).get("s3Uri"):
            raise ValidationError(f"Dataset {name}: datasetLocation.s3Uri is required.")
        unknown = [m for m in dataset["metricNames"] if m not in names]
        if unknown:
            raise ValidationError(
                f"Dataset {name}: metric(s) {', '.join(unknown)} are not in customMetrics."
            )
    return human, identifiers


def parse_dataset(data: bytes, name: str, models: list[str]) -> list[dict[str, Any]]:
    """The dataset's records (Bedrock's "bring your own inference responses" JSON Lines:
    ``prompt``, optional ``category`` and ``referenceResponse``, and ``modelResponses`` of
    ``{response, modelIdentifier}``, one per model); ValidationError naming the line."""
    if len(data) > MAX_DATASET_BYTES:
        raise ValidationError(f"Dataset {name} is larger than {MAX_DATASET_BYTES} bytes.")
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        where = f"Dataset {name} line {number}"
        try:
            record = json_values.parse(raw, where)
        except ValidationError as exc:
            raise ValidationError(f"{where}: not valid JSON ({exc.message}).") from None
        if not isinstance(record, dict):
            raise ValidationError(f"{where}: a record must be a JSON object.")
        for key in ("prompt", "category", "referenceResponse"):
            value = record.get(key)
            if key == "prompt" and (not isinstance(value, str) or not value.strip()):
                raise ValidationError(f"{where}: 'prompt' must be non-empty text.")
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{where}: '{key}' must be text.")
            if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
                raise ValidationError(
                    f"{where}: '{key}' is longer than {MAX_TEXT_CHARS} characters."
                )
        responses = record.get("modelResponses")
        if not isinstance(responses, list):
            raise ValidationError(
                f"{where}: 'modelResponses' must list one {{response, modelIdentifier}} per "
                f"model ({', '.join(models)})."
            )
        given: dict[str, str] = {}
        for i, item in enumerate(responses):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("response"), str)
                and isinstance(item.get("modelIdentifier"), str)
            ):
                raise ValidationError(
                    f'{where}: modelResponses[{i}] must be {{"response": text, '
                    '"modelIdentifier": text}.'
                )
            model = item["modelIdentifier"]
            if model not in models:
                raise ValidationError(
                    f"{where}: modelResponses[{i}] names model '{model}', which is not one of "
                    f"the job's precomputedInferenceSource identifiers ({', '.join(models)})."
                )
            if model in given:
                raise ValidationError(f"{where}: model '{model}' has two responses.")
            if len(item["response"]) > MAX_TEXT_CHARS:
                raise ValidationError(
                    f"{where}: the response of '{model}' is longer than {MAX_TEXT_CHARS} "
                    "characters."
                )
            given[model] = item["response"]
        missing = [m for m in models if m not in given]
        if missing:
            raise ValidationError(f"{where}: no response of model(s) {', '.join(missing)}.")
        records.append(record)
        if len(records) > MAX_RECORDS:
            raise ValidationError(f"Dataset {name} has more than {MAX_RECORDS} prompts.")
    if not records:
        raise ValidationError(f"Dataset {name} holds no records.")
    return records


class Evaluations:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        arns: ArnFactory,
        blobs: BlobStore,
        human_loops_service: HumanLoops,
        reporter: Callable[[list[dict[str, Any]], int], dict[str, Any]] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._arns = arns
        self._blobs = blobs
        self._loops = human_loops_service
        # (records, prompts left unanswered) -> report: feedback's, set by the app (services
        # do not import the export's packages); without it no report.json is written.
        self.reporter = reporter

    # -- the API's operations ------------------------------------------------------------

    async def create(self, request: dict[str, Any]) -> EvaluationJob:
        human, models = _check_config(request)
        name = request["jobName"]
        token = request.get("clientRequestToken")
        existing = await self._db.read(lambda conn: self._by_name(conn, name))
        if existing is not None:
            if token and existing.config.get("clientRequestToken") == token:
                return existing  # the same request again
            raise Conflict(f"An evaluation job named {name} already exists.")
        workflow = human["humanWorkflowConfig"]
        flow = self._arns.name_from(
            "flow-definition", workflow["flowDefinitionArn"], field="flowDefinitionArn"
        )
        found = await self._db.read(
            lambda conn: conn.execute(
                select(flow_definitions.c.active_loops).where(flow_definitions.c.name == flow)
            ).first()
        )
        if found is None:
            raise ValidationError(f"Flow definition {flow} does not exist.")
        metrics = metrics_of(human["customMetrics"])
        by_name = {m.name: m for m in metrics}
        datasets: list[tuple[str, list[Metric], list[dict[str, Any]]]] = []
        for config in human["datasetMetricConfigs"]:
            dataset = config["dataset"]
            uri = dataset["datasetLocation"]["s3Uri"]
            data = await asyncio.to_thread(self._read, uri, dataset["name"])
            records = await asyncio.to_thread(parse_dataset, data, dataset["name"], models)
            chosen = [by_name[n] for n in dict.fromkeys(config["metricNames"])]
            datasets.append((dataset["name"], sorted(chosen, key=lambda m: m.index), records))
        total = sum(len(records) for _, _, records in datasets)
        quota = self._loops.max_in_progress
        if found.active_loops + total > quota:
            raise ServiceQuotaExceeded(
                f"The job needs {total} human loops; flow definition {flow} has "
                f"{found.active_loops} in progress of at most {quota} "
                "(HANDLOOP_MAX_IN_PROGRESS_LOOPS_PER_FLOW)."
            )
        randomize = not _randomization_disabled(request)
        template = job_template(metrics, workflow.get("instructions") or "", randomize=randomize)
        job_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
        now = self._clock()
        stored = {k: v for k, v in request.items() if k != "jobName"}
        values = {
            "job_id": job_id,
            "name": name,
            "status": IN_PROGRESS,
            "flow_definition_name": flow,
            "config": stored,
            "client_request_token": token,
            "template": template,
            "created_at": now,
            "updated_at": now,
        }

        def insert_job(conn: Connection) -> int:
            if conn.execute(
                select(evaluation_jobs.c.id).where(evaluation_jobs.c.name == name)
            ).first():
                raise Conflict(f"An evaluation job named {name} already exists.")
            key = conn.execute(insert(evaluation_jobs).values(values)).inserted_primary_key
            assert key is not None
            return int(key[0])

        row_id = await self._db.write(insert_job)
        arn = job_arn(self._arns, job_id)
        try:
            for d, (dataset_name, chosen, records) in enumerate(datasets):
                for r, record in enumerate(records):
                    content = loop_input(
                        record, models, chosen, job_arn=arn, dataset=dataset_name, index=r
                    )
                    await self._loops.start(
                        loop_name(job_id, d, r),
                        flow,
                        json.dumps(content, ensure_ascii=False),
                        None,
                        evaluation_job_id=row_id,
                    )
        except Exception as exc:
            # Loops started so far are stopped; the job says why it failed.
            await self._fail(row_id, [f"Starting the job's human loops failed: {exc}"])
            await self._stop_loops(row_id)
            raise
        return await self.get_by_id(job_id)

    async def get(self, identifier: str) -> EvaluationJob:
        return await self.get_by_id(self._id_from_arn(identifier))

    async def get_by_id(self, job_id: str) -> EvaluationJob:
        row = await self._db.read(
            lambda conn: conn.execute(
                select(evaluation_jobs).where(evaluation_jobs.c.job_id == job_id)
            ).first()
        )
        if row is None:
            raise ResourceNotFound(f"Evaluation job {job_id} does not exist.")
        return _record(row)

    async def page(
        self,
        *,
        created_after: datetime | None,
        created_before: datetime | None,
        status: str | None,
        name_contains: str | None,
        ascending: bool,
        token: str | None,
        max_results: int,
    ) -> Page[EvaluationJob]:
        where = []
        if status:
            where.append(evaluation_jobs.c.status == status)
        if name_contains:
            where.append(evaluation_jobs.c.name.contains(name_contains, autoescape=True))
        return await list_page(
            self._db,
            evaluation_jobs,
            _record,
            created_after=created_after,
            created_before=created_before,
            ascending=ascending,
            token=token,
            max_results=max_results,
            where=where,
            query_key={"s": status, "n": name_contains},
        )

    async def stop(self, identifier: str) -> None:
        job = await self.get(identifier)
        if job.status not in (IN_PROGRESS, STOPPING):
            raise Conflict(
                f"Evaluation job {job.job_id} is {job.status}; only a job InProgress stops."
            )
        await self._set_status(job.id, STOPPING, only_from=(IN_PROGRESS,))
        await self._stop_loops(job.id)

    async def batch_delete(
        self, identifiers: list[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(deleted, errors), as BatchDeleteEvaluationJob answers: a job is deleted once it
        is Completed, Failed or Stopped; its results files stay where they are."""
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for identifier in identifiers:
            try:
                job = await self.get(identifier)
            except (ResourceNotFound, ValidationError) as exc:
                errors.append(
                    {
                        "jobIdentifier": identifier,
                        "code": "ResourceNotFound",
                        "message": exc.message,
                    }
                )
                continue
            if job.status not in FINAL:
                errors.append(
                    {
                        "jobIdentifier": identifier,
                        "code": "ConflictException",
                        "message": f"Evaluation job {job.job_id} is {job.status}: stop it first.",
                    }
                )
                continue

            def remove(conn: Connection, row_id: int = job.id) -> None:
                conn.execute(
                    update(human_loops)
                    .where(human_loops.c.evaluation_job_id == row_id)
                    .values(evaluation_job_id=None)
                )
                conn.execute(delete(evaluation_jobs).where(evaluation_jobs.c.id == row_id))

            await self._db.write(remove)
            deleted.append({"jobIdentifier": identifier, "jobStatus": DELETING})
        return deleted, errors

    # -- the scheduler's part ------------------------------------------------------------

    async def advance(self) -> None:
        """Finish the jobs whose loops have all ended."""
        rows = await self._db.read(
            lambda conn: conn.execute(
                select(evaluation_jobs).where(evaluation_jobs.c.status.in_((IN_PROGRESS, STOPPING)))
            ).all()
        )
        for row in rows:
            job = _record(row)
            counts = await self._db.read(functools.partial(self._loop_counts, job_row=job.id))
            if any(status not in ENDED_LOOPS for status in counts):
                continue
            if job.status == STOPPING:
                await self._set_status(job.id, STOPPED, only_from=(STOPPING,))
                continue
            try:
                await self._finish(job, counts)
            except Exception as exc:  # a store that refuses the results: the job says so
                log.exception("evaluation job %s: writing the results failed", job.job_id)
                await self._fail(job.id, [f"Writing the results failed: {exc}"])

    # -- helpers -------------------------------------------------------------------------

    def _id_from_arn(self, identifier: str) -> str:
        prefix = f"arn:aws:bedrock:{self._arns.region}:{self._arns.account_id}:evaluation-job/"
        if not identifier.startswith(prefix):
            raise ResourceNotFound(
                f"No evaluation job {identifier} here: this deployment's jobs are {prefix}<id>."
            )
        return identifier[len(prefix) :]

    def _by_name(self, conn: Connection, name: str) -> EvaluationJob | None:
        row = conn.execute(select(evaluation_jobs).where(evaluation_jobs.c.name == name)).first()
        return _record(row) if row is not None else None

    def _read(self, uri: str, name: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        try:
            return self._blobs.get(bucket, key)
        except BlobNotFound:
            raise ValidationError(f"Dataset {name}: no object at {uri}.") from None
        except ValueError as exc:
            raise ValidationError(
                f"Dataset {name}: {uri} is not a valid location ({exc})."
            ) from None

    @staticmethod
    def _loop_counts(conn: Connection, job_row: int) -> dict[str, int]:
        rows = conn.execute(
            select(human_loops.c.status, func.count())
            .where(human_loops.c.evaluation_job_id == job_row)
            .group_by(human_loops.c.status)
        ).all()
        return {str(row[0]): int(row[1]) for row in rows}

    async def _set_status(self, row_id: int, status: str, *, only_from: tuple[str, ...]) -> None:
        now = self._clock()
        await self._db.write(
            lambda conn: conn.execute(
                update(evaluation_jobs)
                .where(evaluation_jobs.c.id == row_id, evaluation_jobs.c.status.in_(only_from))
                .values(status=status, updated_at=now)
            )
        )

    async def _fail(self, row_id: int, messages: list[str]) -> None:
        now = self._clock()
        await self._db.write(
            lambda conn: conn.execute(
                update(evaluation_jobs)
                .where(evaluation_jobs.c.id == row_id)
                .values(status=FAILED, failure_messages=messages, updated_at=now)
            )
        )

    async def _stop_loops(self, row_id: int) -> None:
        query = select(human_loops.c.name).where(
            human_loops.c.evaluation_job_id == row_id, human_loops.c.status == "InProgress"
        )

        def open_loops(conn: Connection) -> list[str]:
            return [str(row[0]) for row in conn.execute(query).all()]

        names = await self._db.read(open_loops)
        for name in names:
            try:
                await self._loops.stop(name)
            except ResourceNotFound:
                continue

    async def _finish(self, job: EvaluationJob, counts: dict[str, int]) -> None:
        completed = counts.get("Completed", 0)
        if completed == 0:
            ended = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
            await self._fail(
                job.id, [f"No prompt was evaluated: the job's human loops ended {ended}."]
            )
            return
        human = job.config["evaluationConfig"]["human"]
        metrics = metrics_of(human["customMetrics"])
        models = [
            m["precomputedInferenceSource"]["inferenceSourceIdentifier"]
            for m in job.config["inferenceConfig"]["models"]
        ]
        base = job.config["outputDataConfig"]["s3Uri"].rstrip("/")
        folder = f"{base}/{job.name}/{job.job_id}"
        loops = await self._db.read(
            lambda conn: conn.execute(
                select(
                    human_loops.c.name,
                    human_loops.c.flow_definition_name,
                    human_loops.c.s3_output_path,
                    human_loops.c.created_at,
                )
                .where(
                    human_loops.c.evaluation_job_id == job.id,
                    human_loops.c.status == "Completed",
                )
                .order_by(human_loops.c.name)
            ).all()
        )
        by_dataset: dict[str, list[dict[str, Any]]] = {}
        disable = _randomization_disabled(job.config)
        for loop in loops:
            uri = output_uri(
                loop.s3_output_path, loop.flow_definition_name, loop.name, loop.created_at
            )
            bucket, key = split_s3_uri(uri)
            output = json.loads(await asyncio.to_thread(self._blobs.get, bucket, key))
            record = _bedrock_record(output, metrics, models, human, disable)
            by_dataset.setdefault(output["inputContent"]["evaluation"]["dataset"], []).append(
                record
            )
        files: list[str] = []
        everything: list[dict[str, Any]] = []
        for dataset, records in by_dataset.items():
            name = uuid.uuid5(_RESULTS_NAMESPACE, f"{job.job_id}/{dataset}")
            target = f"{folder}/datasets/{dataset}/{name}_output.jsonl"
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
            bucket, key = split_s3_uri(target)
            await asyncio.to_thread(self._blobs.put, bucket, key, body)
            files.append(target)
            everything += records
        results: dict[str, Any] = {"folder": folder, "files": files}
        if self.reporter is not None:
            unanswered = sum(n for status, n in counts.items() if status != "Completed")
            report = await asyncio.to_thread(self.reporter, everything, unanswered)
            bucket, key = split_s3_uri(f"{folder}/report.json")
            text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
            await asyncio.to_thread(self._blobs.put, bucket, key, text.encode())
            results["report"] = f"{folder}/report.json"
        now = self._clock()
        await self._db.write(
            lambda conn: conn.execute(
                update(evaluation_jobs)
                .where(evaluation_jobs.c.id == job.id, evaluation_jobs.c.status == IN_PROGRESS)
                .values(status=COMPLETED, results=results, updated_at=now)
            )
        )


def _randomization_disabled(config: dict[str, Any]) -> bool:
    """Bedrock's API has no field for it; Clarify's ``disableRandomization`` is honoured
    as a job tag (``disableRandomization`` = ``true``)."""
    for tag in config.get("jobTags") or []:
        if tag.get("key", "").lower() in ("disablerandomization", "handloop:disable-randomization"):
            return str(tag.get("value", "")).strip().lower() == "true"
    return False


def _bedrock_record(
    output: dict[str, Any],
    metrics: list[Metric],
    models: list[str],
    human: dict[str, Any],
    disable_randomization: bool,
) -> dict[str, Any]:
    """One loop's A2I output as one record of Bedrock's results file."""
    content = output["inputContent"]
    evaluation = content["evaluation"]
    shown = {m.name for m in metrics if m.name in content.get("metrics", [])}
    shown |= {c["name"] for c in content.get("likertCriteria", [])}
    used = [m for m in metrics if m.name in shown]
    answers = []
    for answer in output.get("humanAnswers", []):
        entry = {k: v for k, v in answer.items() if k != "answerContent"}
        entry["answerContent"] = evaluation_results(answer.get("answerContent") or {}, used)
        answers.append(entry)
    texts = {r["modelIdentifier"]: r["text"] for r in content["responses"]}
    return {
        "humanEvaluationResult": {
            "flowDefinitionArn": output.get("flowDefinitionArn"),
            "humanAnswers": answers,
            "humanLoopName": output.get("humanLoopName"),
            "inputContent": {
                "instructions": human["humanWorkflowConfig"].get("instructions", ""),
                "evaluationMetrics": [
                    {"metricName": m.name, "metricType": m.method, "description": m.description}
                    for m in used
                ],
                "disableRandomization": "true" if disable_randomization else "false",
            },
            "modelResponseIdMap": {str(i): model for i, model in enumerate(models)},
        },
        "inputRecord": evaluation["inputRecord"],
        "modelResponses": [{"modelIdentifier": m, "text": texts[m]} for m in models],
    }

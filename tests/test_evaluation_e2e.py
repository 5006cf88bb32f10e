"""A Bedrock-style human evaluation job end to end: the dataset uploaded with boto3's
`upload_file`, the job created with boto3's `bedrock` client, a worker rating every prompt
in Chromium on the generated page, the job Completed, Bedrock's results file naming the
models, the report's figures against a computation by hand, and the export's pairs."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from tests.portal_support import add_worker, make_flow, wait_for
from tests.support import LiveServer

pytestmark = pytest.mark.browser

MODELS = ["alpha", "beta"]
PROMPTS = [f"Question number {n}: why is the sky blue?" for n in range(4)]
# The worker prefers alpha's answer except on the last prompt.
PREFERRED = {prompt: ("beta" if n == 3 else "alpha") for n, prompt in enumerate(PROMPTS)}
RATING = {"alpha": 4, "beta": 2}
THUMB = {"alpha": "Good", "beta": "Bad"}


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval, written out from its formula."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def create_job(server: LiveServer, flow_arn: str, tmp_path: Path) -> str:
    dataset = tmp_path / "prompts.jsonl"
    dataset.write_text(
        "".join(
            json.dumps(
                {
                    "prompt": prompt,
                    "category": "Physics",
                    "modelResponses": [
                        {"response": f"**{m}** answers: Rayleigh scattering ({n}).",
                         "modelIdentifier": m}
                        for m in MODELS
                    ],
                }
            )
            + "\n"
            for n, prompt in enumerate(PROMPTS)
        )
    )  # fmt: skip
    s3 = server.client("s3")
    s3.create_bucket(Bucket="evals")
    s3.upload_file(str(dataset), "evals", "in/prompts.jsonl")
    metrics = [
        {"name": "Helpfulness", "description": "Which helps?", "ratingMethod": "ComparisonChoice"},
        {"name": "Correctness", "description": "Right?", "ratingMethod": "IndividualLikertScale"},
        {"name": "Acceptable", "ratingMethod": "ThumbsUpDown"},
    ]
    bedrock = server.client("bedrock")
    arn: str = bedrock.create_evaluation_job(
        jobName="alpha-vs-beta",
        roleArn="arn:aws:iam::123456789012:role/evaluations",
        evaluationConfig={
            "human": {
                "humanWorkflowConfig": {
                    "flowDefinitionArn": flow_arn,
                    "instructions": "Rate as a physics teacher would.",
                },
                "customMetrics": metrics,
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": "sky",
                            "datasetLocation": {"s3Uri": "s3://evals/in/prompts.jsonl"},
                        },
                        "metricNames": [m["name"] for m in metrics],
                    }
                ],
            }
        },
        inferenceConfig={
            "models": [
                {"precomputedInferenceSource": {"inferenceSourceIdentifier": m}} for m in MODELS
            ]
        },
        outputDataConfig={"s3Uri": "s3://evals/results/"},
    )["jobArn"]
    return arn


def rate_in_chromium(server: LiveServer, browser: Any) -> int:
    """The worker rates every prompt on the generated page; the number of pages rated."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.url}/signin")
    page.fill("input[name=email]", "judge@example.com")
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.click("text=Start working")
    rated = 0
    while True:
        page.wait_for_url(lambda url: "/tasks/" in url or url.endswith("/done"))
        if page.url.endswith("/done"):
            break
        url = page.url
        frame = page.frame_locator("#task-frame")
        prompt = frame.locator(".prompt").inner_text().strip()
        # Ids: "0" is alpha, "1" is beta (the models' order in the job).
        ids = {model: str(i) for i, model in enumerate(MODELS)}
        choice = frame.locator(
            f"hl-comparison-choice .opt[data-outcome='chosen:{ids[PREFERRED[prompt]]}']"
        )
        choice.click()
        for model, rating in RATING.items():
            group = f"hl-likert .rating[data-id='{ids[model]}'][data-criterion='Correctness']"
            frame.locator(f"{group} .opt[data-value='{rating}']").click()
            frame.locator(
                f"hl-thumbs section.card[data-id='{ids[model]}'] .thumb", has_text=THUMB[model]
            ).click()
        page.click("#submit")
        page.wait_for_url(lambda now, before=url: now != before)
        rated += 1
    assert errors == []
    page.close()
    return rated


def test_an_evaluation_job_from_upload_to_report_and_pairs(
    server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    flow_arn = make_flow(server, "judging", "judges", "<crowd-form><input name='x'></crowd-form>")
    add_worker(server, "judge@example.com", "judges")
    time.sleep(1.1)  # the new flow definition becomes Active
    arn = create_job(server, flow_arn, tmp_path)
    assert rate_in_chromium(server, browser) == len(PROMPTS)

    bedrock = server.client("bedrock")
    job = wait_for(
        lambda: (j := bedrock.get_evaluation_job(jobIdentifier=arn))["status"] == "Completed" and j,
        what="the job Completed",
    )
    job_id = arn.rsplit("/", 1)[1]
    folder = Path(server.data_dir) / "s3" / "evals" / "results" / "alpha-vs-beta" / job_id
    [results] = list((folder / "datasets" / "sky").glob("*_output.jsonl"))
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(r["inputRecord"]["prompt"] for r in records) == sorted(PROMPTS)
    for record in records:
        result = record["humanEvaluationResult"]
        names = result["modelResponseIdMap"]
        assert names == {"0": "alpha", "1": "beta"}
        [answer] = result["humanAnswers"]
        content = answer["answerContent"]
        [choice] = content["evaluationResults"]["comparisonChoice"]
        assert (
            names[choice["result"]["modelResponseId"]] == PREFERRED[record["inputRecord"]["prompt"]]
        )
        ratings = {
            names[r["modelResponseId"]]: r["result"]
            for r in content["evaluationResults"]["individualLikertScale"]
        }
        assert ratings == RATING
        thumbs = {
            names[r["modelResponseId"]]: r["result"]
            for r in content["evaluationResults"]["thumbsUpDown"]
        }
        assert thumbs == {"alpha": True, "beta": False}
        assert sorted(content["displayOrder"]) == ["0", "1"]

    # The report beside the results, and the same from the command line by job name.
    written = json.loads((folder / "report.json").read_text())
    printed = server.cli("evaluation", "report", "alpha-vs-beta", "--json")
    assert printed.returncode == 0, printed.stderr
    report = json.loads(printed.stdout)
    assert report["metrics"] == written["metrics"]
    metrics = {m["name"]: m for m in report["metrics"]}
    helpful = metrics["Helpfulness"]["models"]
    assert (helpful["alpha"]["wins"], helpful["alpha"]["losses"]) == (3, 1)
    assert helpful["alpha"]["win_rate"] == pytest.approx(0.75)
    assert helpful["alpha"]["win_rate_ci95"] == pytest.approx(list(wilson(3, 4)))
    assert helpful["beta"]["win_rate_ci95"] == pytest.approx(list(wilson(1, 4)))
    bt = metrics["Helpfulness"]["bradley_terry"]["scores"]
    assert bt["alpha"]["score"] > bt["beta"]["score"]
    correct = metrics["Correctness"]["models"]
    assert (correct["alpha"]["mean"], correct["beta"]["mean"]) == (4.0, 2.0)
    acceptable = metrics["Acceptable"]["models"]
    assert acceptable["alpha"]["up_rate_ci95"] == pytest.approx(list(wilson(4, 4)))
    assert acceptable["beta"]["up_rate_ci95"] == pytest.approx(list(wilson(0, 4)))
    assert report["totals"]["prompts"] == len(PROMPTS)

    # Training data: one Helpfulness pair per prompt, the preferred model's text chosen.
    out = tmp_path / "pairs.jsonl"
    exported = server.cli("export", str(folder), "--to", str(out), "--metric", "Helpfulness")
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(PROMPTS)
    for row in rows:
        winner = PREFERRED[row["prompt"]]
        assert f"**{winner}**" in row["chosen"]
        assert f"**{winner}**" not in row["rejected"]
    assert job["jobName"] == "alpha-vs-beta"

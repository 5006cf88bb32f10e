"""`handloop serve --demo`: a team, a worker, the LLM-ranking template and flow, and a few
loops, so a newcomer can click through a whole review."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass

from handloop.errors import ResourceInUse, ResourceNotFound
from handloop.services import Services

DEMO_GROUP = "demo-annotators"
DEMO_TEAM = "demo-team"
DEMO_UI = "llm-ranking"
DEMO_FLOW = "llm-ranking-demo"
DEMO_EMAIL = "demo@example.com"
DEMO_OUTPUT = "s3://handloop-demo/a2i-results"

# The ranking template: three answers to one prompt, each ranked 1 (most helpful) to 3.
# Its input is {"taskObject": {"prompt": "...", "responses": ["...", "...", "..."]}}.
RANKING_TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>

<crowd-form>
  <h3>Prompt</h3>
  <p class="prompt">{{ task.input.taskObject.prompt }}</p>

  <h3>Rank the three responses</h3>
  <p>1 is the most helpful, 3 the least. Give each rank once.</p>
  {% for response in task.input.taskObject.responses %}
  <div class="response">
    <h4>Response {{ forloop.index }}</h4>
    <p>{{ response }}</p>
    <label>Ranking
      <select name="response_{{ forloop.index }}_ranking" required>
        <option value="" selected disabled>Choose…</option>
        <option value="1">1 - Most helpful</option>
        <option value="2">2 - Somewhat helpful</option>
        <option value="3">3 - Least helpful</option>
      </select>
    </label>
  </div>
  {% endfor %}
</crowd-form>
"""

SAMPLES = [
    (
        "What is the boiling point of water at sea level?",
        [
            "100 degrees Celsius (212 degrees Fahrenheit) at standard atmospheric pressure.",
            "Water boils at about 100 °C, a bit less at altitude.",
            "It depends on the pot.",
        ],
    ),
    (
        "Explain recursion in one sentence.",
        [
            "Recursion is when a function solves a problem by calling itself on smaller parts "
            "of it until it reaches a case it can answer directly.",
            "A function that calls itself.",
            "Recursion is recursion.",
        ],
    ),
    (
        "Suggest a name for a grey cat.",
        ["Smokey", "Ash, Pebble or Earl Grey", "Cat"],
    ),
]


@dataclass(frozen=True)
class DemoWorker:
    email: str
    password: str | None  # None: the worker existed already (its password was shown then)


def demo_input(prompt: str, responses: list[str]) -> str:
    return json.dumps({"taskObject": {"prompt": prompt, "responses": responses}})


async def seed_demo(services: Services) -> DemoWorker:
    """Create whatever part of the demo is missing; safe to run at every start."""
    s = services
    try:
        await s.workteams.get(DEMO_TEAM)
    except ResourceNotFound:
        member = {"UserPool": "us-east-1_handloop", "UserGroup": DEMO_GROUP, "ClientId": "handloop"}
        await s.workteams.create(
            DEMO_TEAM,
            None,
            "People trying handloop's demo",
            {"MemberDefinitions": [{"CognitoMemberDefinition": member}]},
        )
    try:
        await s.human_task_uis.get(DEMO_UI)
    except ResourceNotFound:
        await s.human_task_uis.create(DEMO_UI, RANKING_TEMPLATE, None)
    try:
        flow = await s.flow_definitions.get(DEMO_FLOW)
    except ResourceNotFound:
        flow = await s.flow_definitions.create(
            DEMO_FLOW,
            DEMO_TEAM,
            DEMO_UI,
            {
                "HumanLoopConfig": {
                    "WorkteamArn": s.arns.build("workteam", DEMO_TEAM),
                    "HumanTaskUiArn": s.arns.build("human-task-ui", DEMO_UI),
                    "TaskTitle": "Rank three answers to a prompt",
                    "TaskDescription": "Read the prompt and rank the three answers from most "
                    "to least helpful.",
                    "TaskCount": 1,
                    "TaskKeywords": ["LLM", "ranking"],
                },
                "OutputConfig": {"S3OutputPath": DEMO_OUTPUT},
                "RoleArn": f"arn:aws:iam::{s.settings.account_id}:role/handloop-demo",
            },
        )
    password: str | None = secrets.token_urlsafe(12)
    try:
        await asyncio.to_thread(s.workers.add, DEMO_EMAIL, password or "", [DEMO_GROUP])
    except ResourceInUse:
        password = None
    # A new flow definition is Initializing for a moment, as on AWS.
    wait = flow.created_us / 1e6 + s.settings.flow_activation_seconds - s.clock() / 1e6
    if wait > 0:
        await asyncio.sleep(wait)
    for number, (prompt, responses) in enumerate(SAMPLES, start=1):
        await s.human_loops.start(
            f"demo-loop-{number}", DEMO_FLOW, demo_input(prompt, responses), None
        )
    return DemoWorker(DEMO_EMAIL, password)

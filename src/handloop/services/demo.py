"""`handloop serve --demo`: a team, a worker, two LLM-feedback flows (ranking three answers
with plain selects; picking the better of two with the `hl-comparison-choice` preference
element) and a few loops in each, and a small Bedrock-style evaluation job on a third
flow, so a newcomer can click through a whole review."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

from handloop.domain.records import FlowDefinition
from handloop.errors import ResourceInUse, ResourceNotFound
from handloop.services import Services

DEMO_GROUP = "demo-annotators"
DEMO_TEAM = "demo-team"
DEMO_UI = "llm-ranking"
DEMO_FLOW = "llm-ranking-demo"
PAIRWISE_UI = "llm-pairwise"
PAIRWISE_FLOW = "llm-pairwise-demo"
EVALUATION_UI = "llm-evaluation"
EVALUATION_FLOW = "llm-evaluation-demo"
EVALUATION_JOB = "demo-evaluation"
EVALUATION_DATASET = "s3://handloop-demo/evaluation/prompts.jsonl"
DEMO_FLOWS = (DEMO_FLOW, PAIRWISE_FLOW, EVALUATION_FLOW)
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

# The pairwise template: one prompt (Markdown, or a multi-turn conversation) and two
# responses, judged with handloop's `hl-comparison-choice` (docs/templates.md, "Preference
# elements"). Its input is {"prompt": "...", "responses": ["...", "..."]}, or
# {"messages": [{"role", "content"}, ...], "responses": [...]} for a conversation. Each
# assignment shows the two in its own order; the answer names them by id ("0", "1").
PAIRWISE_TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>

<crowd-form>
  {% if task.input.messages %}
  <h3>Conversation</h3>
  <hl-conversation messages='{{ task.input.messages | to_json }}'></hl-conversation>
  {% else %}
  <h3>Prompt</h3>
  <div class="prompt">{{ task.input.prompt | markdown }}</div>
  {% endif %}

  <h3>Which response is better?</h3>
  <p>Judge which answer is more helpful, correct and clear. Say how much better it is, and
  why if you like. Keys: 1 and 2 choose, T tie, B both bad, ↑ ↓ how much better,
  Ctrl+Enter submits; ? lists them all.</p>
  <hl-comparison-choice name="preference" responses='{{ task.input.responses | to_json }}'
      allow-tie allow-both-bad strength reason></hl-comparison-choice>
</crowd-form>
"""

PALINDROME_GOOD = """Here is a version that ignores case, spaces and punctuation:

```python
def is_palindrome(text: str) -> bool:
    \"\"\"True if text reads the same backwards, ignoring case and punctuation.\"\"\"
    letters = [c.lower() for c in text if c.isalnum()]
    return letters == letters[::-1]
```

How it works:

1. `c.isalnum()` keeps only letters and digits, so `"A man, a plan"` becomes `amanaplan`.
2. `c.lower()` makes the comparison **case-insensitive**.
3. `letters[::-1]` is the list reversed; equal lists mean a palindrome.

```python
>>> is_palindrome("A man, a plan, a canal: Panama")
True
>>> is_palindrome("handloop")
False
```

It runs in *O(n)* time and *O(n)* extra memory."""

PALINDROME_WEAK = """You can just reverse the string:

```python
def is_palindrome(s):
    return s == s[::-1]
```

This works for words like `racecar`. For sentences, remove the spaces first with
`s.replace(" ", "")`."""

DATABASES_TABLE = """| | **SQLite** | **PostgreSQL** |
|---|---|---|
| Setup | none: one file | a server to run and back up |
| Concurrent writes | one writer at a time | many, with row-level locks |
| Scale | fine to ~100k requests/day | much more, with replicas |
| Types and features | basic | JSONB, full-text search, extensions |

**Pick SQLite** for a small app on one machine: nothing to operate, and backups are a file
copy. **Pick PostgreSQL** once several processes or machines write at the same time, or
you need its richer types. Moving later is straightforward if you use an ORM such as
SQLAlchemy."""

DATABASES_LIST = """Both are good choices.

- **SQLite** is lightweight and easy.
- **PostgreSQL** is powerful and scalable.
- PostgreSQL supports more data types.
- SQLite is used in many mobile apps.

In the end it depends on your needs, so you should evaluate both and choose the one that
fits your project best."""

GIT_SOFT = """Use a **soft reset**; it moves the branch back one commit and keeps your changes
staged:

```sh
git reset --soft HEAD~1
```

- Your files are untouched and the changes stay in the index, ready to commit again.
- Use `git reset HEAD~1` (a *mixed* reset) instead if you want them unstaged.
- If you already **pushed** the commit, prefer `git revert HEAD`, which adds a new commit
  undoing it instead of rewriting shared history."""

GIT_HARD = """Run:

```sh
git reset --hard HEAD~1
```

This removes the last commit. Then run `git status` to check that everything is clean."""

STARTER_STEPS = """That smell is **acetone** from a hungry starter: the yeast has run out of
food and is producing alcohol and esters. It is not spoiled, just underfed.

To fix it:

1. **Discard** all but about 50 g of the starter.
2. **Feed** it 50 g flour and 50 g water (a 1:1:1 ratio), and stir well.
3. Keep it somewhere warm, **24–27 °C**, and feed it every 12 hours.
4. After 2–3 days of regular feeds, the smell should turn mildly sour and yeasty.

> Throw it away only if you see **pink or orange streaks** or fuzzy mould; those are signs
> of contamination."""

STARTER_SHORT = """Your starter has probably gone bad. Nail polish smell usually means bacteria
have taken over. It is safest to throw it out and start a new one with fresh flour and
filtered water."""

PAIRWISE_SAMPLES: list[dict[str, Any]] = [
    {
        "prompt": "Write a Python function that checks whether a string is a **palindrome**, "
        "ignoring case and punctuation.",
        "responses": [PALINDROME_GOOD, PALINDROME_WEAK],
    },
    {
        "prompt": "Compare SQLite and PostgreSQL for a small web app. Keep it short.",
        "responses": [DATABASES_LIST, DATABASES_TABLE],
    },
    {
        "messages": [
            {"role": "system", "content": "You are a concise, careful assistant for developers."},
            {"role": "user", "content": "How do I undo my last git commit?"},
            {
                "role": "assistant",
                "content": "Do you want to keep the changes that commit made in your working "
                "tree, or throw them away?",
            },
            {"role": "user", "content": "Keep them, I just committed too early."},
        ],
        "responses": [GIT_HARD, GIT_SOFT],
    },
    {
        "prompt": "My sourdough starter smells like nail polish remover. What's wrong, and how "
        "do I fix it?",
        "responses": [STARTER_STEPS, STARTER_SHORT],
    },
]


@dataclass(frozen=True)
class DemoWorker:
    email: str
    password: str | None  # None: the worker existed already (its password was shown then)


def demo_input(prompt: str, responses: list[str]) -> str:
    return json.dumps({"taskObject": {"prompt": prompt, "responses": responses}})


async def _template(services: Services, name: str, content: str) -> None:
    try:
        await services.human_task_uis.get(name)
    except ResourceNotFound:
        await services.human_task_uis.create(name, content, None)


async def _flow(
    services: Services, name: str, ui: str, title: str, description: str, keywords: list[str]
) -> FlowDefinition:
    s = services
    try:
        return await s.flow_definitions.get(name)
    except ResourceNotFound:
        return await s.flow_definitions.create(
            name,
            DEMO_TEAM,
            ui,
            {
                "HumanLoopConfig": {
                    "WorkteamArn": s.arns.build("workteam", DEMO_TEAM),
                    "HumanTaskUiArn": s.arns.build("human-task-ui", ui),
                    "TaskTitle": title,
                    "TaskDescription": description,
                    "TaskCount": 1,
                    "TaskKeywords": keywords,
                },
                "OutputConfig": {"S3OutputPath": DEMO_OUTPUT},
                "RoleArn": f"arn:aws:iam::{s.settings.account_id}:role/handloop-demo",
            },
        )


# A Bedrock-style evaluation job's flow: its loops show a UI generated from the job's
# metrics, so the flow's own template is never shown (it says so, should anyone look).
EVALUATION_TEMPLATE = (
    "<crowd-form><p>This flow's loops come from evaluation jobs, which show their own "
    "task UI.</p></crowd-form>"
)
EVALUATION_PROMPTS = [
    (
        "How do I reverse a list in Python?",
        "Use slicing: `items[::-1]` returns a new, reversed list; `items.reverse()` "
        "reverses it in place.",
        "Loop over it backwards and append each item to a new list.",
    ),
    (
        "What does HTTP status 404 mean?",
        "**Not Found**: the server has nothing at that URL.",
        "The server is down.",
    ),
    (
        "Name three primary colours of light.",
        "Red, green and blue.",
        "Red, yellow and blue (for paint, not light).",
    ),
]


def evaluation_request(flow_arn: str) -> dict[str, Any]:
    """The demo's CreateEvaluationJob request (as boto3's bedrock client would send it)."""
    return {
        "jobName": EVALUATION_JOB,
        "roleArn": "arn:aws:iam::123456789012:role/handloop-demo",
        "clientRequestToken": "handloop-demo-evaluation",
        "evaluationConfig": {
            "human": {
                "humanWorkflowConfig": {
                    "flowDefinitionArn": flow_arn,
                    "instructions": "Compare two models' answers as a careful reviewer would.",
                },
                "customMetrics": [
                    {
                        "name": "Helpfulness",
                        "description": "Which answer helps more?",
                        "ratingMethod": "ComparisonChoice",
                    },
                    {
                        "name": "Correctness",
                        "description": "Is the answer right?",
                        "ratingMethod": "IndividualLikertScale",
                    },
                    {"name": "Acceptable", "ratingMethod": "ThumbsUpDown"},
                ],
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {
                            "name": "demo-prompts",
                            "datasetLocation": {"s3Uri": EVALUATION_DATASET},
                        },
                        "metricNames": ["Helpfulness", "Correctness", "Acceptable"],
                    }
                ],
            }
        },
        "inferenceConfig": {
            "models": [
                {"precomputedInferenceSource": {"inferenceSourceIdentifier": "model-a"}},
                {"precomputedInferenceSource": {"inferenceSourceIdentifier": "model-b"}},
            ]
        },
        "outputDataConfig": {"s3Uri": "s3://handloop-demo/evaluation-results/"},
    }


async def _evaluation(s: Services) -> None:
    """The demo's evaluation job, once: its dataset, then the job (three prompts)."""
    lines = [
        {
            "prompt": prompt,
            "modelResponses": [
                {"response": a, "modelIdentifier": "model-a"},
                {"response": b, "modelIdentifier": "model-b"},
            ],
        }
        for prompt, a, b in EVALUATION_PROMPTS
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    bucket, _, key = EVALUATION_DATASET.removeprefix("s3://").partition("/")
    await asyncio.to_thread(s.blobs.put, bucket, key, body, if_absent=True)
    page = await s.evaluations.page(
        created_after=None,
        created_before=None,
        status=None,
        name_contains=EVALUATION_JOB,
        ascending=True,
        token=None,
        max_results=100,
    )
    if any(job.name == EVALUATION_JOB for job in page.items):
        return
    await s.evaluations.create(evaluation_request(s.arns.build("flow-definition", EVALUATION_FLOW)))


async def seed_demo(services: Services) -> DemoWorker:
    """Create whatever part of the demo is missing; safe to run at every start (a data
    directory seeded by an older handloop gains the flows it lacks)."""
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
    await _template(s, DEMO_UI, RANKING_TEMPLATE)
    await _template(s, PAIRWISE_UI, PAIRWISE_TEMPLATE)
    await _template(s, EVALUATION_UI, EVALUATION_TEMPLATE)
    flows = [
        await _flow(
            s,
            DEMO_FLOW,
            DEMO_UI,
            "Rank three answers to a prompt",
            "Read the prompt and rank the three answers from most to least helpful.",
            ["LLM", "ranking"],
        ),
        await _flow(
            s,
            PAIRWISE_FLOW,
            PAIRWISE_UI,
            "Pick the better of two answers",
            "Read the prompt or conversation and the two answers, choose the better one and "
            "say how much better it is.",
            ["LLM", "preference", "pairwise"],
        ),
        await _flow(
            s,
            EVALUATION_FLOW,
            EVALUATION_UI,
            "Rate two models' answers",
            "A human model-evaluation job: compare two models' answers on several metrics.",
            ["LLM", "evaluation"],
        ),
    ]
    password: str | None = secrets.token_urlsafe(12)
    try:
        await asyncio.to_thread(s.workers.add, DEMO_EMAIL, password or "", [DEMO_GROUP])
    except ResourceInUse:
        password = None
    # A new flow definition is Initializing for a moment, as on AWS.
    newest = max(flow.created_us for flow in flows)
    wait = newest / 1e6 + s.settings.flow_activation_seconds - s.clock() / 1e6
    if wait > 0:
        await asyncio.sleep(wait)
    # Starting a loop again with the same name and input answers the loop already there.
    for number, (prompt, responses) in enumerate(SAMPLES, start=1):
        await s.human_loops.start(
            f"demo-loop-{number}", DEMO_FLOW, demo_input(prompt, responses), None
        )
    for number, sample in enumerate(PAIRWISE_SAMPLES, start=1):
        await s.human_loops.start(
            f"demo-pairwise-{number}", PAIRWISE_FLOW, json.dumps(sample), None
        )
    await _evaluation(s)
    return DemoWorker(DEMO_EMAIL, password)

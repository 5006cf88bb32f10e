"""In-process services on a controllable clock, for lifecycle tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from handloop.domain.records import Worker
from handloop.services import Services, open_services
from handloop.settings import Settings
from tests.support import create_postgres_database, drop_postgres_database

T = TypeVar("T")
START_US = 1_790_000_000_000_000


@dataclass
class FakeClock:
    now: int = START_US

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


class Harness:
    """Services plus one event loop to drive their async API from plain tests."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.clock = FakeClock()
        settings = Settings(data_dir=data_dir, database_url=database_url, flow_activation_seconds=0)
        self.services: Services = open_services(settings, create=True, clock=self.clock)
        self.services.db.start()
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.close()
        self.services.close()

    def worker(self, email: str, *groups: str) -> Worker:
        return self.services.workers.add(email, "password123", groups)

    def flow(
        self,
        name: str,
        group: str,
        *,
        task_count: int = 1,
        time_limit: int = 60,
        lifetime: int = 3600,
        template: str = "<crowd-form><input name='x'></crowd-form>",
        tags: dict[str, str] | None = None,
    ) -> str:
        s = self.services
        self.run(
            s.workteams.create(
                f"{name}-team",
                None,
                "a team",
                {"MemberDefinitions": [{"CognitoMemberDefinition": _cognito(group)}]},
            )
        )
        self.run(s.human_task_uis.create(f"{name}-ui", template, None))
        self.run(
            s.flow_definitions.create(
                name,
                f"{name}-team",
                f"{name}-ui",
                {
                    "HumanLoopConfig": {
                        "WorkteamArn": s.arns.build("workteam", f"{name}-team"),
                        "HumanTaskUiArn": s.arns.build("human-task-ui", f"{name}-ui"),
                        "TaskTitle": f"Title of {name}",
                        "TaskDescription": f"Description of {name}",
                        "TaskCount": task_count,
                        "TaskTimeLimitInSeconds": time_limit,
                        "TaskAvailabilityLifetimeInSeconds": lifetime,
                    },
                    "OutputConfig": {"S3OutputPath": "s3://outputs/reviews"},
                    "RoleArn": "arn:aws:iam::123456789012:role/review",
                    **({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}),
                },
            )
        )
        return name

    def start(self, flow: str, name: str, content: Any = None) -> None:
        body = json.dumps(content if content is not None else {"n": name})
        self.run(self.services.human_loops.start(name, flow, body, None))

    def status(self, name: str) -> str:
        return self.run(self.services.human_loops.get(name)).status.value


def _cognito(group: str) -> dict[str, str]:
    return {"UserPool": "us-east-1_handloop", "UserGroup": group, "ClientId": "handloop"}


@contextlib.contextmanager
def fresh_harness(tmp_path: Path, database_url: str | None) -> Iterator[Harness]:
    """A harness on an empty database of the backend ``database_url`` stands for."""
    admin = os.environ.get("HANDLOOP_TEST_POSTGRES_URL")
    url = create_postgres_database(admin) if database_url and admin else None
    harness = Harness(tmp_path / "data", url)
    try:
        yield harness
    finally:
        harness.close()
        if url and admin:
            drop_postgres_database(admin, url)

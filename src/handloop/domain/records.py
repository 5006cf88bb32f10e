"""The resources as plain records, as the services hand them to the protocol layer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from handloop.domain.output_layout import output_uri
from handloop.domain.statuses import FlowDefinitionStatus, HumanLoopStatus


@dataclass(frozen=True)
class HumanTaskUi:
    id: int
    name: str
    content: str
    content_sha256: str
    created_us: int


@dataclass(frozen=True)
class FlowDefinition:
    id: int
    name: str
    workteam_name: str
    human_task_ui_name: str
    task_count: int
    task_time_limit_seconds: int
    task_availability_lifetime_seconds: int
    s3_output_path: str
    config: dict[str, Any]
    created_us: int
    status: FlowDefinitionStatus


@dataclass(frozen=True)
class Workforce:
    id: int
    name: str
    config: dict[str, Any]
    created_us: int
    updated_us: int

    @property
    def uses_oidc(self) -> bool:
        return "OidcConfig" in self.config


@dataclass(frozen=True)
class Workteam:
    id: int
    name: str
    workforce_name: str
    description: str
    config: dict[str, Any]
    created_us: int
    updated_us: int

    @property
    def groups(self) -> list[str]:
        """The worker groups whose members make up this team."""
        return member_groups(self.config)


def in_team(groups: Iterable[str], team_config: dict[str, Any] | None) -> bool:
    """Whether a worker of ``groups`` belongs to the work team of ``team_config``."""
    return team_config is not None and not set(groups).isdisjoint(member_groups(team_config))


def member_groups(config: dict[str, Any]) -> list[str]:
    """The group names a work team's ``MemberDefinitions`` name."""
    names: list[str] = []
    for member in config.get("MemberDefinitions", []):
        if "CognitoMemberDefinition" in member:
            names.append(member["CognitoMemberDefinition"]["UserGroup"])
        names.extend(member.get("OidcMemberDefinition", {}).get("Groups", []))
    return names


@dataclass(frozen=True)
class HumanLoop:
    id: int
    name: str
    flow_definition_name: str
    s3_output_path: str
    input_content: str
    status: HumanLoopStatus
    failure_code: str | None
    failure_reason: str | None
    created_us: int
    updated_us: int
    data_attributes: dict[str, Any] | None = field(default=None)

    @property
    def output_uri(self) -> str:
        return output_uri(
            self.s3_output_path, self.flow_definition_name, self.name, self.created_us
        )


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the token of the next, if any."""

    items: list[T]
    next_token: str | None


@dataclass(frozen=True)
class Worker:
    """A person of the workforce. ``worker_id`` is the opaque id A2I's output carries."""

    id: int
    worker_id: str
    email: str
    identity_provider: str
    subject: str
    groups: tuple[str, ...]
    disabled: bool
    created_us: int
    # The OIDC provider that vouches for ``subject`` (its ``iss``); None for built-in sign-in.
    issuer: str | None = None


@dataclass(frozen=True)
class Job:
    """A flow definition as a worker sees it: what the work is and how much waits."""

    flow_definition_name: str
    title: str
    description: str
    keywords: tuple[str, ...]
    waiting: int


@dataclass(frozen=True)
class Task:
    """One worker's turn at one loop, with what the task page needs to show it."""

    public_id: str
    human_loop_name: str
    flow_definition_name: str
    title: str
    description: str
    template: str
    input_content: str
    accepted_us: int
    lease_until_us: int
    # InputContent parsed and checked (json_values); the text above as stored.
    input: Any = None

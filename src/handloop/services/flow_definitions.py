"""Flow definitions: which team reviews with which template, how many workers, where output
goes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from handloop.domain import s3_names
from handloop.domain.output_layout import output_uri
from handloop.domain.records import FlowDefinition, Page
from handloop.domain.statuses import FlowDefinitionStatus
from handloop.errors import ResourceInUse, ResourceLimitExceeded, ResourceNotFound, ValidationError
from handloop.services import quality
from handloop.services.clock import Clock
from handloop.services.listing import list_page
from handloop.store import Database
from handloop.store.tables import flow_definitions, human_task_uis, workteams

DEFAULT_TASK_TIME_LIMIT = 3600
DEFAULT_TASK_AVAILABILITY_LIFETIME = 864_000


# The longest loop name (HumanLoopName is 1-63 characters): the output key of such a loop
# must still be one S3 allows.
_LONGEST_LOOP_NAME = "a" * 63


def check_output_path(output_path: str, flow_name: str) -> None:
    """ValidationException unless every output file of the flow can be written under
    ``output_path`` (an ``s3://`` URI without its trailing slashes), by S3's rules for
    buckets and keys and what the output store can hold."""
    what = "OutputConfig.S3OutputPath"
    _, prefix = s3_names.split_uri(output_path, what, key_required=False)
    # output_uri("", ...) is "/{flow}/{YYYY}/.../{loop}/output.json".
    suffix = output_uri("", flow_name, _LONGEST_LOOP_NAME, 0)
    longest_key = prefix + suffix if prefix else suffix[1:]
    if len(longest_key.encode()) > s3_names.MAX_KEY_BYTES:
        raise ValidationError(
            f"{what} is too long: output keys under it (such as '...{suffix}') would be "
            f"longer than the {s3_names.MAX_KEY_BYTES} bytes S3 allows."
        )


def select_flows() -> Any:
    return (
        select(
            flow_definitions,
            workteams.c.name.label("workteam_name"),
            human_task_uis.c.name.label("human_task_ui_name"),
        )
        .join(workteams, workteams.c.id == flow_definitions.c.workteam_id)
        .join(human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id)
    )


class FlowDefinitions:
    def __init__(
        self, db: Database, clock: Clock, *, limit: int, activation_seconds: float
    ) -> None:
        self._db = db
        self._clock = clock
        self._limit = limit
        self._activation_us = int(activation_seconds * 1_000_000)

    def record(self, row: Row[Any]) -> FlowDefinition:
        initializing = self._clock() < row.created_at + self._activation_us
        status = FlowDefinitionStatus.INITIALIZING if initializing else FlowDefinitionStatus.ACTIVE
        return FlowDefinition(
            id=row.id,
            name=row.name,
            workteam_name=row.workteam_name,
            human_task_ui_name=row.human_task_ui_name,
            task_count=row.task_count,
            task_time_limit_seconds=row.task_time_limit_seconds,
            task_availability_lifetime_seconds=row.task_availability_lifetime_seconds,
            s3_output_path=row.s3_output_path,
            config=row.config,
            created_us=row.created_at,
            status=status,
        )

    async def create(
        self, name: str, workteam_name: str, human_task_ui_name: str, config: dict[str, Any]
    ) -> FlowDefinition:
        loop_config = config["HumanLoopConfig"]
        time_limit = loop_config.get("TaskTimeLimitInSeconds", DEFAULT_TASK_TIME_LIMIT)
        lifetime = loop_config.get(
            "TaskAvailabilityLifetimeInSeconds", DEFAULT_TASK_AVAILABILITY_LIFETIME
        )
        output_path = config["OutputConfig"]["S3OutputPath"].rstrip("/")
        check_output_path(output_path, name)
        quality.settings_of(config)  # handloop's quality tags: ValidationException if bad
        now = self._clock()

        def op(conn: Connection) -> FlowDefinition:
            team_id = conn.scalar(select(workteams.c.id).where(workteams.c.name == workteam_name))
            if team_id is None:
                raise ValidationError(f"Workteam {workteam_name} does not exist.")
            ui_id = conn.scalar(
                select(human_task_uis.c.id).where(human_task_uis.c.name == human_task_ui_name)
            )
            if ui_id is None:
                raise ValidationError(f"Human task UI {human_task_ui_name} does not exist.")
            if conn.scalar(select(exists().where(flow_definitions.c.name == name))):
                raise ResourceInUse(f"Flow definition {name} already exists.")
            count = conn.scalar(select(func.count()).select_from(flow_definitions)) or 0
            if count >= self._limit:
                raise ResourceLimitExceeded(
                    f"This deployment allows {self._limit} flow definitions "
                    "(HANDLOOP_MAX_FLOW_DEFINITIONS)."
                )
            try:
                conn.execute(
                    insert(flow_definitions).values(
                        name=name,
                        workteam_id=team_id,
                        human_task_ui_id=ui_id,
                        task_count=loop_config["TaskCount"],
                        task_time_limit_seconds=time_limit,
                        task_availability_lifetime_seconds=lifetime,
                        s3_output_path=output_path,
                        config=config,
                        created_at=now,
                    )
                )
            except IntegrityError:
                raise ResourceInUse(f"Flow definition {name} already exists.") from None
            row = conn.execute(select_flows().where(flow_definitions.c.name == name)).one()
            return self.record(row)

        return await self._db.write(op)

    async def get(self, name: str) -> FlowDefinition:
        row = await self._db.read(
            lambda conn: conn.execute(select_flows().where(flow_definitions.c.name == name)).first()
        )
        if row is None:
            raise ResourceNotFound(f"Flow definition {name} does not exist.")
        return self.record(row)

    async def delete(self, name: str) -> None:
        def op(conn: Connection) -> None:
            flow = conn.execute(
                select(flow_definitions.c.id, flow_definitions.c.active_loops)
                .where(flow_definitions.c.name == name)
                .with_for_update()
            ).first()
            if flow is None:
                raise ResourceNotFound(f"Flow definition {name} does not exist.")
            if flow.active_loops:
                raise ResourceInUse(
                    f"Flow definition {name} has {flow.active_loops} human loop(s) in progress; "
                    "stop them first."
                )
            flow_id = flow.id
            conn.execute(flow_definitions.delete().where(flow_definitions.c.id == flow_id))

        await self._db.write(op)

    async def page(
        self,
        *,
        created_after: datetime | None,
        created_before: datetime | None,
        ascending: bool,
        token: str | None,
        max_results: int,
    ) -> Page[FlowDefinition]:
        page = await list_page(
            self._db,
            flow_definitions,
            lambda row: row,
            created_after=created_after,
            created_before=created_before,
            ascending=ascending,
            token=token,
            max_results=max_results,
            columns=[
                flow_definitions,
                workteams.c.name.label("workteam_name"),
                human_task_uis.c.name.label("human_task_ui_name"),
            ],
            joins=[
                (workteams, workteams.c.id == flow_definitions.c.workteam_id),
                (human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id),
            ],
        )
        return Page([self.record(row) for row in page.items], page.next_token)

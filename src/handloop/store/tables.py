"""SQLAlchemy Core tables. Times are integer microseconds since the epoch (UTC).

ARNs are not stored: they follow from a name and the deployment's region and account.
Schema changes go through an Alembic migration in ``store/migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("access_key_id", String(32), nullable=False, unique=True),
    Column("secret_ciphertext", LargeBinary, nullable=False),
    Column("description", String(256), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

workforces = Table(
    "workforces",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    # The request's CognitoConfig / OidcConfig / SourceIpConfig / WorkforceVpcConfig / Tags.
    Column("config", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

workteams = Table(
    "workteams",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("workforce_id", Id, ForeignKey("workforces.id"), nullable=False),
    Column("description", String(200), nullable=False),
    # MemberDefinitions, NotificationConfiguration, WorkerAccessConfiguration, Tags.
    Column("config", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

human_task_uis = Table(
    "human_task_uis",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("content", Text, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("config", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

flow_definitions = Table(
    "flow_definitions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("workteam_id", Id, ForeignKey("workteams.id"), nullable=False, index=True),
    Column("human_task_ui_id", Id, ForeignKey("human_task_uis.id"), nullable=False, index=True),
    Column("task_count", Integer, nullable=False),
    Column("task_time_limit_seconds", Integer, nullable=False),
    Column("task_availability_lifetime_seconds", Integer, nullable=False),
    Column("s3_output_path", String(1024), nullable=False),
    # Loops of this flow InProgress or Stopping, kept by database triggers on human_loops
    # (see the migration), so the per-flow quota costs one row read, not a count.
    Column("active_loops", Integer, nullable=False, server_default="0"),
    # The whole request as given (HumanLoopConfig, OutputConfig, RoleArn, ...), for Describe.
    Column("config", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

human_loops = Table(
    "human_loops",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    # Loops outlive their flow definition's deletion only when they are finished; the
    # flow's name and output path are kept so Describe and the output URI stay answerable.
    Column("flow_definition_id", Id, ForeignKey("flow_definitions.id", ondelete="SET NULL")),
    Column("flow_definition_name", String(63), nullable=False),
    Column("s3_output_path", String(1024), nullable=False),
    Column("input_content", Text, nullable=False),
    Column("input_sha256", String(64), nullable=False),
    Column("data_attributes", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("failure_code", String(32), nullable=True),
    Column("failure_reason", String(1024), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_human_loops_flow_created", "flow_definition_name", "created_at", "id"),
    Index("ix_human_loops_flow_status", "flow_definition_id", "status"),
)

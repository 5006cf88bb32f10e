"""SQLAlchemy Core tables. Times are integer microseconds since the epoch (UTC).

ARNs are not stored: they follow from a name and the deployment's region and account.
Schema changes go through an Alembic migration in ``store/migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from handloop.domain.statuses import TaskState

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

# Bedrock-style human model-evaluation jobs (services/evaluations.py): each starts one loop
# per prompt on a flow definition, with a task UI generated from its metrics.
evaluation_jobs = Table(
    "evaluation_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", String(12), nullable=False, unique=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("flow_definition_name", String(63), nullable=False),
    # The request as given (evaluationConfig, inferenceConfig, outputDataConfig, ...).
    Column("config", JSON, nullable=False),
    Column("client_request_token", String(256), nullable=True),
    # The task UI of the job's loops, generated from its metrics (the flow's is not used).
    Column("template", Text, nullable=False),
    Column("failure_messages", JSON, nullable=True),
    # Where the results went: {"files": [...], "report": ...}
    Column("results", JSON, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
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
    # Copied from the flow at start, so a loop keeps its terms whatever happens to the flow.
    Column("task_count", Integer, nullable=False, server_default="1"),
    Column("task_time_limit_seconds", Integer, nullable=False, server_default="3600"),
    Column("expires_at", BigInteger, nullable=True),
    # Workers holding or having submitted a task, and answers submitted. The checks make
    # the database refuse more claims than TaskCount, whatever the code above it does.
    Column("claimed", Integer, nullable=False, server_default="0"),
    Column("submitted", Integer, nullable=False, server_default="0"),
    # Failed attempts at writing the output file of a loop whose answers are all in, and
    # when the next is due: a write that keeps failing ends the loop instead of spinning.
    Column("output_attempts", Integer, nullable=False, server_default="0"),
    Column("output_retry_at", BigInteger, nullable=True),
    # Adaptive overlap (flow tag handloop:max-task-count): the most answers the loop may
    # get; task_count grows one round at a time while answers disagree. How it stopped:
    # "agreement", "cap" or "lifetime" (NULL for loops of flows without the tag).
    Column("max_task_count", Integer, nullable=True),
    Column("rounds", Integer, nullable=False, server_default="0"),
    Column("stop_reason", String(16), nullable=True),
    # The evaluation job that started the loop, whose generated task UI it shows. No
    # foreign key: adding one on SQLite means rebuilding this table (and dropping its
    # triggers); services/evaluations.py clears it before deleting a job.
    Column("evaluation_job_id", Id, nullable=True, index=True),
    CheckConstraint("claimed <= task_count", name="claims_within_task_count"),
    CheckConstraint("submitted <= claimed", name="submitted_within_claims"),
    Index("ix_human_loops_flow_created", "flow_definition_name", "created_at", "id"),
    Index("ix_human_loops_flow_status", "flow_definition_id", "status"),
)

# Where claims look for work: the loops in progress of one flow, oldest first.
Index(
    "ix_human_loops_open",
    human_loops.c.flow_definition_id,
    human_loops.c.id,
    postgresql_where=human_loops.c.status == "InProgress",
    sqlite_where=human_loops.c.status == "InProgress",
)

# -- the workforce's people and their portal sessions ----------------------------------------

workers = Table(
    "workers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # The id A2I's output calls workerId: opaque, stable, never the email.
    Column("worker_id", String(32), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=True),
    # "Cognito" for built-in sign-in, "Oidc" for the workforce's OIDC provider.
    Column("identity_provider", String(16), nullable=False),
    Column("subject", String(255), nullable=False, unique=True),
    # The OIDC provider that vouches for the subject (its `iss`); NULL for built-in sign-in.
    Column("issuer", String(500), nullable=True),
    Column("disabled_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

worker_groups = Table(
    "worker_groups",
    metadata,
    Column("worker_pk", Id, ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(128), primary_key=True),
    Index("ix_worker_groups_group_name", "group_name"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("email", String(254), nullable=False),
    Column("groups", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
)

portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("worker_pk", Id, ForeignKey("workers.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# Failed portal sign-ins, keyed "ip:<address>" and "email:<email>": kept in the database so
# the limit holds across every server process sharing it. Rows older than the window go.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_sign_in_failures_key_at", "key", "at"),
    Index("ix_sign_in_failures_at", "at"),
)

# An OIDC sign-in under way: from the redirect to the provider until its answer comes back
# (once: the row is deleted as it is used, so a replayed state finds nothing).
oidc_sign_ins = Table(
    "oidc_sign_ins",
    metadata,
    Column("state_sha256", String(64), primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("next_path", String(2048), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    # Whom the sign-in is for: "worker" (the portal) or "console" (the requester console).
    Column("purpose", String(16), nullable=False, server_default="worker"),
    Index("ix_oidc_sign_ins_expires_at", "expires_at"),
)

# -- one worker's turn at one loop ------------------------------------------------------------

tasks = Table(
    "tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # What the portal shows in URLs: unguessable, so ids reveal nothing about other tasks.
    Column("public_id", String(32), nullable=False, unique=True),
    Column(
        "human_loop_id",
        Id,
        ForeignKey("human_loops.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # NULL once the worker is removed; their submitted answers stay with the loop.
    Column("worker_pk", Id, ForeignKey("workers.id", ondelete="SET NULL"), nullable=True),
    # A TaskState. The row outlives the turn (released, expired, revoked), so the worker
    # who held it is told why it is gone; a new turn of the same worker reactivates it.
    Column("state", String(16), nullable=False),
    Column("accepted_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger, nullable=True),
    Column("submitted_at", BigInteger, nullable=True),
    Column("answer", JSON, nullable=True),
    Column("time_spent_ms", BigInteger, nullable=True),
    # workerId and identityData as they were at submission, for the output file.
    Column("identity", JSON, nullable=True),
    # A loop's answers come from distinct workers: the database refuses a second row.
    UniqueConstraint("human_loop_id", "worker_pk", name="uq_tasks_loop_worker"),
    CheckConstraint(
        "state IN (" + ", ".join(f"'{state.value}'" for state in TaskState) + ")",
        name="known_state",
    ),
    Index("ix_tasks_worker_state", "worker_pk", "state"),
    Index("ix_tasks_state_lease", "state", "lease_until"),
)

# -- status-change events: a durable outbox and the webhooks it is delivered to -----------

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", String(2048), nullable=False, unique=True),
    Column("secret_ciphertext", LargeBinary, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("human_loop_name", String(63), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("event_id", Id, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("webhook_id", Id, ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("last_error", String(512), nullable=True),
    Index("ix_deliveries_due", "delivered_at", "next_attempt_at"),
)


# -- quality control: gold items, and each worker's record on a flow ------------------------

gold_items = Table(
    "gold_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("flow_definition_name", String(63), nullable=False, index=True),
    Column("input_content", Text, nullable=False),
    Column("input_sha256", String(64), nullable=False),
    # The accepted answerContents (one or several).
    Column("answers", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("flow_definition_name", "input_sha256", name="uq_gold_items_flow_input"),
)

# A worker's turn at a gold item: a task that looks like any other, scored, never output.
gold_tasks = Table(
    "gold_tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("gold_item_id", Id, ForeignKey("gold_items.id", ondelete="CASCADE"), nullable=False),
    Column("worker_pk", Id, ForeignKey("workers.id", ondelete="CASCADE"), nullable=False),
    Column("flow_definition_name", String(63), nullable=False),
    Column("loop_name", String(63), nullable=False),
    Column("state", String(16), nullable=False),
    Column("accepted_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger, nullable=True),
    Column("submitted_at", BigInteger, nullable=True),
    Column("answer", JSON, nullable=True),
    Column("score", Float, nullable=True),
    Column("time_spent_ms", BigInteger, nullable=True),
    UniqueConstraint("gold_item_id", "worker_pk", name="uq_gold_tasks_item_worker"),
    Index("ix_gold_tasks_worker_flow", "worker_pk", "flow_definition_name", "state"),
)

# A worker's figures on a flow with quality settings, kept as answers come in.
worker_quality = Table(
    "worker_quality",
    metadata,
    Column("worker_pk", Id, ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True),
    Column("flow_definition_name", String(63), primary_key=True),
    Column("claims", Integer, nullable=False, server_default="0"),
    Column("answers", Integer, nullable=False, server_default="0"),
    Column("gold_answers", Integer, nullable=False, server_default="0"),
    Column("gold_score_sum", Float, nullable=False, server_default="0"),
    Column("agreement_n", Integer, nullable=False, server_default="0"),
    Column("agreement_sum", Float, nullable=False, server_default="0"),
    Column("first_picks", Integer, nullable=False, server_default="0"),
    Column("position_choices", Integer, nullable=False, server_default="0"),
    Column("median_ms", BigInteger, nullable=True),
    Column("flow_median_ms", BigInteger, nullable=True),
    Column("trust", Float, nullable=True),
    Column("paused_at", BigInteger, nullable=True),
    Column("paused_reason", String(512), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
)


# -- the requester console: its accounts and sessions, and counters kept with the writes ----

# People who use the console (/console): not workers, and no default account.
requesters = Table(
    "requesters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    # Empty for requesters who sign in through the workforce's OIDC provider.
    Column("password_hash", String(256), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # The provider's issuer and subject (HANDLOOP_CONSOLE_OIDC_GROUP); NULL for passwords.
    Column("issuer", String(500), nullable=True),
    Column("subject", String(255), nullable=True),
    Index("uq_requesters_issuer_subject", "issuer", "subject", unique=True),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("requester_id", Id, ForeignKey("requesters.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# A flow's loops per status, kept by database triggers on human_loops (store/console_counters.py),
# so the console's overview reads a few rows, never counts loops.
flow_loop_counts = Table(
    "flow_loop_counts",
    metadata,
    Column("flow_definition_name", String(63), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("loops", BigInteger, nullable=False, server_default="0"),
)

# A flow's answers submitted and loops completed per hour (hours since the epoch, UTC),
# kept by triggers on tasks and human_loops.
flow_hourly = Table(
    "flow_hourly",
    metadata,
    Column("flow_definition_name", String(63), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("answers", BigInteger, nullable=False, server_default="0"),
    Column("completed", BigInteger, nullable=False, server_default="0"),
)

# The console's loop list: a flow's loops of one status by creation time, at any depth.
Index(
    "ix_human_loops_flow_status_created",
    human_loops.c.flow_definition_name,
    human_loops.c.status,
    human_loops.c.created_at,
    human_loops.c.id,
)

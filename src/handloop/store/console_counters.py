"""Database triggers that keep the requester console's counters, whatever code writes:

- ``flow_loop_counts``: a flow's loops per status (insert, status change, delete of a loop);
- ``flow_hourly``: a flow's answers submitted (a task reaching ``submitted``) and loops
  completed (a loop reaching ``Completed``) per hour since the epoch, UTC.

Counters are keyed by the flow's name, which a loop keeps after its flow is deleted. The
console's overview reads these rows and never counts loops. Migration 0009 creates the
triggers and fills the counters from the rows already there; a later migration that makes
SQLite rebuild ``human_loops`` or ``tasks`` (batch mode) drops the triggers with the old
table and must call ``restore_after_sqlite_rebuild``.
"""

from __future__ import annotations

from sqlalchemy import Connection

HOUR_US = 3_600_000_000
SUBMITTED = "'submitted'"
COMPLETED = "'Completed'"


def _sqlite_add(flow: str, status: str) -> str:
    return f"""INSERT INTO flow_loop_counts (flow_definition_name, status, loops)
        VALUES ({flow}, {status}, 1)
        ON CONFLICT (flow_definition_name, status) DO UPDATE SET loops = loops + 1;"""


def _sqlite_sub(flow: str, status: str) -> str:
    return f"""UPDATE flow_loop_counts SET loops = loops - 1
        WHERE flow_definition_name = {flow} AND status = {status};"""


def _sqlite_hour(flow: str, at: str, answers: int, completed: int, where: str) -> str:
    # The WHERE clause also settles SQLite's reading of `SELECT ... ON CONFLICT`.
    return f"""INSERT INTO flow_hourly (flow_definition_name, hour, answers, completed)
        SELECT {flow}, ({at}) / {HOUR_US}, {answers}, {completed} {where}
        ON CONFLICT (flow_definition_name, hour) DO UPDATE
        SET answers = answers + {answers}, completed = completed + {completed};"""


_LOOP_COMPLETED = "WHERE NEW.status = 'Completed'"
_LOOP_NOW_COMPLETED = "WHERE NEW.status = 'Completed' AND OLD.status IS NOT 'Completed'"
_ANSWERED_AT = "COALESCE(NEW.submitted_at, NEW.accepted_at)"
_LOOP_OF_TASK = "FROM human_loops WHERE id = NEW.human_loop_id"
_NEW_FLOW, _OLD_FLOW = "NEW.flow_definition_name", "OLD.flow_definition_name"
_SQLITE_ANSWER = _sqlite_hour("flow_definition_name", _ANSWERED_AT, 1, 0, _LOOP_OF_TASK)

SQLITE = [
    f"""CREATE TRIGGER console_loops_insert AFTER INSERT ON human_loops
    BEGIN
        {_sqlite_add(_NEW_FLOW, "NEW.status")}
        {_sqlite_hour(_NEW_FLOW, "NEW.updated_at", 0, 1, _LOOP_COMPLETED)}
    END""",
    f"""CREATE TRIGGER console_loops_update
    AFTER UPDATE OF status, flow_definition_name ON human_loops
    WHEN OLD.status IS NOT NEW.status OR OLD.flow_definition_name IS NOT NEW.flow_definition_name
    BEGIN
        {_sqlite_sub(_OLD_FLOW, "OLD.status")}
        {_sqlite_add(_NEW_FLOW, "NEW.status")}
        {_sqlite_hour(_NEW_FLOW, "NEW.updated_at", 0, 1, _LOOP_NOW_COMPLETED)}
    END""",
    f"""CREATE TRIGGER console_loops_delete AFTER DELETE ON human_loops
    BEGIN
        {_sqlite_sub(_OLD_FLOW, "OLD.status")}
    END""",
    f"""CREATE TRIGGER console_answers_insert AFTER INSERT ON tasks
    WHEN NEW.state = {SUBMITTED}
    BEGIN
        {_SQLITE_ANSWER}
    END""",
    f"""CREATE TRIGGER console_answers_update AFTER UPDATE OF state ON tasks
    WHEN NEW.state = {SUBMITTED} AND OLD.state IS NOT {SUBMITTED}
    BEGIN
        {_SQLITE_ANSWER}
    END""",
]


def _pg_hour(flow: str, at: str, answers: int, completed: int, where: str = "") -> str:
    return f"""INSERT INTO flow_hourly (flow_definition_name, hour, answers, completed)
            SELECT {flow}, ({at}) / {HOUR_US}, {answers}, {completed} {where}
            ON CONFLICT (flow_definition_name, hour) DO UPDATE
            SET answers = flow_hourly.answers + {answers},
                completed = flow_hourly.completed + {completed};"""


POSTGRES = [
    f"""CREATE FUNCTION console_loop_counts() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status
            AND OLD.flow_definition_name IS NOT DISTINCT FROM NEW.flow_definition_name THEN
            RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE flow_loop_counts SET loops = loops - 1
            WHERE flow_definition_name = OLD.flow_definition_name AND status = OLD.status;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO flow_loop_counts (flow_definition_name, status, loops)
            VALUES (NEW.flow_definition_name, NEW.status, 1)
            ON CONFLICT (flow_definition_name, status) DO UPDATE
            SET loops = flow_loop_counts.loops + 1;
            IF NEW.status = {COMPLETED}
                AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM {COMPLETED}) THEN
                {_pg_hour(_NEW_FLOW, "NEW.updated_at", 0, 1)}
            END IF;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER console_loops_insert AFTER INSERT ON human_loops
    FOR EACH ROW EXECUTE FUNCTION console_loop_counts()""",
    """CREATE TRIGGER console_loops_update
    AFTER UPDATE OF status, flow_definition_name ON human_loops
    FOR EACH ROW EXECUTE FUNCTION console_loop_counts()""",
    """CREATE TRIGGER console_loops_delete AFTER DELETE ON human_loops
    FOR EACH ROW EXECUTE FUNCTION console_loop_counts()""",
    f"""CREATE FUNCTION console_answer_counts() RETURNS trigger AS $$
    BEGIN
        IF NEW.state = {SUBMITTED}
            AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM {SUBMITTED}) THEN
            {_pg_hour("flow_definition_name", _ANSWERED_AT, 1, 0, _LOOP_OF_TASK)}
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER console_answers_insert AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION console_answer_counts()""",
    """CREATE TRIGGER console_answers_update AFTER UPDATE OF state ON tasks
    FOR EACH ROW EXECUTE FUNCTION console_answer_counts()""",
]

TRIGGERS = {
    "console_loops_insert": "human_loops",
    "console_loops_update": "human_loops",
    "console_loops_delete": "human_loops",
    "console_answers_insert": "tasks",
    "console_answers_update": "tasks",
}
FUNCTIONS = ("console_loop_counts", "console_answer_counts")

# The counters from the rows already there (the migration's first fill, and a repair).
FILL = [
    "DELETE FROM flow_loop_counts",
    "DELETE FROM flow_hourly",
    """INSERT INTO flow_loop_counts (flow_definition_name, status, loops)
    SELECT flow_definition_name, status, COUNT(*) FROM human_loops
    GROUP BY flow_definition_name, status""",
    f"""INSERT INTO flow_hourly (flow_definition_name, hour, answers, completed)
    SELECT flow, hour, SUM(answers), SUM(completed) FROM (
        SELECT l.flow_definition_name AS flow, t.submitted_at / {HOUR_US} AS hour,
            1 AS answers, 0 AS completed
        FROM tasks t JOIN human_loops l ON l.id = t.human_loop_id
        WHERE t.state = {SUBMITTED} AND t.submitted_at IS NOT NULL
        UNION ALL
        SELECT flow_definition_name, updated_at / {HOUR_US}, 0, 1
        FROM human_loops WHERE status = {COMPLETED}
    ) AS counted
    GROUP BY flow, hour""",
]


def create_console_triggers(bind: Connection) -> None:
    for statement in SQLITE if bind.dialect.name == "sqlite" else POSTGRES:
        bind.exec_driver_sql(statement)


def drop_console_triggers(bind: Connection) -> None:
    sqlite = bind.dialect.name == "sqlite"
    for name, table in TRIGGERS.items():
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        for function in FUNCTIONS:
            bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")


def fill_console_counters(bind: Connection) -> None:
    """Count again from the loops and tasks (the migration's first fill; a repair)."""
    for statement in FILL:
        bind.exec_driver_sql(statement)


def restore_after_sqlite_rebuild(bind: Connection) -> None:
    """Create the triggers again on SQLite, where rebuilding a table dropped them."""
    if bind.dialect.name == "sqlite":
        drop_console_triggers(bind)
        create_console_triggers(bind)

"""Database triggers that keep ``flow_definitions.active_loops`` equal to the number of the
flow's loops InProgress or Stopping, whatever code changes a loop's status.

Migrations call these: 0001 creates the triggers; a migration that makes SQLite rebuild
``human_loops`` (batch mode) drops them with the old table and must create them again.
"""

from __future__ import annotations

from sqlalchemy import Connection

ACTIVE = "('InProgress', 'Stopping')"

SQLITE = [
    f"""CREATE TRIGGER human_loops_active_insert AFTER INSERT ON human_loops
    WHEN NEW.status IN {ACTIVE}
    BEGIN
        UPDATE flow_definitions SET active_loops = active_loops + 1
        WHERE id = NEW.flow_definition_id;
    END""",
    f"""CREATE TRIGGER human_loops_active_update
    AFTER UPDATE OF status, flow_definition_id ON human_loops
    BEGIN
        UPDATE flow_definitions SET active_loops = active_loops - 1
        WHERE id = OLD.flow_definition_id AND OLD.status IN {ACTIVE};
        UPDATE flow_definitions SET active_loops = active_loops + 1
        WHERE id = NEW.flow_definition_id AND NEW.status IN {ACTIVE};
    END""",
    f"""CREATE TRIGGER human_loops_active_delete AFTER DELETE ON human_loops
    WHEN OLD.status IN {ACTIVE}
    BEGIN
        UPDATE flow_definitions SET active_loops = active_loops - 1
        WHERE id = OLD.flow_definition_id;
    END""",
]

POSTGRES = [
    f"""CREATE FUNCTION human_loops_active_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {ACTIVE} THEN
            UPDATE flow_definitions SET active_loops = active_loops - 1
            WHERE id = OLD.flow_definition_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN {ACTIVE} THEN
            UPDATE flow_definitions SET active_loops = active_loops + 1
            WHERE id = NEW.flow_definition_id;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER human_loops_active_insert AFTER INSERT ON human_loops
    FOR EACH ROW EXECUTE FUNCTION human_loops_active_count()""",
    """CREATE TRIGGER human_loops_active_update
    AFTER UPDATE OF status, flow_definition_id ON human_loops
    FOR EACH ROW EXECUTE FUNCTION human_loops_active_count()""",
    """CREATE TRIGGER human_loops_active_delete AFTER DELETE ON human_loops
    FOR EACH ROW EXECUTE FUNCTION human_loops_active_count()""",
]

NAMES = ("human_loops_active_insert", "human_loops_active_update", "human_loops_active_delete")


def create_active_loop_triggers(bind: Connection) -> None:
    for statement in SQLITE if bind.dialect.name == "sqlite" else POSTGRES:
        bind.exec_driver_sql(statement)


def drop_active_loop_triggers(bind: Connection) -> None:
    sqlite = bind.dialect.name == "sqlite"
    for name in NAMES:
        bind.exec_driver_sql(
            f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else " ON human_loops")
        )
    if not sqlite:
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS human_loops_active_count()")


def restore_after_sqlite_rebuild(bind: Connection) -> None:
    """Create the triggers again on SQLite, where rebuilding human_loops dropped them."""
    if bind.dialect.name == "sqlite":
        drop_active_loop_triggers(bind)
        create_active_loop_triggers(bind)

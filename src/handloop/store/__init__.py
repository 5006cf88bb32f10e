"""The relational store: SQLAlchemy Core tables, Alembic migrations, the write funnel."""

from handloop.store.database import Database

__all__ = ["Database"]

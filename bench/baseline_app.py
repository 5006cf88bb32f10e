"""The floor StartHumanLoop is measured against: a bare FastAPI + pydantic endpoint that
inserts into SQLite (WAL) with no authentication and no validation beyond pydantic's.

Run by bench/start_loops.py under the same uvicorn settings as handloop.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from fastapi import FastAPI
from pydantic import BaseModel

DB = os.environ.get("BASELINE_DB", "baseline.db")
_local = threading.local()


def _conn() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS loops (id INTEGER PRIMARY KEY, name TEXT UNIQUE, "
            "flow TEXT, input TEXT, created INTEGER)"
        )
        _local.conn = conn
    return conn


class HumanLoopInput(BaseModel):
    InputContent: str


class StartHumanLoop(BaseModel):
    HumanLoopName: str
    FlowDefinitionArn: str
    HumanLoopInput: HumanLoopInput


app = FastAPI()


@app.get("/healthz")
def healthz() -> str:
    return "ok"


@app.post("/human-loops")
def start(request: StartHumanLoop) -> dict[str, str]:
    conn = _conn()
    conn.execute(
        "INSERT OR IGNORE INTO loops (name, flow, input, created) VALUES (?, ?, ?, ?)",
        (
            request.HumanLoopName,
            request.FlowDefinitionArn,
            request.HumanLoopInput.InputContent,
            time.time_ns(),
        ),
    )
    conn.commit()
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:human-loop/{request.HumanLoopName}"
    return {"HumanLoopArn": arn}

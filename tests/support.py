"""Test support: a live `handloop serve` in a subprocess, and boto3 clients pointed at it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

HANDLOOP = [sys.executable, "-m", "handloop"]


def error_of(call: Callable[[], Any]) -> tuple[str, int, str]:
    """The AWS error code, HTTP status and message a boto3 call fails with."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HANDLOOP, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=input,
        timeout=120,
    )


def create_postgres_database(admin_url: str) -> str:
    """A fresh, empty database on the test PostgreSQL server; its SQLAlchemy URL."""
    import psycopg

    name = f"hl_test_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(admin_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class LiveServer:
    """A `handloop serve` process with its own data directory (and database)."""

    data_dir: Path
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    first_key: dict[str, str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {
            "HANDLOOP_DATA_DIR": str(self.data_dir),
            "HANDLOOP_FLOW_ACTIVATION_SECONDS": "0",
            "HANDLOOP_LOG_LEVEL": "warning",
            **self.extra_env,
        }
        if self.database_url:
            env["HANDLOOP_DATABASE_URL"] = self.database_url
        return env

    def start(self) -> LiveServer:
        log = open(self.data_dir.parent / f"serve-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [*HANDLOOP, "serve", "--port", str(self.port)],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"handloop serve exited: {Path(log.name).read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("handloop serve did not answer in 60 s")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.output.append(self.process.stdout.read())
            self.process = None

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env, input=input)

    def new_key(self) -> dict[str, str]:
        result = self.cli("keys", "create", "--json")
        assert result.returncode == 0, result.stderr
        key: dict[str, str] = json.loads(result.stdout)
        return key

    def client(self, service: str, key: dict[str, str] | None = None, **config: Any) -> Any:
        key = key or self.default_key
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            config=Config(retries={"max_attempts": 1}, **config),
        )

    @property
    def default_key(self) -> dict[str, str]:
        if self.first_key is None:
            self.first_key = self.new_key()
        return self.first_key


def signed_call(
    server: LiveServer,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    service: str = "sagemaker",
) -> httpx.Response:
    """Send a raw request signed as botocore signs, for wire cases boto3 cannot produce."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key = server.default_key
    request = AWSRequest(method=method, url=f"{server.url}{path}", data=body, headers=headers or {})
    SigV4Auth(
        Credentials(key["AccessKeyId"], key["SecretAccessKey"]), service, "us-east-1"
    ).add_auth(request)
    return httpx.request(
        method, f"{server.url}{path}", headers=dict(request.headers.items()), content=body
    )

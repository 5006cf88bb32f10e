"""Test support: live handloop servers (in this process, or `handloop serve` in a subprocess
where the process is the point), the CLI, and boto3 clients pointed at a server."""

from __future__ import annotations

import gc
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config
from click.testing import CliRunner, Result

HANDLOOP = [sys.executable, "-m", "handloop"]
# CliRunner swaps the process's stdin, stdout, stderr and environment while a command runs:
# one command at a time, whichever thread calls.
_CLI_LOCK = threading.Lock()


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


# Test servers listen on ports below the kernel's ephemeral range (32768-60999 on Linux),
# from which the suite's own outgoing connections take theirs, so a port found free here is
# not taken by a client socket before the server binds it; and each pytest-xdist worker has
# a block of its own (twelve blocks; beyond twelve workers they are shared, and the bind
# check below still skips a port in use).
PORT_BLOCK = 800
_next_port = itertools.count()


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    base = 22000 + PORT_BLOCK * (int(worker) % 12 if worker.isdigit() else 0)
    for _ in range(PORT_BLOCK):
        port = base + next(_next_port) % PORT_BLOCK
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use, or still in TIME_WAIT
                continue
            return port
    raise RuntimeError(f"no free port in {base}-{base + PORT_BLOCK - 1}")


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``handloop ARGS`` run in this process through click's CliRunner (no interpreter start
    per command), answered as a finished subprocess would be: exit status, stdout, stderr.
    An exception the command lets escape is printed to stderr as Python would print it."""
    from handloop.cli import main

    done: list[Result] = []

    def invoke() -> None:
        # A command in a process of its own would find AWS credentials in its environment
        # afresh; boto3's default session keeps the first it found.
        saved, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, None
        try:
            done.append(
                CliRunner().invoke(
                    main,
                    list(args),
                    input=input,
                    env=env,
                    prog_name="handloop",
                    catch_exceptions=True,
                )
            )
        finally:
            boto3.DEFAULT_SESSION = saved

    # In a thread of its own, where no event loop runs (Playwright's sync API keeps one
    # running in the main thread while a browser is open).
    with _CLI_LOCK:
        thread = threading.Thread(target=invoke, name="handloop-cli")
        thread.start()
        thread.join()
    [result] = done
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["handloop", *args], result.exit_code, result.stdout, stderr)


def run_cli_process(
    *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m handloop ARGS`` in a subprocess, for tests about the process itself."""
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
    """A handloop server on its own data directory (and database).

    By default it runs in this process: the app `handloop serve` builds, served by uvicorn
    in a thread, with the same settings (from ``env``). With ``in_process=False`` it is a
    real `handloop serve` subprocess (``process``), for tests about the process: its output,
    kill -9 and restart, several processes on one database. Under `make test` such a process
    is measured for coverage too, unless ``measured=False``: the crowd tests, whose servers
    run only code that other tests measure, would spend a third of their time in the tracer.
    """

    data_dir: Path
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    first_key: dict[str, str] | None = None
    output: list[str] = field(default_factory=list)
    in_process: bool = True
    measured: bool = True
    _uvicorn: Any = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

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
        if self.in_process:
            self._start_thread()
        else:
            self._start_process()
        return self

    def stop(self) -> None:
        if self.in_process:
            self._stop_thread()
        else:
            self._stop_process()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_thread(self) -> None:
        import uvicorn

        from handloop.app import create_app
        from handloop.cli.server import uvicorn_options
        from handloop.services import open_services
        from handloop.settings import Settings

        # What `handloop serve --port PORT` does with these HANDLOOP_* variables set.
        given = {
            name.removeprefix("HANDLOOP_").lower(): value
            for name, value in self.env.items()
            if name.startswith("HANDLOOP_")
        }
        settings = Settings(**{**given, "port": self.port})
        services = open_services(settings, create=True)
        key = services.access_keys.create_first()
        if key is not None and self.first_key is None:
            self.first_key = {
                "AccessKeyId": key.access_key_id,
                "SecretAccessKey": key.secret_access_key,
            }
        # Logging is left to pytest, which shows a failing test's server log.
        config = uvicorn.Config(create_app(services), **uvicorn_options(settings), log_config=None)
        server = uvicorn.Server(config)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((settings.host, self.port))
        except OSError:
            sock.close()
            services.close()
            raise
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"handloop-{self.port}", daemon=True
        )
        thread.start()
        self._uvicorn, self._thread = server, thread
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive():
                sock.close()
                self._uvicorn = self._thread = None
                raise RuntimeError("the in-process server did not start; see the log above")
            if time.monotonic() > deadline:
                self._stop_thread()
                raise RuntimeError("the in-process server did not start in 60 s")
            time.sleep(0.01)

    def _stop_thread(self) -> None:
        server, thread = self._uvicorn, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=30)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=30)
        self._uvicorn = self._thread = None
        # The app freezes what start-up made (gc.freeze), right for a server process; in the
        # test process it would keep every earlier server's objects for the whole session.
        gc.unfreeze()

    def _start_process(self) -> None:
        log = open(self.data_dir.parent / f"serve-{self.port}.log", "w")  # noqa: SIM115
        env = {**os.environ, **self.env}
        if not self.measured:
            # Set by coverage's `patch = ["subprocess"]` (pyproject.toml) to measure children.
            env.pop("COVERAGE_PROCESS_CONFIG", None)
        self.process = subprocess.Popen(
            [*HANDLOOP, "serve", "--port", str(self.port)],
            env=env,
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

    def _stop_process(self) -> None:
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

"""Shared pieces of the bench scripts: a server process, signed raw requests, wrk runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# The notebook's item: one prompt and three LLM answers (about 1.3 KB as JSON).
ITEM = {
    "prompt": "Explain, in a short paragraph, why the sky is blue during the day and red at "
    "sunset.",
    "responses": [
        "Sunlight is scattered by the molecules of the air. Shorter (blue) wavelengths scatter "
        "much more than longer ones (Rayleigh scattering, proportional to 1/wavelength^4), so "
        "blue light reaches our eyes from every direction of the sky. At sunset the light "
        "crosses far more air, most blue is scattered away, and the reds and oranges remain.",
        "The sky looks blue because air molecules scatter blue light from the sun more than "
        "red light. When the sun is low, its light travels through more atmosphere, so the "
        "blue is scattered out before it reaches you and the sky near the sun looks red.",
        "Because the ocean reflects its colour onto the sky during the day, and at sunset the "
        "sun is closer to the earth and therefore hotter and redder, which colours the clouds "
        "and the air around it in shades of orange and red until night falls completely. The "
        "effect is strongest over water and on hot days, when the air holds more moisture and "
        "therefore reflects more of the colour of the sea back towards the observer's eyes, "
        "which is also why sunsets near the coast are remembered as the most spectacular.",
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package) ...", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        sys.exit("bench needs wrk: apt-get install wrk")
    return found


@dataclass
class Handloop:
    url: str
    key: dict[str, str]
    data_dir: Path
    process: subprocess.Popen[bytes]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.key["AccessKeyId"],
            aws_secret_access_key=self.key["SecretAccessKey"],
        )


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def handloop_server(env: dict[str, str] | None = None) -> Iterator[Handloop]:
    """A `handloop serve` on SQLite in a fresh temporary data directory."""
    with tempfile.TemporaryDirectory(prefix="handloop-bench-") as tmp:
        data = Path(tmp) / "data"
        full_env = {
            **os.environ,
            "HANDLOOP_DATA_DIR": str(data),
            "HANDLOOP_FLOW_ACTIVATION_SECONDS": "0",
            "HANDLOOP_MAX_IN_PROGRESS_LOOPS_PER_FLOW": "100000000",
            "HANDLOOP_LOG_LEVEL": "warning",
            **(env or {}),
        }
        init = subprocess.run(
            [sys.executable, "-m", "handloop", "init", "--json"],
            env=full_env,
            capture_output=True,
            check=True,
        )
        key = json.loads(init.stdout)
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "handloop", "serve", "--port", str(port)],
            env=full_env,
            stdout=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{url}/healthz", process)
            yield Handloop(url, key, data, process)
        finally:
            process.terminate()
            process.wait(timeout=30)


def make_flow(server: Handloop) -> str:
    sagemaker = server.client("sagemaker")
    ui = sagemaker.create_human_task_ui(
        HumanTaskUiName="bench-ui",
        UiTemplate={"Content": "<crowd-form>{{ task.input.taskObject.prompt }}</crowd-form>"},
    )["HumanTaskUiArn"]
    team = sagemaker.create_workteam(
        WorkteamName="bench-team",
        MemberDefinitions=[
            {
                "CognitoMemberDefinition": {
                    "UserPool": "us-east-1_bench",
                    "UserGroup": "bench",
                    "ClientId": "bench",
                }
            }
        ],
        Description="bench",
    )["WorkteamArn"]
    flow: str = sagemaker.create_flow_definition(
        FlowDefinitionName="bench-flow",
        RoleArn="arn:aws:iam::123456789012:role/bench",
        HumanLoopConfig={
            "WorkteamArn": team,
            "HumanTaskUiArn": ui,
            "TaskCount": 1,
            "TaskDescription": "bench",
            "TaskTitle": "bench",
        },
        OutputConfig={"S3OutputPath": "s3://bench-bucket/out"},
    )["FlowDefinitionArn"]
    return flow


def signed_request(
    key: dict[str, str], url: str, method: str, path: str, body: bytes = b"", query: str = ""
) -> tuple[str, str, dict[str, str], bytes]:
    """A request signed as botocore signs A2I calls: (method, path?query, headers, body)."""
    full = f"{url}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(
        method=method, url=full, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(
        Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "sagemaker", "us-east-1"
    ).add_auth(request)
    headers = {k: v for k, v in request.headers.items()}
    return method, path + (f"?{query}" if query else ""), headers, body


def write_wrk_script(requests: list[tuple[str, str, dict[str, str], bytes]], folder: Path) -> Path:
    """A wrk Lua script replaying pre-signed requests, each once, in turn.

    The requests go in a framed file beside it: method TAB path TAB headers TAB body, one per
    line, headers as key\\1value\\2 pairs. Run it with ``-s script -- framed-file``.
    """
    framed = folder / "requests.tsv"
    with framed.open("w") as out:
        for method, path, headers, body in requests:
            packed = "".join(
                f"{k}\x01{v}\x02" for k, v in headers.items() if k.lower() != "content-length"
            )
            out.write(f"{method}\t{path}\t{packed}\t{body.decode()}\n")
    script = folder / "replay.lua"
    script.write_text(
        """
local reqs = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    local m, p, h, b = line:match("^(.-)\\t(.-)\\t(.-)\\t(.*)$")
    local headers = {}
    for k, v in h:gmatch("(.-)\\1(.-)\\2") do headers[k] = v end
    reqs[#reqs + 1] = wrk.format(m, p, headers, b)
  end
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
"""
    )
    return script


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, script: Path, framed: Path, *, seconds: int, connections: int) -> WrkResult:
    completed = subprocess.run(
        [
            require_wrk(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            str(framed),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = completed.stdout
    if "Requests/sec" not in out or "50%" not in out:
        raise RuntimeError(f"wrk printed no figures:\n{out}\n{completed.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return WrkResult(rps, p50, p99, int(non.group(1)) if non else 0, total)

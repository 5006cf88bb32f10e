"""Simulated workers over HTTP (claim + submit, no browser) against a fresh `handloop serve`.

Prints tasks/s and the p50/p99 latency of claim and of submit for N = 1, 16 and 64
concurrent workers, in two modes:

- saturated: each worker claims again the moment it submitted. N requests are then always
  in flight, so by Little's law their mean latency is N / (requests/s): the `queue` column.
  At large N these rounds measure throughput; their latency is queueing behind the others.
- paced: each worker looks at its task for about --think-ms (random 0.5x-1.5x) before
  submitting, as a person does, at each thinking time given.

The target (issue [portal]: claim and submit p50 < 10 ms and p99 < 50 ms at 64 workers) is
checked on the paced rounds at 64 workers; the `vs target` column gives the worst of the
four ratios measured/target (at most 1.00 meets it).
Usage: python bench/workers.py [--tasks 1000] [--think-ms 1000,500] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port
from handloop.services import open_services
from handloop.settings import Settings

PASSWORD = "bench-password"
# claim p50, claim p99, submit p50, submit p99
TARGET_MS = (10.0, 50.0, 10.0, 50.0)
TEMPLATE = "<crowd-form><input name='choice'></crowd-form>"


def prepare(data_dir: Path, database_url: str | None, workers: int) -> dict[str, str]:
    """Workers (in every group) and an access key, made before the server starts."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    services = open_services(settings, create=True)
    try:
        for n in range(workers):
            services.workers.add(f"bench{n:03d}@example.com", PASSWORD, ["bench"])
        key = services.access_keys.create("bench")
    finally:
        services.close()
    return {"id": key.access_key_id, "secret": key.secret_access_key}


def serve(
    data_dir: Path,
    database_url: str | None,
    port: int,
    *,
    extra_env: dict[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """`handloop serve` on ``data_dir``, once it answers /healthz; its output goes to
    ``log`` when given (else nowhere)."""
    env = {
        **os.environ,
        "HANDLOOP_DATA_DIR": str(data_dir),
        "HANDLOOP_FLOW_ACTIVATION_SECONDS": "0",
        "HANDLOOP_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    if database_url:
        env["HANDLOOP_DATABASE_URL"] = database_url
    output = log.open("wb") if log is not None else None
    process = subprocess.Popen(
        [sys.executable, "-m", "handloop", "serve", "--port", str(port)],
        env=env,
        stdout=output if output is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    if output is not None:
        output.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("handloop serve did not start")


def make_flow_with_loops(
    url: str,
    key: dict[str, str],
    name: str,
    loops: int,
    template: str = TEMPLATE,
    task_input: dict[str, Any] | None = None,
) -> None:
    """A team of group `bench`, a template, a TaskCount 1 flow NAME and LOOPS loops of it,
    each with the input ``{"n": n}`` (plus ``task_input``)."""
    kw: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": key["id"],
        "aws_secret_access_key": key["secret"],
    }
    sm = boto3.client("sagemaker", **kw)
    a2i = boto3.client("sagemaker-a2i-runtime", **kw)
    member = {"UserPool": "us-east-1_bench", "UserGroup": "bench", "ClientId": "client"}
    team = sm.create_workteam(
        WorkteamName=f"{name}-team",
        Description="bench",
        MemberDefinitions=[{"CognitoMemberDefinition": member}],
    )["WorkteamArn"]
    ui = sm.create_human_task_ui(HumanTaskUiName=f"{name}-ui", UiTemplate={"Content": template})
    flow = sm.create_flow_definition(
        FlowDefinitionName=name,
        RoleArn="arn:aws:iam::123456789012:role/bench",
        HumanLoopConfig={
            "WorkteamArn": team,
            "HumanTaskUiArn": ui["HumanTaskUiArn"],
            "TaskTitle": "bench",
            "TaskDescription": "bench",
            "TaskCount": 1,
        },
        OutputConfig={"S3OutputPath": "s3://bench/out"},
    )["FlowDefinitionArn"]

    def start(n: int) -> None:
        a2i.start_human_loop(
            HumanLoopName=f"{name}-{n:05d}",
            FlowDefinitionArn=flow,
            HumanLoopInput={"InputContent": json.dumps({**(task_input or {}), "n": n})},
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, range(loops)))


async def sign_in(url: str, email: str) -> tuple[aiohttp.CookieJar, dict[str, str]]:
    # unsafe=True: keep cookies set by an IP address (127.0.0.1).
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(url, cookie_jar=jar) as client,
        client.post("/api/session", json={"email": email, "password": PASSWORD}) as signed,
    ):
        signed.raise_for_status()
        return jar, {"X-CSRF-Token": (await signed.json())["csrfToken"]}


async def worker(
    client: aiohttp.ClientSession,
    headers: dict[str, str],
    flow: str,
    claims: list[float],
    submits: list[float],
    think: float,
) -> int:
    done = 0
    if think:
        # People arrive over a while, not all in the same millisecond.
        await asyncio.sleep(random.uniform(0, think))
    while True:
        t0 = time.perf_counter()
        async with client.post(f"/api/jobs/{flow}/claim", headers=headers) as response:
            response.raise_for_status()
            task = (await response.json())["task"]
        claims.append(time.perf_counter() - t0)
        if task is None:
            return done
        if think:
            await asyncio.sleep(random.uniform(0.5, 1.5) * think)
        t0 = time.perf_counter()
        async with client.post(
            f"/api/tasks/{task['taskId']}/submit",
            json={"answer": {"choice": "a"}},
            headers=headers,
        ) as response:
            response.raise_for_status()
            await response.read()
        submits.append(time.perf_counter() - t0)
        done += 1


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


async def round_of(
    url: str, n: int, flow: str, think: float
) -> tuple[int, float, list[float], list[float]]:
    """Sign N workers in (not timed: argon2 is slow on purpose), then time the work."""
    claims: list[float] = []
    submits: list[float] = []
    sessions = await asyncio.gather(*(sign_in(url, f"bench{i:03d}@example.com") for i in range(n)))
    # One client (and connection) per worker, as each browser has its own.
    clients = [aiohttp.ClientSession(url, cookie_jar=jar) for jar, _ in sessions]
    headers = [h for _, h in sessions]
    # The client's own garbage collections would count as server latency.
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        counts = await asyncio.gather(
            *(
                worker(c, h, flow, claims, submits, think)
                for c, h in zip(clients, headers, strict=True)
            )
        )
        return sum(counts), time.perf_counter() - t0, claims, submits
    finally:
        gc.enable()
        await asyncio.gather(*(c.close() for c in clients))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000, help="loops per round (TaskCount 1)")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--workers", default="1,16,64", help="comma-separated N values")
    parser.add_argument(
        "--think-ms",
        default="1000,500",
        help="paced rounds: comma-separated mean times a worker looks at a task (0: none)",
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.workers.split(",")]
    thinks = [float(x) / 1000 for x in args.think_ms.split(",") if float(x) > 0]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        key = prepare(data_dir, args.database_url, max(sizes))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = serve(data_dir, args.database_url, port)
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"handloop bench/workers.py: {backend}, TaskCount 1")
        print(
            f"{'pace':>9} {'N':>4} {'tasks':>6} {'tasks/s':>8} {'claim p50':>10} {'claim p99':>10} "
            f"{'submit p50':>11} {'submit p99':>11} {'queue':>8} {'vs target':>10}"
        )
        rounds = [(0.0, n, args.tasks) for n in sizes]
        # Paced rounds last about ten thinking times whatever N is.
        rounds += [(think, n, max(20, 10 * n)) for think in thinks for n in sizes]
        try:
            for think, n, tasks in rounds:
                flow = f"bench-n{n}-t{int(think * 1000)}"
                make_flow_with_loops(url, key, flow, tasks)
                done, seconds, claims, submits = asyncio.run(round_of(url, n, flow, think))
                pace = f"{think * 1000:.0f} ms" if think else "saturated"
                figures = [
                    percentile(claims, 50),
                    percentile(claims, 99),
                    percentile(submits, 50),
                    percentile(submits, 99),
                ]
                # Little's law: N requests always in flight at this rate wait this long.
                queue = f"{n / (2 * done / seconds) * 1000:>6.1f}ms" if not think else "-"
                worst = max(f / t for f, t in zip(figures, TARGET_MS, strict=True))
                verdict = f"{worst:.2f}x" if think and n == 64 else "-"
                print(
                    f"{pace:>9} {n:>4} {done:>6} {done / seconds:>8.1f} "
                    f"{figures[0]:>8.1f}ms {figures[1]:>8.1f}ms "
                    f"{figures[2]:>9.1f}ms {figures[3]:>9.1f}ms {queue:>8} {verdict:>10}",
                    flush=True,
                )
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

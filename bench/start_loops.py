"""StartHumanLoop throughput and latency, beside a bare FastAPI + SQLite insert floor.

Pre-signed raw HTTP requests (the notebook's 1.3 KB item, each with a new loop name) are
replayed by wrk over 8 connections, so the figures measure the server, not boto3. Both
servers run one uvicorn process on SQLite (WAL), measured in the same run.

    python bench/start_loops.py [--seconds 10] [--connections 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ITEM,
    WrkResult,
    free_port,
    handloop_server,
    make_flow,
    run_wrk,
    signed_request,
    wait_for,
    write_wrk_script,
)


def build_requests(
    key: dict[str, str], url: str, flow_arn: str, count: int
) -> list[tuple[str, str, dict[str, str], bytes]]:
    content = json.dumps({"taskObject": ITEM})
    requests = []
    for _ in range(count):
        body = json.dumps(
            {
                "HumanLoopName": str(uuid.uuid4()),
                "FlowDefinitionArn": flow_arn,
                "HumanLoopInput": {"InputContent": content},
            }
        ).encode()
        requests.append(signed_request(key, url, "POST", "/human-loops", body))
    return requests


def measure(
    url: str,
    folder: Path,
    requests: list[tuple[str, str, dict[str, str], bytes]],
    args: argparse.Namespace,
) -> WrkResult:
    script = write_wrk_script(requests, folder)
    run_wrk(
        url, script, folder / "requests.tsv", seconds=2, connections=args.connections
    )  # warm-up
    return run_wrk(
        url, script, folder / "requests.tsv", seconds=args.seconds, connections=args.connections
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=80_000, help="distinct pre-signed requests")
    args = parser.parse_args()

    print(
        f"item: {len(json.dumps({'taskObject': ITEM}))} bytes of InputContent; "
        f"wrk 1 thread, {args.connections} connections, {args.seconds} s after a 2 s warm-up"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with handloop_server() as server:
            flow_arn = make_flow(server)
            print(f"signing {args.requests} requests ...", file=sys.stderr)
            requests = build_requests(server.key, server.url, flow_arn, args.requests)
            ours = measure(server.url, folder, requests, args)
        if ours.requests > args.requests:
            print(
                f"note: {ours.requests - args.requests} requests repeated a name (idempotent path)"
            )

        port = free_port()
        env = {**os.environ, "BASELINE_DB": str(folder / "baseline.db")}
        floor_proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "baseline_app:app",
                "--app-dir",
                str(Path(__file__).parent),
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        try:
            floor_url = f"http://127.0.0.1:{port}"
            wait_for(f"{floor_url}/healthz", floor_proc)
            floor = measure(floor_url, folder, requests, args)
        finally:
            floor_proc.terminate()
            floor_proc.wait()

    print()
    print(f"{'':34}{'loops/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for label, result in (
        ("handloop StartHumanLoop", ours),
        ("floor: FastAPI+pydantic+SQLite", floor),
    ):
        print(
            f"{label:34}{result.requests_per_second:>10.0f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{result.non_2xx:>8}"
        )
    ratio = ours.requests_per_second / floor.requests_per_second
    print(f"\nratio handloop / floor: {ratio:.2f}x  (target: at least 0.6x, aim past 1x)")
    if ours.non_2xx:
        sys.exit("handloop answered errors under load")


if __name__ == "__main__":
    main()

"""DescribeHumanLoop and ListHumanLoops latency with 1,000 and with 100,000 loops stored.

Loops are bulk-inserted into the server's SQLite database (the StartHumanLoop path is
measured by start_loops.py); requests are signed before the clock starts and sent one at a
time over a kept-alive connection, so the figures are the server's latency.

    python bench/describe_list.py [--sizes 1000 100000] [--describes 2000] [--pages 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
from sqlalchemy import create_engine, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import ITEM, Handloop, handloop_server, make_flow, signed_request
from handloop.store.tables import flow_definitions, human_loops


def fill(server: Handloop, total: int) -> list[str]:
    """Bring the bench flow to ``total`` loops; the names of all of them."""
    engine = create_engine(
        f"sqlite:///{server.data_dir / 'handloop.db'}", connect_args={"timeout": 60}
    )
    content = json.dumps({"taskObject": ITEM})
    with engine.begin() as conn:
        flow_id = conn.scalar(
            select(flow_definitions.c.id).where(flow_definitions.c.name == "bench-flow")
        )
        names = list(conn.scalars(select(human_loops.c.name)))
        start_us = time.time_ns() // 1000 - total * 1000
        batch = []
        for i in range(len(names), total):
            name = str(uuid.uuid4())
            names.append(name)
            batch.append(
                {
                    "name": name,
                    "flow_definition_id": flow_id,
                    "flow_definition_name": "bench-flow",
                    "s3_output_path": "s3://bench-bucket/out",
                    "input_content": content,
                    "input_sha256": "0" * 64,
                    "status": "InProgress",
                    "created_at": start_us + i * 1000,
                    "updated_at": start_us + i * 1000,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(human_loops), batch)
                batch = []
        if batch:
            conn.execute(insert(human_loops), batch)
    engine.dispose()
    return names


def timed(
    client: httpx.Client, requests: list[tuple[str, str, dict[str, str], bytes]]
) -> list[float]:
    latencies = []
    for method, path, headers, body in requests:
        began = time.perf_counter()
        response = client.request(method, path, headers=headers, content=body)
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def list_requests(
    server: Handloop, flow_arn: str, count: int
) -> list[tuple[str, str, dict[str, str], bytes]]:
    """First pages and pages deep in the listing (via real NextTokens), alternating orders."""
    a2i = server.client("sagemaker-a2i-runtime")
    tokens: list[tuple[str, str | None]] = []
    for order in ("Descending", "Ascending"):
        token = None
        for _ in range(5):
            tokens.append((order, token))
            kwargs = {"FlowDefinitionArn": flow_arn, "MaxResults": 100, "SortOrder": order}
            if token:
                kwargs["NextToken"] = token
            token = a2i.list_human_loops(**kwargs).get("NextToken")
            if not token:
                break
    requests = []
    for i in range(count):
        order, token = tokens[i % len(tokens)]
        params = {"FlowDefinitionArn": flow_arn, "MaxResults": "100", "SortOrder": order}
        if token:
            params["NextToken"] = token
        query = urlencode(sorted(params.items()), safe="-_.~", quote_via=quote)
        requests.append(signed_request(server.key, server.url, "GET", "/human-loops", query=query))
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--describes", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()

    rows = []
    with handloop_server() as server:
        flow_arn = make_flow(server)
        with httpx.Client(base_url=server.url) as client:
            for size in sorted(args.sizes):
                names = fill(server, size)
                describe = [
                    signed_request(
                        server.key, server.url, "GET", f"/human-loops/{random.choice(names)}"
                    )
                    for _ in range(args.describes)
                ]
                pages = list_requests(server, flow_arn, args.pages)
                timed(client, describe[:100] + pages[:20])  # warm-up
                d = timed(client, describe)
                p = timed(client, pages)
                rows.append((size, pct(d, 50), pct(d, 99), pct(p, 50), pct(p, 99)))

    header = f"{'loops stored':>14}{'describe p50':>14}{'describe p99':>14}"
    print(f"{header}{'list p50':>10}{'list p99':>10}  (ms)")
    for size, d50, d99, p50, p99 in rows:
        print(f"{size:>14,}{d50:>14.2f}{d99:>14.2f}{p50:>10.2f}{p99:>10.2f}")
    small, large = rows[0], rows[-1]
    print(f"\nDescribeHumanLoop p99 at {large[0]:,} loops: {large[2]:.2f} ms (target < 5 ms)")
    print(
        f"ListHumanLoops page p50 at {large[0]:,} / at {small[0]:,}: {large[3] / small[3]:.2f}x "
        f"(p99 {large[4] / small[4]:.2f}x; target within 1.5x)"
    )


if __name__ == "__main__":
    main()

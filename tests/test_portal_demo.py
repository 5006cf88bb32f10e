"""`handloop serve --demo`: a newcomer's first run has a worker, a job and loops to review."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from handloop.services.demo import DEMO_EMAIL, DEMO_FLOW
from tests.portal_support import PortalClient, wait_for
from tests.support import HANDLOOP, LiveServer, free_port

RANKS = {"response_1_ranking": "1", "response_2_ranking": "2", "response_3_ranking": "3"}


def serve_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "HANDLOOP_DATA_DIR": str(data_dir), "HANDLOOP_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [*HANDLOOP, "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith("  job"):
            break
    return process, lines


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.slow  # `handloop serve --demo` started twice
def test_the_demo_can_be_clicked_through_and_survives_a_restart(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    process, lines = serve_demo(data_dir, port)
    live = LiveServer(data_dir=data_dir, port=port)
    try:
        printed = "".join(lines)
        match = re.search(r"password = (\S+)", printed)
        assert match is not None and DEMO_EMAIL in printed
        key = re.search(r"aws_access_key_id\s+= (\S+)\s+aws_secret_access_key = (\S+)", printed)
        assert key is not None
        live.first_key = {"AccessKeyId": key.group(1), "SecretAccessKey": key.group(2)}
        worker = wait_for(lambda: _try_sign_in(live, match.group(1)), what="sign-in")
        assert worker.jobs() == {DEMO_FLOW: 3}
        task = worker.claim(DEMO_FLOW)
        assert task is not None and len(task["input"]["taskObject"]["responses"]) == 3
        assert worker.submit(task["taskId"], RANKS).status_code == 204
        a2i = live.client("sagemaker-a2i-runtime")
        wait_for(
            lambda: (
                a2i.describe_human_loop(HumanLoopName=task["humanLoopName"])["HumanLoopStatus"]
                == "Completed"
            ),
            what="the demo loop Completed",
        )
    finally:
        stop(process)
    process, lines = serve_demo(data_dir, port)
    try:
        assert "as printed the first time" in "".join(lines)
        worker = wait_for(lambda: _try_sign_in(live, match.group(1)), what="sign-in again")
        assert worker.jobs() == {DEMO_FLOW: 2}
    finally:
        stop(process)


def _try_sign_in(live: LiveServer, password: str) -> PortalClient | None:
    try:
        return PortalClient(live, DEMO_EMAIL, password)
    except Exception:
        return None

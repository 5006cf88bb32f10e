"""Bench: `handloop export` of 100,000 loops x 3 responses x 3 workers.

Generates synthetic A2I output files into a temporary folder first (not timed), then runs
`handloop export` in a child process for TRL Parquet and for a DatasetDict, and prints
rows/s, seconds, the child's peak memory, and their ratios to the targets (10 s, 1 GiB).
"export process CPU" counts the export process only, not its worker processes; the
`--jobs 1` case does all the work in one process, so its CPU seconds are the whole cost,
a figure that other load on the machine changes less than the wall time.

    .venv/bin/python bench/export.py [--loops N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 10.0
TARGET_BYTES = 1 << 30
WORKERS = [f"worker-{k:03d}" for k in range(40)]


def generate(root: Path, loops: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/bench-ranking"
    for n in range(loops):
        prompt = f"Question {n}: explain topic {rnd.randrange(10**6)} in two sentences."
        responses = [
            f"Response {i} to question {n}. "
            + " ".join(f"word{rnd.randrange(5000)}" for _ in range(40))
            for i in range(3)
        ]
        answers = []
        for worker in rnd.sample(WORKERS, 3):
            ranks = [1, 2, 3]
            rnd.shuffle(ranks)
            if rnd.random() < 0.1:
                ranks[2] = ranks[1]  # some ties
            answers.append(
                {
                    "acceptanceTime": "2026-11-20T10:00:00.000Z",
                    "answerContent": {
                        f"response_{i + 1}_ranking": str(r) for i, r in enumerate(ranks)
                    },
                    "submissionTime": "2026-11-20T10:00:42.000Z",
                    "timeSpentInSeconds": round(rnd.uniform(10, 120), 1),
                    "workerId": worker,
                    "workerMetadata": {
                        "identityData": {
                            "identityProviderType": "Cognito",
                            "issuer": "https://example.invalid",
                            "sub": worker,
                        }
                    },
                }
            )
        doc = {
            "flowDefinitionArn": arn,
            "humanAnswers": answers,
            "humanLoopName": f"loop-{n:06d}",
            "inputContent": {"taskObject": {"prompt": prompt, "responses": responses}},
        }
        minute, second = divmod(n // 100, 60)
        folder = root / "bench-ranking/2026/11/20" / f"{minute // 60:02d}" / f"{minute % 60:02d}"
        folder = folder / f"{second:02d}" / f"loop-{n:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "output.json").write_text(json.dumps(doc))


def run(args: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS bytes of the child, and its stderr."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "handloop", "export", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"export failed ({proc.returncode}): {err}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep outputs here")
    options = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="handloop-bench-export-"))
    outputs = options.keep or base / "outputs"
    try:
        if not (outputs / "bench-ranking").is_dir():
            started = time.perf_counter()
            generate(outputs, options.loops)
            print(f"generated {options.loops} outputs in {time.perf_counter() - started:.1f} s")
        print(
            f"export of {options.loops} loops x 3 responses x 3 workers "
            f"(CPUs: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.1f})"
        )
        cases = [
            ("TRL Parquet", base / "pairs.parquet", []),
            ("TRL DatasetDict", base / "dataset", []),
            ("TRL Parquet, one process (--jobs 1)", base / "one.parquet", ["--jobs", "1"]),
            (
                "TRL Parquet, aggregated (Bradley-Terry) + stats",
                base / "agg.parquet",
                ["--pairs", "aggregated", "--aggregate", "bradley-terry", "--stats"],
            ),
        ]
        for label, target, extra in cases:
            seconds, cpu, peak, err = run([str(outputs), "--to", str(target), *extra])
            rows = int(err.split("Wrote ", 1)[1].split(" ", 1)[0])
            print(
                f"{label:<48} {rows:>8} rows  {seconds:6.2f} s  {rows / seconds:>9,.0f} rows/s  "
                f"(export process CPU {cpu:5.1f} s)  "
                f"peak {peak / 2**20:7.1f} MiB  "
                f"time/target {seconds / TARGET_SECONDS:.2f}  "
                f"memory/target {peak / TARGET_BYTES:.2f}"
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

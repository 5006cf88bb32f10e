"""Bench: `handloop export` of 100,000 loops x 3 responses x 3 workers.

Generates synthetic A2I output files into a temporary folder first (not timed), then runs
`handloop export` in a child process for TRL Parquet and for a DatasetDict, and prints
rows/s, seconds, the child's peak memory, and their ratios to the targets (10 s, 1 GiB).
"export process CPU" counts the export process only, not its worker processes; the
`--jobs 1` case does all the work in one process, so its CPU seconds are the whole cost,
a figure that other load on the machine changes less than the wall time. Peak memory is
the export process's own peak (getrusage) and, sampled every 50 ms from /proc, the peak
of the export process and its worker processes together; the memory ratio uses the
latter. Every file is read once before the timed runs, so all cases start warm.

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


def _tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(rss.get(pid, 0) for pid in tree)


def run(args: list[str]) -> tuple[float, float, int, int, str]:
    """Wall s, CPU s and peak RSS of the export process; peak RSS of it and its workers."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "handloop", "export", *args],
            stdout=subprocess.DEVNULL,
            stderr=err_file,
        )
        tree_peak = 0
        while True:
            finished, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if finished:
                break
            tree_peak = max(tree_peak, _tree_rss(proc.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        err_file.seek(0)
        err = err_file.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"export failed ({code}): {err}")
    own_peak = usage.ru_maxrss * 1024
    return seconds, usage.ru_utime + usage.ru_stime, own_peak, max(tree_peak, own_peak), err


def warm(root: Path) -> None:
    """Read every file once, so each case starts with the same (warm) page cache."""
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                handle.read()


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
        warm(outputs)
        for label, target, extra in cases:
            seconds, cpu, peak, tree, err = run([str(outputs), "--to", str(target), *extra])
            rows = int(err.split("Wrote ", 1)[1].split(" ", 1)[0])
            print(
                f"{label:<48} {rows:>8} rows  {seconds:6.2f} s  {rows / seconds:>9,.0f} rows/s  "
                f"(export process CPU {cpu:5.1f} s)  "
                f"peak {peak / 2**20:6.1f} MiB (with workers {tree / 2**20:6.1f} MiB)  "
                f"time/target {seconds / TARGET_SECONDS:.2f}  "
                f"memory/target {tree / TARGET_BYTES:.2f}"
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

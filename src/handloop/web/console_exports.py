"""The console's exports: each runs in a thread of its own, its progress kept on the job
(``start``/``advance``, as ``run_export`` calls a progress object), its files and a
``meta.json`` in ``<data dir>/console-exports/<id>/`` so the list survives a restart.

The export itself is a function the app hands over (``Exporter``): the export's code lives
in ``handloop.feedback``, which the web layer may not import."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from handloop.errors import HandloopError, ResourceNotFound, ValidationError

KINDS = {"parquet": "pairs.parquet", "jsonl": "pairs.jsonl", "datasetdict": "dataset"}
_ID = re.compile(r"^[A-Za-z0-9_-]{8,40}$")

# What the app gives the console to run one export:
# exporter(settings, flow, target, options, progress, plots_folder) -> result (JSON-ready)
Exporter = Callable[[Any, str, Path, dict[str, Any], Any, Path], dict[str, Any]]


@dataclass
class ExportJob:
    """One export: what was asked, how far it got, what came of it. Its progress object
    is itself (``start``/``advance`` as run_export calls them)."""

    id: str
    flow: str
    options: dict[str, Any]
    kind: str
    started_us: int
    state: str = "running"  # running, done, failed
    total: int = 0
    done: int = 0
    error: str | None = None
    result: dict[str, Any] | None = None
    finished_us: int | None = None
    plots: list[str] = field(default_factory=list)

    # -- the progress object run_export drives ---------------------------------------------

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, done: int) -> None:
        self.done += done

    @property
    def percent(self) -> float:
        if self.state == "done":
            return 100.0
        return 100.0 * self.done / self.total if self.total else 0.0

    @property
    def target_name(self) -> str:
        return KINDS[self.kind]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "flow": self.flow,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "percent": round(self.percent, 1),
            "error": self.error,
        }


class Exports:
    """The console's exports: started in threads, listed from their folders."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()

    def start(
        self,
        exporter: Exporter,
        settings: Any,
        flow: str,
        options: dict[str, Any],
        kind: str,
        now_us: int,
    ) -> ExportJob:
        job = ExportJob(secrets.token_urlsafe(12), flow, options, kind, now_us)
        folder = self.folder / job.id
        folder.mkdir(parents=True, mode=0o700)
        with self._lock:
            self._jobs[job.id] = job

        def run() -> None:
            try:
                job.result = exporter(
                    settings, flow, folder / job.target_name, options, job, folder / "plots"
                )
                job.plots = sorted(p.name for p in (folder / "plots").glob("*.png"))
                job.state = "done"
            except HandloopError as exc:
                job.state, job.error = "failed", exc.message
            except Exception as exc:  # whatever the export met: the page says what
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            job.finished_us = int(time.time() * 1_000_000)
            (folder / "meta.json").write_text(json.dumps(asdict(job)))

        threading.Thread(target=run, name=f"handloop-export-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> ExportJob:
        if not _ID.match(job_id):
            raise ResourceNotFound(f"No export {job_id}.")
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        meta = self.folder / job_id / "meta.json"
        if not meta.is_file():
            raise ResourceNotFound(f"No export {job_id}.")
        return ExportJob(**json.loads(meta.read_text()))

    def list(self) -> list[ExportJob]:
        found = {}
        if self.folder.is_dir():
            for meta in self.folder.glob("*/meta.json"):
                try:
                    job = ExportJob(**json.loads(meta.read_text()))
                except (ValueError, TypeError):
                    continue
                found[job.id] = job
        with self._lock:
            found.update(self._jobs)
        return sorted(found.values(), key=lambda j: j.started_us, reverse=True)

    def download(self, job: ExportJob) -> Path:
        """The file to download: the export itself, or a zip of its DatasetDict folder."""
        if job.state != "done":
            raise ValidationError("This export has not finished; its file is not ready.")
        target = self.folder / job.id / job.target_name
        if job.kind != "datasetdict":
            return target
        archive = self.folder / job.id / "dataset.zip"
        if not archive.exists():
            made = shutil.make_archive(str(archive.with_suffix("")), "zip", target)
            Path(made).replace(archive)
        return archive

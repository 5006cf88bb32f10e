"""The handloop store as a source: a flow definition's loops and their output files, and
what the store alone knows of them: each worker's trust on the flow (``--min-trust``,
``--weights trust``) and the flow's quality-control figures for the dataset card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handloop.blobs import BlobNotFound, BlobStore
from handloop.domain.output_layout import split_s3_uri
from handloop.domain.statuses import HumanLoopStatus
from handloop.errors import ValidationError
from handloop.feedback.problems import ExportInputError, NoOutputYet
from handloop.feedback.standing import WorkerStanding
from handloop.services import open_blob_store
from handloop.services.exports import (
    FlowProvenance,
    FlowQuality,
    flow_provenance,
    flow_quality,
    iter_flow_loops,
    worker_standing,
)
from handloop.settings import Settings
from handloop.store import Database

_STORES: dict[str, BlobStore] = {}


def _output_store(settings: Settings) -> BlobStore:
    """The deployment's output store, opened once per process."""
    key = settings.model_dump_json()
    if key not in _STORES:
        _STORES[key] = open_blob_store(settings)
    return _STORES[key]


@dataclass(frozen=True)
class OutputReader:
    """Reads loops' outputs from the deployment's output store (the local folder or S3);
    picklable for worker processes."""

    settings: Settings
    unfinished: frozenset[str]

    def __call__(self, location: str) -> bytes:
        try:
            bucket, key = split_s3_uri(location)
            return _output_store(self.settings).get(bucket, key)
        except (BlobNotFound, ValidationError):  # no output can be at a path S3 refuses
            if location in self.unfinished:
                raise NoOutputYet(location) from None
            missing = f"{location}: the loop is Completed but its output is missing"
            raise FileNotFoundError(missing) from None


@dataclass
class StoreSource:
    """Loops of one flow definition (by status and creation time), read from the output store."""

    db: Database
    settings: Settings
    flow_name: str
    statuses: Sequence[str] | None
    created_after_us: int | None
    created_before_us: int | None
    flow: FlowProvenance
    description: str = ""
    _found: list[str] | None = field(default=None, repr=False)
    _unfinished: set[str] = field(default_factory=set, repr=False)
    _reader: OutputReader | None = field(default=None, repr=False)
    _quality: FlowQuality | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        settings: Settings | None,
        flow_name: str,
        *,
        statuses: Sequence[str] = ("Completed",),
        created_after_us: int | None = None,
        created_before_us: int | None = None,
    ) -> StoreSource:
        settings = settings or Settings()
        chosen: Sequence[str] | None = None
        if not any(s.lower() == "any" for s in statuses):
            known = {s.value.lower(): s.value for s in HumanLoopStatus}
            unknown = [s for s in statuses if s.lower() not in known]
            if unknown:
                raise ExportInputError(
                    f"unknown status '{unknown[0]}': give {', '.join(known.values())} or any"
                )
            chosen = [known[s.lower()] for s in statuses]
        url = settings.effective_database_url
        if url.startswith("sqlite") and not (settings.data_dir / "handloop.db").exists():
            raise ExportInputError(
                f"no handloop store in {settings.data_dir} (give --data-dir or "
                "HANDLOOP_DATABASE_URL)"
            )
        db = Database(url)
        try:
            flow = flow_provenance(db, flow_name)
        except Exception as exc:
            db.close()
            raise ExportInputError(f"cannot read the handloop store at {url}: {exc}") from None
        if flow is None:
            db.close()
            raise ExportInputError(f"flow definition '{flow_name}' has no loops in the store")
        return cls(
            db=db,
            settings=settings,
            flow_name=flow_name,
            statuses=chosen,
            created_after_us=created_after_us,
            created_before_us=created_before_us,
            flow=flow,
            description=f"flow:{flow_name}",
        )

    def locations(self) -> list[str]:
        if self._found is None:
            found: list[str] = []
            for batch in iter_flow_loops(
                self.db,
                self.flow_name,
                statuses=self.statuses,
                created_after_us=self.created_after_us,
                created_before_us=self.created_before_us,
            ):
                for ref in batch:
                    found.append(ref.output_uri)
                    if ref.status != HumanLoopStatus.COMPLETED:
                        self._unfinished.add(ref.output_uri)
            if not found:
                wanted = "any status" if self.statuses is None else " or ".join(self.statuses)
                raise ExportInputError(
                    f"flow definition '{self.flow_name}' has no loops ({wanted}) in that time range"
                )
            self._found = found
        return self._found

    def read(self, location: str) -> bytes:
        return self.parallel_reader()(location)

    def parallel_reader(self) -> OutputReader:
        if self._reader is None:
            self._reader = OutputReader(self.settings, frozenset(self._unfinished))
        return self._reader

    def provenance(self) -> list[dict[str, Any]]:
        return [
            {
                "flow_definition": self.flow.flow_definition_name,
                "human_task_ui": self.flow.human_task_ui_name,
                "human_task_ui_sha256": self.flow.human_task_ui_sha256,
                "s3_output_path": self.flow.s3_output_path,
            }
        ]

    def worker_standing(self) -> WorkerStanding:
        """Each worker's trust on the flow (workers.worker_id, the output files' workerId,
        to worker_quality.trust) and who is paused there, read once now."""
        rows = worker_standing(self.db, self.flow_name)
        return WorkerStanding(
            trust={row.worker_id: row.trust for row in rows},
            paused=frozenset(row.worker_id for row in rows if row.paused),
        )

    def quality(self) -> FlowQuality:
        """The flow's quality settings, workers' records and the exported loops' overlap."""
        if self._quality is None:
            self._quality = flow_quality(
                self.db,
                self.flow_name,
                statuses=self.statuses,
                created_after_us=self.created_after_us,
                created_before_us=self.created_before_us,
            )
        return self._quality

    def close(self) -> None:
        self.db.close()

"""Writers: Parquet, JSON Lines, or a Hugging Face DatasetDict folder, fed batch by batch.

Each writes into a temporary path beside the target and moves it into place only when the
export succeeds, so a failed export leaves no half-written or empty dataset behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from handloop.feedback.problems import ExportInputError

SPLITS = ("train", "test")


class Sink(Protocol):
    def write(self, batch: pa.RecordBatch, split: str) -> None: ...

    def commit(self, card: str | None) -> None:
        """Move the result into place (with its dataset card where the format has one)."""
        ...

    def abort(self) -> None: ...


def open_sink(path: Path, schema: pa.Schema, *, overwrite: bool = False) -> Sink:
    """``.parquet`` / ``.jsonl`` pick that writer; any other path is a DatasetDict folder."""
    if path.exists() and not overwrite:
        raise ExportInputError(f"{path} exists (use --overwrite to replace it)")
    if not path.parent.is_dir():
        raise ExportInputError(f"folder {path.parent} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return ParquetSink(path, schema)
    if suffix == ".jsonl":
        return JsonlSink(path)
    return DatasetDictSink(path, schema)


def _replace(tmp: Path, path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    os.replace(tmp, path)


class ParquetSink:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        self.tmp = Path(name)
        self.writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")

    def write(self, batch: pa.RecordBatch, split: str) -> None:
        self.writer.write_batch(batch)

    def commit(self, card: str | None) -> None:
        self.writer.close()
        _replace(self.tmp, self.path)

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


class JsonlSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self.tmp = Path(name)
        self.handle = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, batch: pa.RecordBatch, split: str) -> None:
        dumps = json.dumps
        self.handle.writelines(dumps(row, ensure_ascii=False) + "\n" for row in batch.to_pylist())

    def commit(self, card: str | None) -> None:
        self.handle.close()
        _replace(self.tmp, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


class DatasetDictSink:
    """Arrow stream files per split, turned into a DatasetDict by ``datasets`` at the end."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        try:
            import datasets  # noqa: F401
        except ImportError:
            raise ExportInputError(
                "writing a DatasetDict needs the 'datasets' package: pip install 'handloop[hf]' "
                "(or give a PATH ending in .parquet or .jsonl)"
            ) from None
        self.path = path
        self.schema = schema
        self.work = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
        self.writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}

    def write(self, batch: pa.RecordBatch, split: str) -> None:
        if split not in self.writers:
            self.writers[split] = pa.ipc.new_stream(str(self.work / f"{split}.arrow"), self.schema)
        self.writers[split].write_batch(batch)

    def commit(self, card: str | None) -> None:
        import datasets

        for writer in self.writers.values():
            writer.close()
        splits = {}
        for split in SPLITS:
            source = self.work / f"{split}.arrow"
            if not source.exists():
                with pa.ipc.new_stream(str(source), self.schema):
                    pass
            splits[split] = datasets.Dataset.from_file(str(source))
        out = self.work / "dataset"
        # The export shows its own progress; datasets' bars would interleave with it.
        was_disabled = datasets.are_progress_bars_disabled()
        datasets.disable_progress_bars()
        try:
            datasets.DatasetDict(splits).save_to_disk(str(out))
        finally:
            if not was_disabled:
                datasets.enable_progress_bars()
        del splits
        if card is not None:
            (out / "README.md").write_text(card, encoding="utf-8")
        _replace(out, self.path)
        shutil.rmtree(self.work, ignore_errors=True)

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.close()
        shutil.rmtree(self.work, ignore_errors=True)

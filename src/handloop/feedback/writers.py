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

from handloop.errors import MissingExtra
from handloop.feedback.problems import ExportInputError

SPLITS = ("train", "test")


class Sink(Protocol):
    def write(self, table: pa.Table, split: str) -> None: ...

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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _publish_mode(tmp: Path) -> None:
    """Temporary files and folders are private; the result gets the usual permissions."""
    mode = 0o777 if tmp.is_dir() else 0o666
    os.chmod(tmp, mode & ~_umask())


def _replace(tmp: Path, path: Path) -> None:
    _publish_mode(tmp)
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

    def write(self, table: pa.Table, split: str) -> None:
        self.writer.write_table(table)

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

    def write(self, table: pa.Table, split: str) -> None:
        dumps = json.dumps
        for batch in table.to_batches():
            self.handle.writelines(
                dumps(row, ensure_ascii=False) + "\n" for row in batch.to_pylist()
            )

    def commit(self, card: str | None) -> None:
        self.handle.close()
        _replace(self.tmp, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


class DatasetDictSink:
    """A DatasetDict folder as ``datasets.DatasetDict.save_to_disk`` lays it out.

    Each split's Arrow stream file is written in place as batches arrive, so nothing is
    copied or read back at the end; ``datasets`` supplies the features and state files.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        try:
            import datasets  # noqa: F401
        except ImportError:
            raise MissingExtra(
                "hf", "Writing a DatasetDict (a --to PATH not ending in .parquet or .jsonl)"
            ) from None
        self.path = path
        self.schema = schema
        self.work = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
        self.writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}

    def _file(self, split: str) -> Path:
        return self.work / split / "data-00000-of-00001.arrow"

    def _writer(self, split: str) -> pa.ipc.RecordBatchStreamWriter:
        if split not in self.writers:
            self._file(split).parent.mkdir()
            self.writers[split] = pa.ipc.new_stream(str(self._file(split)), self.schema)
        return self.writers[split]

    def write(self, table: pa.Table, split: str) -> None:
        self._writer(split).write_table(table)

    def commit(self, card: str | None) -> None:
        import dataclasses

        import datasets
        from datasets.fingerprint import generate_random_fingerprint

        for split in SPLITS:
            self._writer(split)  # an empty split is still a split
        for writer in self.writers.values():
            writer.close()
        for split in SPLITS:
            # Opening memory-maps the file: no data is read.
            loaded = datasets.Dataset.from_file(str(self._file(split)))
            info = dataclasses.asdict(loaded.info)
            del loaded
            state = {
                "_data_files": [{"filename": self._file(split).name}],
                "_fingerprint": generate_random_fingerprint(),
                "_format_columns": None,
                "_format_kwargs": {},
                "_format_type": None,
                "_output_all_columns": False,
                "_split": split,
            }
            folder = self._file(split).parent
            (folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
            (folder / "dataset_info.json").write_text(
                json.dumps({key: info[key] for key in sorted(info)}, indent=2)
            )
        (self.work / "dataset_dict.json").write_text(json.dumps({"splits": list(SPLITS)}))
        if card is not None:
            (self.work / "README.md").write_text(card, encoding="utf-8")
        _replace(self.work, self.path)

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.close()
        shutil.rmtree(self.work, ignore_errors=True)

"""The default output store: a folder, ``<root>/<bucket>/<key>``."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from handloop.blobs.base import BlobInfo, BlobNotFound
from handloop.domain import s3_names
from handloop.errors import ValidationError


def _bucket_dir(root: Path, bucket: str) -> Path:
    """The bucket's folder; ValueError for a name S3 does not allow (such as ``..``)."""
    try:
        s3_names.check_bucket(bucket)
    except ValidationError as exc:
        raise ValueError(exc.message) from None
    return root / bucket


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, bucket: str, key: str) -> Path:
        base = _bucket_dir(self.root, bucket)
        try:
            s3_names.check_key(key)
        except ValidationError as exc:
            raise ValueError(exc.message) from None
        return base / Path(*key.split("/"))

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        path = self._path(bucket, key)
        # Output files hold answers: the store's folder is the owner's only (files are made
        # 0600 by mkstemp).
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if if_absent:
                try:
                    os.link(tmp, path)  # fails if the object exists: no second version
                except FileExistsError:
                    return False
            else:
                os.replace(tmp, path)
                tmp = ""
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            return True
        finally:
            if tmp:
                os.unlink(tmp)

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return self._path(bucket, key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):
            raise BlobNotFound(f"s3://{bucket}/{key}") from None

    def head(self, bucket: str, key: str) -> BlobInfo:
        data = self.get(bucket, key)
        path = self._path(bucket, key)
        return BlobInfo(bucket, key, len(data), hashlib.md5(data).hexdigest(), path.stat().st_mtime)

    def list_objects(
        self, bucket: str, prefix: str = "", start_after: str = "", max_keys: int = 1000
    ) -> list[BlobInfo]:
        base = _bucket_dir(self.root, bucket)
        if not base.is_dir():
            return []
        found: list[BlobInfo] = []
        keys = sorted(
            p.relative_to(base).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        for key in keys:
            if key.startswith(prefix) and key > start_after:
                path = base / key
                stat = path.stat()
                digest = hashlib.md5(path.read_bytes()).hexdigest()
                found.append(BlobInfo(bucket, key, stat.st_size, digest, stat.st_mtime))
                if len(found) >= max_keys:
                    break
        return found

"""The default output store: a folder, ``<root>/<bucket>/<key>``.

Beside the buckets (whose names start with a letter or digit) the root holds two folders of
its own: ``.staging`` for request bodies on their way in, and ``.uploads`` for multipart
uploads in progress, one folder each. Everything becomes an object by a rename on the same
file system, so a reader sees the whole old object or the whole new one, never a part.

An object's ETag is kept in an extended attribute of its file (``user.handloop.etag``,
with the size and time it belongs to), so HeadObject and ListObjectsV2 need not read the
file, and a multipart object keeps S3's ``<md5 of md5s>-<parts>`` form. On a file system
without extended attributes the ETag is the MD5 of the content, as it always is for an
object of one part.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from stat import S_ISREG
from typing import Any, BinaryIO

from handloop.blobs import checksums
from handloop.blobs.base import (
    BlobInfo,
    BlobNotFound,
    ChecksumMismatch,
    KeyConflict,
    NoSuchUpload,
    PartChanged,
    PartInfo,
    UploadInfo,
)
from handloop.domain import s3_names
from handloop.errors import ValidationError

ETAG_ATTRIBUTE = "user.handloop.etag"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{48}$")
_COPY_BUFFER = 1024 * 1024


def _bucket_dir(root: Path, bucket: str) -> Path:
    """The bucket's folder; ValueError for a name S3 does not allow (such as ``..``)."""
    try:
        s3_names.check_bucket(bucket)
    except ValidationError as exc:
        raise ValueError(exc.message) from None
    return root / bucket


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """``path`` replaced at once by ``value`` as JSON."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(value, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text())
    return value


def _stamp(fd: int, etag: str) -> None:
    """Record ``etag`` on the open file, for its present size and time; nothing where the
    file system has no extended attributes."""
    stat = os.fstat(fd)
    value = f"{etag} {stat.st_size} {stat.st_mtime_ns}".encode()
    # ENOTSUP, EPERM; AttributeError: no os.setxattr off Linux
    with contextlib.suppress(OSError, AttributeError):
        os.setxattr(fd, ETAG_ATTRIBUTE, value)


def _stamped_etag(fd: int, stat: os.stat_result) -> str | None:
    """The ETag recorded on the open file, if it is still for the file as it is."""
    try:
        etag, size, mtime_ns = os.getxattr(fd, ETAG_ATTRIBUTE).decode().split(" ")
    except (OSError, AttributeError, ValueError, UnicodeDecodeError):
        return None
    if int(size) != stat.st_size or int(mtime_ns) != stat.st_mtime_ns:
        return None  # written to in place since: the attribute is stale
    return etag


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    while block := handle.read(_COPY_BUFFER):
        yield block


def _etag_of(path: Path) -> tuple[os.stat_result, str]:
    """The file's stat and ETag: the recorded one, else its MD5 (then recorded).
    IsADirectoryError for a folder (the beginning of other keys, no object)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            raise IsADirectoryError(str(path))
        etag = _stamped_etag(fd, stat)
        if etag is None:
            digest = hashlib.md5()
            with os.fdopen(os.dup(fd), "rb") as handle:
                for block in _blocks(handle):
                    digest.update(block)
            etag = digest.hexdigest()
            if os.fstat(fd).st_mtime_ns == stat.st_mtime_ns:
                _stamp(fd, etag)
        return stat, etag
    finally:
        os.close(fd)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / ".staging"
        self._uploads = root / ".uploads"

    def _path(self, bucket: str, key: str) -> Path:
        base = _bucket_dir(self.root, bucket)
        try:
            s3_names.check_key(key)
        except ValidationError as exc:
            raise ValueError(exc.message) from None
        return base / Path(*key.split("/"))

    def _make_root(self) -> None:
        # Output files hold answers: the store's folder is the owner's only (files are made
        # 0600 by mkstemp).
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _make_parent(self, bucket: str, key: str, path: Path) -> None:
        """The object's folder made; KeyConflict where a folder on the way is an object."""
        self._make_root()
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            base = _bucket_dir(self.root, bucket)
            parts = key.split("/")
            taken = next(
                "/".join(parts[: i + 1])
                for i in range(len(parts) - 1)
                if (base / Path(*parts[: i + 1])).is_file()
            )
            raise KeyConflict(
                f"Key '{key}' cannot be stored: the object '{taken}' is in the way "
                "(in handloop's folder store a key cannot be both an object and the "
                "beginning of other keys)."
            ) from None
        if path.is_dir():
            raise KeyConflict(
                f"Key '{key}' cannot be stored: other keys begin with '{key}/' (in handloop's "
                "folder store a key cannot be both an object and the beginning of other keys)."
            )

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        path = self._path(bucket, key)
        self._make_root()
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
            _fsync_dir(path.parent)
            return True
        finally:
            if tmp:
                os.unlink(tmp)

    def put_file(self, bucket: str, key: str, source: Path, *, etag: str) -> str:
        path = self._path(bucket, key)
        self._make_parent(bucket, key, path)
        with open(source, "rb+") as handle:
            _stamp(handle.fileno(), etag)
        try:
            os.replace(source, path)
        except IsADirectoryError:
            raise KeyConflict(f"Key '{key}' cannot be stored: other keys begin with it.") from None
        _fsync_dir(path.parent)
        return etag

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return self._path(bucket, key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):
            raise BlobNotFound(f"s3://{bucket}/{key}") from None

    def get_range(self, bucket: str, key: str, first: int, last: int) -> bytes:
        try:
            with open(self._path(bucket, key), "rb") as handle:
                handle.seek(first)
                return handle.read(last - first + 1)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):
            raise BlobNotFound(f"s3://{bucket}/{key}") from None

    def head(self, bucket: str, key: str) -> BlobInfo:
        try:
            path = self._path(bucket, key)
            stat, etag = _etag_of(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):
            raise BlobNotFound(f"s3://{bucket}/{key}") from None
        return BlobInfo(bucket, key, stat.st_size, etag, stat.st_mtime)

    def delete(self, bucket: str, key: str) -> None:
        path = self._path(bucket, key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return
        # Folders the object alone kept go too, so that they do not stand in the way of an
        # object of that name later; a folder another writer has just used stays.
        base = _bucket_dir(self.root, bucket)
        folder = path.parent
        while folder != base:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

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
                try:
                    stat, etag = _etag_of(base / key)
                except FileNotFoundError:  # deleted since the listing
                    continue
                found.append(BlobInfo(bucket, key, stat.st_size, etag, stat.st_mtime))
                if len(found) >= max_keys:
                    break
        return found

    def bucket_exists(self, bucket: str) -> bool:
        return _bucket_dir(self.root, bucket).is_dir()

    def create_bucket(self, bucket: str) -> bool:
        self._make_root()
        try:
            _bucket_dir(self.root, bucket).mkdir(mode=0o700)
        except FileExistsError:
            return False
        return True

    # -- multipart uploads ---------------------------------------------------------------

    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.match(upload_id):
            raise NoSuchUpload(upload_id)
        return self._uploads / upload_id

    def create_upload(
        self, bucket: str, key: str, checksum_algorithm: str, checksum_type: str
    ) -> str:
        self._path(bucket, key)  # a name the store can hold
        self._make_root()
        self._uploads.mkdir(mode=0o700, exist_ok=True)
        upload_id = secrets.token_hex(24)
        folder = self._upload_dir(upload_id)
        folder.mkdir(mode=0o700)
        _write_json(
            folder / "upload.json",
            {
                "bucket": bucket,
                "key": key,
                "checksum_algorithm": checksum_algorithm,
                "checksum_type": checksum_type,
                "initiated": time.time(),
            },
        )
        return upload_id

    def upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        try:
            record = _read_json(self._upload_dir(upload_id) / "upload.json")
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise NoSuchUpload(upload_id) from None
        if (record["bucket"], record["key"]) != (bucket, key):
            raise NoSuchUpload(upload_id)
        return UploadInfo(
            bucket, key, upload_id, record["checksum_algorithm"], record["checksum_type"]
        )

    def put_part(
        self, upload: UploadInfo, number: int, source: Path, *, etag: str, checksum: str
    ) -> str:
        folder = self._upload_dir(upload.upload_id)
        data_name = f"{number:05d}.{secrets.token_hex(8)}.part"
        try:
            os.replace(source, folder / data_name)
        except FileNotFoundError:  # completed or aborted meanwhile
            raise NoSuchUpload(upload.upload_id) from None
        meta = folder / f"{number:05d}.json"
        try:
            old: str | None = _read_json(meta)["data"]
        except FileNotFoundError:
            old = None
        try:
            _write_json(
                meta,
                {
                    "data": data_name,
                    "size": (folder / data_name).stat().st_size,
                    "etag": etag,
                    "checksum": checksum,
                    "last_modified": time.time(),
                },
            )
            _fsync_dir(folder)
        except FileNotFoundError:
            raise NoSuchUpload(upload.upload_id) from None
        if old is not None and old != data_name:
            (folder / old).unlink(missing_ok=True)
        return etag

    @staticmethod
    def _parts_in(folder: Path) -> dict[int, tuple[PartInfo, Path]]:
        found: dict[int, tuple[PartInfo, Path]] = {}
        for meta in folder.glob("[0-9]*.json"):
            record = _read_json(meta)
            number = int(meta.stem)
            part = PartInfo(
                number,
                record["size"],
                record["etag"],
                record["checksum"],
                record["last_modified"],
            )
            found[number] = (part, folder / record["data"])
        return found

    def parts(self, upload: UploadInfo) -> list[PartInfo]:
        try:
            found = self._parts_in(self._upload_dir(upload.upload_id))
        except FileNotFoundError:
            raise NoSuchUpload(upload.upload_id) from None
        return [found[number][0] for number in sorted(found)]

    def _claim(self, upload: UploadInfo, why: str) -> Path:
        """The upload's folder, renamed so that no other Complete or Abort can take it (the
        one that loses gets NoSuchUpload)."""
        folder = self._upload_dir(upload.upload_id)
        claimed = folder.with_name(f".{why}-{upload.upload_id}-{secrets.token_hex(4)}")
        try:
            os.rename(folder, claimed)
        except FileNotFoundError:
            raise NoSuchUpload(upload.upload_id) from None
        return claimed

    def complete_upload(
        self, upload: UploadInfo, parts: list[PartInfo], *, etag: str, checksum: str
    ) -> tuple[str, str]:
        path = self._path(upload.bucket, upload.key)
        self._make_parent(upload.bucket, upload.key, path)
        claimed = self._claim(upload, "completing")
        tmp = ""
        try:
            stored = self._parts_in(claimed)
            if any(
                part.number not in stored or stored[part.number][0].etag != part.etag
                for part in parts
            ):
                raise PartChanged(f"a part of {upload.upload_id} changed while completing")
            full = upload.checksum_type == "FULL_OBJECT" and upload.checksum_algorithm
            hasher = checksums.ALGORITHMS[upload.checksum_algorithm]() if full else None
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with open(stored[part.number][1], "rb") as source:
                        for block in _blocks(source):
                            if hasher is not None:
                                hasher.update(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
                _stamp(out.fileno(), etag)
            whole = checksums.encode(hasher.digest()) if hasher is not None else ""
            if checksum and whole and checksum != whole:
                raise ChecksumMismatch(
                    f"The {upload.checksum_algorithm} you specified for the whole object "
                    f"({checksum}) is not the object's ({whole})."
                )
            try:
                os.replace(tmp, path)
            except IsADirectoryError:
                raise KeyConflict(
                    f"Key '{upload.key}' cannot be stored: other keys begin with it."
                ) from None
            tmp = ""
            _fsync_dir(path.parent)
        except BaseException:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            # The upload stays as it was: the client may correct its request and complete
            # it again, or abort it.
            os.rename(claimed, self._upload_dir(upload.upload_id))
            raise
        shutil.rmtree(claimed, ignore_errors=True)
        return etag, whole

    def abort_upload(self, upload: UploadInfo) -> None:
        shutil.rmtree(self._claim(upload, "aborting"), ignore_errors=True)

"""Immutable, content-addressed landing of everything huizong receives.

Layout: ``<raw_dir>/<area>/<partition>/<sha256><suffix>`` plus a
``<sha256>.json`` sidecar holding the caller's metadata. ``area`` may have
several components (``returns/drop``). An object is written once: temp file in
the target directory, then a hard link onto the final name, which (unlike a
rename) fails if the name exists, so a concurrent writer of the same bytes
cannot be overwritten. Storing the same bytes again in the same partition is a
no-op, which is what makes re-running an intake for one partition idempotent.
The first put wins the sidecar: bytes that two sources share keep the metadata
of the first, and callers that need per-source facts keep them elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$")
_SUFFIX = re.compile(r"^(\.[A-Za-z0-9]{1,10}){0,2}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class RawStoreError(ValueError):
    """A key that cannot name a stored object, or a stored object that is not what its name says."""


class SourceTooLarge(RawStoreError):
    """A streamed source went past the ``max_bytes`` it was allowed."""


@dataclass(frozen=True)
class StoredObject:
    sha256: str
    path: Path
    size: int
    created: bool = True  # False when these bytes were already in the partition

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(f"{self.sha256}.json")


class Spooled:
    """Bytes copied to a temp file and hashed, not yet stored (see :meth:`RawStore.spool`)."""

    def __init__(
        self, store: RawStore, tmp: Path, sha256: str, size: int, area: str, partition: str
    ) -> None:
        self._store = store
        self._tmp = tmp
        self.sha256 = sha256
        self.size = size
        self.area = area
        self.partition = partition
        self.stored: StoredObject | None = None

    def commit(self, *, suffix: str, meta: Mapping[str, Any] | None = None) -> StoredObject:
        if self.stored is not None:
            return self.stored
        final = self._store.path_for(
            self.sha256, area=self.area, partition=self.partition, suffix=suffix
        )
        if final.exists():
            created = False
            _check_size(final, self.size)
        else:
            os.chmod(self._tmp, 0o444)
            created = _link_once(self._tmp, final)
        self._store._write_sidecar(
            final, self.sha256, self.size, self.area, self.partition, _suffix(suffix), meta
        )
        self.stored = StoredObject(self.sha256, final, self.size, created)
        return self.stored


class RawStore:
    """The raw landing area under ``root`` (``Settings.raw_dir``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def directory(self, area: str, partition: str) -> Path:
        parts = [
            *(_component(p, "area") for p in area.split("/")),
            _component(partition, "partition"),
        ]
        return self.root.joinpath(*parts)

    def path_for(self, sha256: str, *, area: str, partition: str, suffix: str) -> Path:
        if not _SHA256.match(sha256):
            raise RawStoreError(f"not a sha256 hex digest: {sha256!r}")
        return self.directory(area, partition) / f"{sha256}{_suffix(suffix)}"

    def put(
        self,
        data: bytes,
        *,
        area: str,
        partition: str,
        suffix: str,
        meta: Mapping[str, Any] | None = None,
    ) -> StoredObject:
        """Store ``data`` unless the partition already holds these bytes."""
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path_for(sha256, area=area, partition=partition, suffix=suffix)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            created = False
            _check_size(final, len(data))
        else:
            created = _write_once(final, data)
        self._write_sidecar(final, sha256, len(data), area, partition, suffix, meta)
        return StoredObject(sha256=sha256, path=final, size=len(data), created=created)

    def put_stream(
        self,
        source: BinaryIO | IO[bytes],
        *,
        area: str,
        partition: str,
        suffix: str,
        meta: Mapping[str, Any] | None = None,
        max_bytes: int | None = None,
    ) -> StoredObject:
        """Like :meth:`put` for a file object, hashing while copying in 1 MiB chunks."""
        with self.spool(source, area=area, partition=partition, max_bytes=max_bytes) as spooled:
            return spooled.commit(suffix=suffix, meta=meta)

    @contextlib.contextmanager
    def spool(
        self,
        source: BinaryIO | IO[bytes],
        *,
        area: str,
        partition: str,
        max_bytes: int | None = None,
    ) -> Iterator[Spooled]:
        """Copy ``source`` to a temp file in the partition, hashing as it goes.

        The caller learns the hash before deciding to keep the bytes (an intake
        skips what it has already received without a second read of the
        source); :meth:`Spooled.commit` stores them, leaving the block without
        committing discards them. ``max_bytes`` guards against a source that
        never ends: exceeding it raises :class:`SourceTooLarge`.
        """
        directory = self.directory(area, partition)
        directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".incoming.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise SourceTooLarge(f"source exceeds {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            yield Spooled(self, Path(tmp), digest.hexdigest(), size, area, partition)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def open(self, path: str | os.PathLike[str]) -> BinaryIO:
        return self._inside(path).open("rb")

    def read(self, path: str | os.PathLike[str]) -> bytes:
        return self._inside(path).read_bytes()

    def read_meta(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        stored = self._inside(path)
        sha256 = _sha_of_name(stored)
        return json.loads(stored.with_name(f"{sha256}.json").read_text(encoding="utf-8"))

    def verify(self, path: str | os.PathLike[str]) -> bool:
        """True if the bytes at ``path`` still hash to the name they are stored under."""
        stored = self._inside(path)
        digest = hashlib.sha256()
        with stored.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == _sha_of_name(stored)

    def _inside(self, path: str | os.PathLike[str]) -> Path:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        resolved = candidate.resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise RawStoreError(f"{path} is not inside the raw store {self.root}")
        return resolved

    def _write_sidecar(
        self,
        final: Path,
        sha256: str,
        size: int,
        area: str,
        partition: str,
        suffix: str,
        meta: Mapping[str, Any] | None,
    ) -> None:
        # Checked on its own so that a crash between the two writes heals on the next put.
        sidecar = final.with_name(f"{sha256}.json")
        if sidecar.exists():
            return
        document = {
            **(dict(meta) if meta else {}),
            "sha256": sha256,
            "size": size,
            "area": area,
            "partition": partition,
            "suffix": suffix,
            "stored_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        }
        text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True, default=str)
        _write_once(sidecar, text.encode("utf-8"))


def _component(value: str, what: str) -> str:
    if not _COMPONENT.match(value) or ".." in value:
        raise RawStoreError(f"{what} component {value!r} cannot be used as a directory name")
    return value


def _suffix(suffix: str) -> str:
    if suffix.lower() == ".json":
        raise RawStoreError("suffix .json is reserved for sidecars")
    if not _SUFFIX.match(suffix):
        raise RawStoreError(f"suffix {suffix!r} must look like .xlsx (letters and digits)")
    return suffix.lower()


def _sha_of_name(path: Path) -> str:
    sha256 = path.name.split(".", 1)[0]
    if not _SHA256.match(sha256):
        raise RawStoreError(f"{path} is not named by its sha256")
    return sha256


def _check_size(path: Path, size: int) -> None:
    actual = path.stat().st_size
    if actual != size:
        raise RawStoreError(
            f"{path} holds {actual} bytes but the same hash was just computed over {size}: "
            "the stored copy is damaged; move it aside and store again"
        )


def _write_once(path: Path, data: bytes) -> bool:
    """Write ``path`` atomically unless it exists; True if this call created it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        return _link_once(Path(tmp), path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _link_once(tmp: Path, final: Path) -> bool:
    try:
        os.link(tmp, final)
    except FileExistsError:
        return False
    except OSError:
        # Filesystems without hard links (some network mounts): rename, after a
        # check; the race left is two writers of identical bytes, which is harmless.
        if final.exists():
            return False
        os.replace(tmp, final)
    return True

"""Raw portal responses, exactly as received, in the immutable raw landing.

Layout: ``<raw_dir>/portal/<portal id>/<partition>/<sha256>.body`` plus the
``<sha256>.json`` sidecar (URL, final URL, fetch time, status, headers,
declared and detected charset, sha256, size). Storage itself is
:class:`huizong.rawstore.RawStore`: content-addressed, written once through a
temp file and a hard link, never overwritten; storing the same body again in a
partition is a no-op, so re-crawling a day writes nothing new. A body shared by
two URLs keeps the sidecar of the first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from huizong.rawstore import RawStore, RawStoreError

BODY_SUFFIX = ".body"


@dataclass(frozen=True)
class RawRecord:
    body_path: Path
    sha256: str
    size: int
    created: bool  # False when this body was already stored in the partition

    @property
    def meta_path(self) -> Path:
        return self.body_path.with_name(f"{self.sha256}.json")


class RawPageStore:
    """Portal pages in the raw landing under ``raw_dir`` (``Settings.raw_dir``)."""

    def __init__(self, raw_dir: str | os.PathLike[str]) -> None:
        self.store = RawStore(raw_dir)

    @staticmethod
    def area(portal_id: str) -> str:
        return f"portal/{portal_id}"

    def partition_dir(self, portal_id: str, partition: str) -> Path:
        return self.store.directory(self.area(portal_id), partition)

    def put(
        self,
        *,
        portal_id: str,
        partition: str,
        body: bytes,
        url: str,
        final_url: str,
        fetched_at: datetime,
        status: int,
        headers: dict[str, str],
        declared_encoding: str | None = None,
        detected_encoding: str | None = None,
    ) -> RawRecord:
        """Store ``body`` and its sidecar unless the partition already holds that body."""
        stored = self.store.put(
            body,
            area=self.area(portal_id),
            partition=partition,
            suffix=BODY_SUFFIX,
            meta={
                "portal_id": portal_id,
                "url": url,
                "final_url": final_url,
                "fetched_at": fetched_at.isoformat(),
                "status": status,
                "headers": headers,
                "declared_encoding": declared_encoding,
                "detected_encoding": detected_encoding,
            },
        )
        return RawRecord(
            body_path=stored.path, sha256=stored.sha256, size=stored.size, created=stored.created
        )

    def find(self, portal_id: str, sha256: str) -> Path | None:
        """The latest partition's copy of a body, if any partition of the portal has it."""
        area = self.area(portal_id)
        try:
            portal_dir = self.partition_dir(portal_id, "any").parent
            partition_dirs = sorted(portal_dir.iterdir(), reverse=True)
        except (FileNotFoundError, NotADirectoryError, RawStoreError):
            return None
        for partition_dir in partition_dirs:
            try:
                candidate = self.store.path_for(
                    sha256, area=area, partition=partition_dir.name, suffix=BODY_SUFFIX
                )
            except RawStoreError:
                continue  # not a partition directory, or not a sha256
            if candidate.is_file():
                return candidate
        return None

    def read(self, body_path: Path) -> bytes:
        return self.store.read(body_path)

    def read_meta(self, body_path: Path) -> dict[str, Any]:
        return self.store.read_meta(body_path)

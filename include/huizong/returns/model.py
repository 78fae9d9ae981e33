"""What intake hands to the warehouse: a received return and its triage outcome."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def submission_id_for(channel: str, source_uri: str, raw_sha256: str) -> str:
    return hashlib.sha256(f"{channel}|{source_uri}|{raw_sha256}".encode()).hexdigest()


@dataclass(frozen=True)
class ReceivedReturn:
    """One file or API item, stored raw before anything else happens to it."""

    channel: str  # "drop" | "api"
    source_uri: str  # drop-folder path relative to the root, or "api:<item id>"
    submitted_unit_code: str  # the account that submitted it (folder or API account)
    form: str
    period: str
    raw_sha256: str
    raw_path: str
    # When the platform received it (first landed; its own clocks): drives
    # timeliness and the order of versions.
    received_at: datetime
    # When the file or item says it was submitted (a drop file's modification
    # time, the API's submitted_at): set by the submitter's side, so information only.
    claimed_at: datetime | None = None
    api_version: int | None = None  # the reporting system's own version number
    filename: str | None = None
    api_values: dict[str, dict[str, Any]] | None = None  # values by 代码 from an API item

    @property
    def submission_id(self) -> str:
        return submission_id_for(self.channel, self.source_uri, self.raw_sha256)


@dataclass(frozen=True)
class StagedSubmission:
    """A return that passed triage: its identity agrees with who submitted it."""

    received: ReceivedReturn
    unit_code: str
    unit_name: str | None
    form: str
    period: str
    rows: dict[str, dict[str, Any]]  # code -> {"current", "ytd", "last_year"} (None = not reported)
    cells: dict[str, dict[str, str | None]] = field(default_factory=dict)  # code -> column -> cell
    problems: list[dict[str, Any]] = field(default_factory=list)
    reported_on: str | None = None

    @property
    def submission_id(self) -> str:
        return self.received.submission_id


@dataclass(frozen=True)
class QuarantineRecord:
    """A return that must not be loaded; kept with the reason until released."""

    received: ReceivedReturn
    reason: str  # short code: unit_mismatch, unknown_form, unknown_period, unreadable, ...
    detail: str  # what is wrong and what to do, for the engineer and the unit
    declared_unit_code: str | None = None

    @property
    def quarantine_id(self) -> str:
        return self.received.submission_id

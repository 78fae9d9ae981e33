"""What counts for a (unit, form, period): the latest published-or-blocked return.

Shared by the officials' pages (``huizong.web.queries``) and the quality rules
(``huizong.quality.rules``) so both count the same return. Publishing keeps no
facts for a blocked return, so its figures are read back from its raw copy with
the intake parser, after the copy is checked against its recorded sha256.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

# The statuses whose latest version counts: a blocked return is still the unit's
# latest word for the period (its figures are shown, flagged, not dropped).
COUNTED_STATUSES = ("published", "published_with_warnings", "blocked")


def publish_rank(row: Mapping[str, Any]) -> tuple:
    """The order publishing picks its winner by: version, then submission time.

    ``row`` has ``version``, ``submitted_or_received`` (COALESCE(submitted_at,
    received_at)), ``received_at`` and ``submission_id``.
    """
    return (int(row["version"]), _when(row["submitted_or_received"]), _when(row["received_at"]),
            str(row["submission_id"]).strip())  # fmt: skip


def _when(value: Any) -> str:
    # As the pages read it (to the second), whether the driver gave text or a datetime.
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


@lru_cache(maxsize=1024)
def _raw_cells(record: tuple[tuple[str, Any], ...]) -> dict[str, dict[str, Any]] | None:
    """A decided return's cells read back from its raw copy (None: gone or altered).

    Cached by the submission's row: a raw copy is content-addressed and checked
    against its sha256 before it is read, so the same row always reads the same.
    """
    from huizong.returns.intake import requeue_released

    (outcome,) = requeue_released([dict(record)])
    rows = getattr(outcome, "rows", None)
    if rows is None:
        return None
    return {str(code): dict(cells) for code, cells in rows.items()}


def clear_cache() -> None:
    _raw_cells.cache_clear()


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def blocked_return_values(row: Mapping[str, Any]) -> dict[str, dict[str, Any]] | None:
    """indicator code → {"current", "ytd", "last_year"} of a blocked return, from its raw copy.

    ``row`` is the submission's ``return_submission`` row (channel, source_uri,
    unit_code, period, raw_sha256, raw_path, received_at, submitted_at, form).
    None when the raw copy is missing, no longer hashes to its sha256, or no
    longer reads. The returned dicts are shared (cached): do not change them.
    """
    record = (
        ("channel", row["channel"]), ("source_uri", row["source_uri"]),
        ("submitted_unit_code", str(row["unit_code"]).strip()), ("period", str(row["period"])),
        ("raw_sha256", str(row["raw_sha256"]).strip()), ("raw_path", row["raw_path"]),
        ("received_at", _as_datetime(row["received_at"])),
        ("submitted_at", _as_datetime(row.get("submitted_at"))),
        ("form", row["form"]),
    )  # fmt: skip
    try:
        return _raw_cells(record)
    except (OSError, ValueError):
        return None

"""Loading the warehouse: raw index, quarantine, staging and write-audit-publish.

Every function is idempotent for the same input (see the key table in
``docs/architecture.md``): raw rows are inserted once, staging is replaced per
submission and emptied by the publish that decides it, publishing is a keyed
upsert that leaves nothing to do when rerun.
Timestamps are stored as naive UTC; an aware datetime is converted, a naive one
is taken to be UTC already.

Bulk rows go through ``COPY`` on PostgreSQL and ``executemany`` on SQLite.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from huizong import catalog
from huizong.returns.model import QuarantineRecord, ReceivedReturn, StagedSubmission
from huizong.warehouse.db import is_postgres
from huizong.warehouse.seed import upsert

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
PUBLISHED_STATUSES = ("published", "published_with_warnings", "superseded")
_PUBLISH_LOCK_KEY = 727270002
_CHUNK = 500
_REANALYZE_AFTER_ROWS = 10_000

STG_RETURN_COLUMNS = (
    "batch_id",
    "submission_id",
    "unit_code",
    "form",
    "period",
    "version",
    "indicator_code",
    "value_current",
    "value_ytd",
    "value_last_year",
    "cell_current",
    "cell_ytd",
    "cell_last_year",
)
# The binary COPY types of STG_RETURN_COLUMNS. CHAR(n) columns travel as
# text (bpchar has the same binary form and psycopg has no bpchar dumper).
_STG_RETURN_PG_TYPES = (
    "text",
    "text",
    "text",
    "text",
    "text",
    "int4",
    "text",
    "numeric",
    "numeric",
    "numeric",
    "text",
    "text",
    "text",
)
STG_NOTICE_COLUMNS = (
    "batch_id",
    "statistic_id",
    "notice_id",
    "unit_code",
    "form",
    "indicator_code",
    "period",
    "value",
    "unit",
    "qualifier",
    "quote",
)


# --- small conversions --------------------------------------------------------


def utc_naive(value: datetime | str | None) -> datetime | None:
    """A timestamp as stored: naive UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def china_date(value: datetime) -> date:
    """The Beijing calendar date of a stored (naive UTC) or aware timestamp."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA_STANDARD_TIME).date()


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _decimal(value: Any) -> int | Decimal | None:
    """A reported number, or None for "not reported" (never 0)."""
    kind = type(value)
    if value is None or kind is int or kind is Decimal:
        return value  # the common cases, kept cheap: a million of these per load
    if kind is bool:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    return number if number.is_finite() else None


def _sqlite_number(value: int | Decimal | None) -> int | float | None:
    # sqlite3 cannot bind Decimal; NUMERIC affinity keeps integral values exact.
    if value is None or type(value) is int:
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    return dict(vars(obj))


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _partition_of(raw_path: str | PurePath) -> str:
    # <raw_dir>/<kind>/<channel or portal>/<partition>/<sha256><suffix>
    return PurePath(raw_path).parent.name


def _copy_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    pg_types: Sequence[str] | None = None,
) -> int:
    """Bulk insert through the connection's own transaction.

    On PostgreSQL this is ``COPY … FROM STDIN`` on the DBAPI connection that
    ``conn`` holds, so the rows commit or roll back with the caller's block.
    With ``pg_types`` (one PostgreSQL type per column) the COPY is binary: no
    number is formatted as text in Python and parsed back by the server, which
    is a third of the time of a million-row staging load.
    """
    if is_postgres(conn.engine):
        dbapi = conn.connection.dbapi_connection
        count = 0
        with dbapi.cursor() as cur:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            if pg_types is not None:
                sql += " (FORMAT BINARY)"
            with cur.copy(sql) as copy:
                if pg_types is not None:
                    copy.set_types(list(pg_types))
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    rows = [tuple(_sqlite_number(v) if isinstance(v, Decimal) else v for v in r) for r in rows]
    if rows:
        placeholders = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
        )
    return len(rows)


def _insert_rows(conn: Connection, table: str, rows: list[dict], on_conflict: str) -> None:
    """INSERT many dict rows with an ON CONFLICT clause.

    PostgreSQL: COPY into a transaction-local temporary table, then one
    INSERT … SELECT (tens of thousands of rows in one statement, not one round
    trip each). SQLite's executemany is already in-process.
    """
    cols = list(rows[0])
    col_list = ", ".join(cols)
    if not is_postgres(conn.engine):
        values = "(" + ", ".join(":" + c for c in cols) + ")"
        conn.execute(
            sa.text(f"INSERT INTO {table} ({col_list}) VALUES {values}{on_conflict}"), rows
        )
        return
    scratch = f"incoming_{table}"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {scratch}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {scratch} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    _copy_rows(conn, scratch, cols, (tuple(r[c] for c in cols) for r in rows))
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {scratch}{on_conflict}"
    )


def _bind(engine_or_conn: Engine | Connection, value: int | Decimal | None) -> Any:
    return value if is_postgres(engine_or_conn.engine) else _sqlite_number(value)


# --- load runs ----------------------------------------------------------------


def _dag_id_of(batch_id: str) -> str:
    return batch_id.split("__", 1)[0]


def begin_batch(
    engine: Engine,
    batch_id: str,
    dag_id: str,
    interval_start: datetime | None,
    interval_end: datetime | None,
) -> None:
    """Open (or reopen, on a rerun) the ``load_run`` row of a batch."""
    with engine.begin() as conn:
        upsert(
            conn,
            "load_run",
            [
                {
                    "batch_id": batch_id,
                    "dag_id": dag_id,
                    "data_interval_start": utc_naive(interval_start),
                    "data_interval_end": utc_naive(interval_end),
                    "started_at": _now(),
                    "finished_at": None,
                }
            ],
            ["batch_id"],
        )


def finish_batch(
    engine: Engine,
    batch_id: str,
    *,
    rows_staged: int | None = None,
    rows_published: int | None = None,
) -> None:
    """Close a batch; counts not given keep what staging and publishing recorded."""
    with engine.begin() as conn:
        _ensure_batch(conn, batch_id)
        conn.execute(
            sa.text(
                "UPDATE load_run SET finished_at = :now,"
                " rows_staged = COALESCE(:staged, rows_staged),"
                " rows_published = COALESCE(:published, rows_published)"
                " WHERE batch_id = :b"
            ),
            {"now": _now(), "staged": rows_staged, "published": rows_published, "b": batch_id},
        )


def _ensure_batch(conn: Connection, batch_id: str) -> None:
    # Staging may run without begin_batch (CLI, tests); the row must exist anyway.
    conn.execute(
        sa.text(
            "INSERT INTO load_run (batch_id, dag_id, started_at) VALUES (:b, :d, :t)"
            " ON CONFLICT (batch_id) DO NOTHING"
        ),
        {"b": batch_id, "d": _dag_id_of(batch_id), "t": _now()},
    )


def _set_rows_staged(conn: Connection, batch_id: str) -> None:
    conn.execute(
        sa.text(
            "UPDATE load_run SET rows_staged ="
            " (SELECT COUNT(*) FROM stg_return_value WHERE batch_id = :b)"
            " + (SELECT COUNT(*) FROM stg_notice_statistic WHERE batch_id = :b)"
            " WHERE batch_id = :b"
        ),
        {"b": batch_id},
    )


# --- raw landing ----------------------------------------------------------------


def record_raw_returns(engine: Engine, received: Iterable[ReceivedReturn]) -> int:
    """Index received returns; a key already recorded is left as it was. Returns rows new."""
    rows = [
        {
            "raw_sha256": r.raw_sha256,
            "channel": r.channel,
            "source_uri": r.source_uri,
            "submitted_unit_code": r.submitted_unit_code,
            "form": r.form,
            "period": r.period,
            "raw_path": str(r.raw_path),
            "received_at": utc_naive(r.received_at),
            "claimed_at": utc_naive(r.claimed_at),
            "partition_key": _partition_of(r.raw_path),
        }
        for r in received
    ]
    return _insert_new(engine, "raw_return", rows, ["raw_sha256", "channel", "source_uri"])


def first_received(
    engine: Engine, received: Iterable[ReceivedReturn]
) -> dict[tuple[str, str, str], datetime]:
    """When each return was first recorded as received, by ``(raw_sha256, channel, source_uri)``.

    A rerun lands the same bytes again at a later clock; the time the platform
    first had them is the one that counts, so it never moves.
    """
    keys = {(r.raw_sha256, r.channel, r.source_uri) for r in received}
    found: dict[tuple[str, str, str], datetime] = {}
    shas = sorted({k[0] for k in keys})
    with engine.connect() as conn:
        for chunk in _chunks(shas):
            rows = conn.execute(
                sa.text(
                    "SELECT raw_sha256, channel, source_uri, received_at FROM raw_return"
                    " WHERE raw_sha256 IN :shas"
                ).bindparams(sa.bindparam("shas", expanding=True)),
                {"shas": list(chunk)},
            )
            for sha, channel, uri, at in rows:
                key = (str(sha).strip(), channel, uri)
                if key in keys:
                    found[key] = _as_datetime(at)
    return found


def record_raw_pages(engine: Engine, pages: Iterable[Any]) -> int:
    """Index fetched portal pages (objects or dicts). Returns rows new."""
    rows = []
    for page in pages:
        raw_path = str(_get(page, "raw_path"))
        rows.append(
            {
                "portal_id": _get(page, "portal_id"),
                "url": _get(page, "url"),
                "sha256": _get(page, "sha256"),
                "final_url": _get(page, "final_url") or _get(page, "url"),
                "partition_key": _get(page, "partition") or _partition_of(raw_path),
                "fetched_at": utc_naive(_get(page, "fetched_at")) or _now(),
                "http_status": int(_get(page, "status", 200)),
                "encoding": _get(page, "encoding"),
                "raw_path": raw_path,
                "etag": _get(page, "etag"),
                "last_modified": _get(page, "last_modified"),
            }
        )
    return _insert_new(engine, "raw_page", rows, ["portal_id", "url", "sha256"])


def _insert_new(engine: Engine, table: str, rows: list[dict], key: list[str]) -> int:
    if not rows:
        return 0
    unique = list({tuple(r[k] for k in key): r for r in rows}.values())
    cols = list(unique[0])
    stmt = sa.text(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
        f" ON CONFLICT ({', '.join(key)}) DO NOTHING"
    )
    with engine.begin() as conn:
        before = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
        conn.execute(stmt, unique)
        after = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
    return int(after - before)


def raw_return_seen(engine: Engine) -> set[tuple[str, str, str]]:
    """Keys ``(raw_sha256, channel, source_uri)`` of every return already accounted for.

    Received is not enough: a return counts as seen once it was staged or
    quarantined, so a run that died between landing a file and staging it
    picks the file up again instead of skipping it for good.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.raw_sha256, r.channel, r.source_uri FROM raw_return AS r"
                " WHERE EXISTS (SELECT 1 FROM return_submission AS s"
                "   WHERE s.raw_sha256 = r.raw_sha256 AND s.channel = r.channel"
                "   AND s.source_uri = r.source_uri)"
                " OR EXISTS (SELECT 1 FROM quarantine AS q"
                "   WHERE q.raw_sha256 = r.raw_sha256 AND q.channel = r.channel"
                "   AND q.source_uri = r.source_uri)"
            )
        )
        return {(str(a).strip(), b, c) for a, b, c in rows}


# --- quarantine -----------------------------------------------------------------


@dataclass(frozen=True)
class QuarantineEntry:
    """A quarantined return as the warehouse holds it."""

    quarantine_id: str
    status: str  # "held" | "released" | "requeued"
    reason: str
    detail: str
    created_at: datetime
    released_at: datetime | None
    record: QuarantineRecord

    @property
    def received(self) -> ReceivedReturn:
        return self.record.received

    def to_dict(self) -> dict[str, Any]:
        r = self.received
        return {
            "quarantine_id": self.quarantine_id,
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
            "channel": r.channel,
            "source_uri": r.source_uri,
            "submitted_unit_code": r.submitted_unit_code,
            "declared_unit_code": self.record.declared_unit_code,
            "form": r.form,
            "period": r.period,
            "raw_path": r.raw_path,
            "created_at": self.created_at.isoformat(sep=" "),
            "released_at": self.released_at.isoformat(sep=" ") if self.released_at else None,
        }


def quarantine(engine: Engine, records: Iterable[QuarantineRecord]) -> int:
    """Hold returns that must not be loaded.

    A held entry gets the latest reason; a released one stays released (the
    same raw again is not a new problem — different raw has a different id).
    """
    now = _now()
    rows = {}
    for q in records:
        r = q.received
        rows[q.quarantine_id] = {
            "quarantine_id": q.quarantine_id,
            "channel": r.channel,
            "source_uri": r.source_uri,
            "raw_sha256": r.raw_sha256,
            "raw_path": str(r.raw_path),
            "submitted_unit_code": r.submitted_unit_code,
            "declared_unit_code": q.declared_unit_code,
            "form": r.form,
            "period": r.period,
            "received_at": utc_naive(r.received_at),
            "claimed_at": utc_naive(r.claimed_at),
            "api_version": r.api_version,
            "filename": r.filename,
            "api_values_json": (
                json.dumps(r.api_values, ensure_ascii=False, default=str)
                if r.api_values is not None
                else None
            ),
            "reason": q.reason,
            "detail": q.detail,
            "created_at": now,
            "released_at": None,
            "status": "held",
        }
    if not rows:
        return 0
    cols = list(next(iter(rows.values())))
    refreshed = ("reason", "detail", "declared_unit_code", "raw_path")
    # A requeued return that fails triage again is held again, with today's
    # reason; a released one waits for the next intake run to requeue it.
    stmt = sa.text(
        f"INSERT INTO quarantine ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
        " ON CONFLICT (quarantine_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in refreshed)
        + ", status = 'held', released_at = NULL"
        + " WHERE quarantine.status IN ('held', 'requeued')"
    )
    with engine.begin() as conn:
        conn.execute(stmt, list(rows.values()))
    return len(rows)


SUPERSEDED_NOTE = (
    " — 已由同一来源后来收到的版本取代 / superseded: a later version from the same file or "
    "item was received and staged"
)


def supersede_held(engine: Engine, staged: Iterable[StagedSubmission]) -> int:
    """Held returns that a later version from the same source replaced: no longer held.

    A file quarantined while it was half written (or otherwise broken) stays in
    the folder and is fixed in place; once its new content is staged, the old
    content's entry is done with. It becomes ``requeued`` (dealt with by intake,
    not read again) with a note; the same broken bytes arriving again are held
    again, as any requeued entry is.
    """
    newest: dict[tuple[str, str], ReceivedReturn] = {}
    for sub in staged:
        r = sub.received
        known = newest.get((r.channel, r.source_uri))
        if known is None or utc_naive(r.received_at) > utc_naive(known.received_at):
            newest[(r.channel, r.source_uri)] = r
    if not newest:
        return 0
    with engine.begin() as conn:
        # Held entries are few; one read per chunk of sources, writes only for matches.
        done: list[str] = []
        for chunk in _chunks(sorted({uri for _, uri in newest})):
            rows = conn.execute(
                sa.text(
                    "SELECT quarantine_id, channel, source_uri, raw_sha256, received_at"
                    " FROM quarantine WHERE status = 'held' AND source_uri IN :uris"
                ).bindparams(sa.bindparam("uris", expanding=True)),
                {"uris": list(chunk)},
            )
            for qid, channel, uri, sha, at in rows:
                later = newest.get((channel, uri))
                if (
                    later is not None
                    and str(sha).strip() != later.raw_sha256
                    and _as_datetime(at) <= utc_naive(later.received_at)
                ):
                    done.append(str(qid).strip())
        if done:
            conn.execute(
                sa.text(
                    "UPDATE quarantine SET status = 'requeued', released_at = :now,"
                    " detail = detail || :note WHERE quarantine_id = :q AND status = 'held'"
                ),
                [{"q": q, "now": _now(), "note": SUPERSEDED_NOTE} for q in done],
            )
    return len(done)


def mark_requeued(engine: Engine, quarantine_ids: list[str]) -> int:
    """Released returns handed back to intake: not re-read on every later run."""
    if not quarantine_ids:
        return 0
    with engine.begin() as conn:
        result = conn.execute(
            sa.text(
                "UPDATE quarantine SET status = 'requeued' "
                "WHERE quarantine_id = :q AND status = 'released'"
            ),
            [{"q": q} for q in quarantine_ids],
        )
    return result.rowcount


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _as_utc(value: Any) -> datetime | None:
    stored = _as_datetime(value)
    return stored.replace(tzinfo=UTC) if stored is not None else None


def _entry(row: Mapping[str, Any]) -> QuarantineEntry:
    received = ReceivedReturn(
        channel=row["channel"],
        source_uri=row["source_uri"],
        submitted_unit_code=row["submitted_unit_code"] or "",
        form=row["form"] or "",
        period=row["period"] or "",
        raw_sha256=str(row["raw_sha256"]).strip(),
        raw_path=row["raw_path"],
        received_at=_as_utc(row["received_at"]),
        claimed_at=_as_utc(row.get("claimed_at")),
        api_version=row["api_version"],
        filename=row["filename"],
        api_values=json.loads(row["api_values_json"]) if row["api_values_json"] else None,
    )
    record = QuarantineRecord(
        received=received,
        reason=row["reason"],
        detail=row["detail"],
        declared_unit_code=row["declared_unit_code"],
    )
    return QuarantineEntry(
        quarantine_id=str(row["quarantine_id"]).strip(),
        status=row["status"],
        reason=row["reason"],
        detail=row["detail"],
        created_at=_as_utc(row["created_at"]),
        released_at=_as_utc(row["released_at"]),
        record=record,
    )


def list_quarantine(engine: Engine, status: str | None = None) -> list[QuarantineEntry]:
    """Quarantined returns, oldest first; ``status`` is ``"held"``, ``"released"`` or None."""
    sql = "SELECT * FROM quarantine"
    params: dict[str, Any] = {}
    if status is not None:
        sql += " WHERE status = :status"
        params["status"] = status
    with engine.connect() as conn:
        rows = conn.execute(sa.text(sql + " ORDER BY created_at, quarantine_id"), params)
        return [_entry(r._mapping) for r in rows]


def release_quarantine(engine: Engine, quarantine_id: str) -> QuarantineEntry:
    """Mark a held return released so intake triages it again.

    ``quarantine_id`` may be a unique prefix of at least 8 characters.
    Raises ``KeyError`` when no entry or more than one matches.
    """
    if len(quarantine_id) < 8:
        raise KeyError(f"quarantine id {quarantine_id!r} is too short (give at least 8 characters)")
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text("SELECT * FROM quarantine WHERE quarantine_id LIKE :p"),
            {"p": quarantine_id.replace("%", "").replace("_", "") + "%"},
        ).all()
        if not rows:
            raise KeyError(f"no quarantined return has id {quarantine_id!r}")
        if len(rows) > 1:
            raise KeyError(f"quarantine id {quarantine_id!r} matches {len(rows)} entries")
        full_id = rows[0]._mapping["quarantine_id"]
        conn.execute(
            sa.text(
                "UPDATE quarantine SET status = 'released', released_at = :t"
                " WHERE quarantine_id = :q AND status = 'held'"
            ),
            {"t": _now(), "q": full_id},
        )
        row = conn.execute(
            sa.text("SELECT * FROM quarantine WHERE quarantine_id = :q"), {"q": full_id}
        ).one()
    return _entry(row._mapping)


# --- staging: returns -----------------------------------------------------------


def _effective_time(submission: StagedSubmission) -> datetime:
    # The platform's receipt, never the time the file claims: a backdated file
    # must neither look on time nor pass for an older version.
    return utc_naive(submission.received.received_at)


@dataclass
class _Known:
    version: int
    at: datetime


def _existing_versions(
    conn: Connection, keys: set[tuple[str, str, str]]
) -> tuple[dict[str, int], dict[tuple[str, str, str], list[_Known]]]:
    by_id: dict[str, int] = {}
    by_key: dict[tuple[str, str, str], list[_Known]] = defaultdict(list)
    units = sorted({k[0] for k in keys})
    for chunk in _chunks(units):
        rows = conn.execute(
            sa.text(
                "SELECT submission_id, unit_code, form, period, version,"
                " received_at AS at"
                " FROM return_submission WHERE unit_code IN :units"
            ).bindparams(sa.bindparam("units", expanding=True)),
            {"units": list(chunk)},
        )
        for sid, unit, form, period, version, at in rows:
            key = (str(unit).strip(), form, period)
            if key not in keys:
                continue
            by_id[str(sid).strip()] = int(version)
            by_key[key].append(_Known(int(version), _as_datetime(at)))
    return by_id, by_key


def assign_versions(
    submissions: Sequence[StagedSubmission],
    known_ids: Mapping[str, int],
    known_by_key: Mapping[tuple[str, str, str], list[_Known]],
) -> dict[str, int]:
    """Version per submission id; one already known keeps its version.

    API items carry the reporting system's version. A drop-folder file, taken
    in order of submission time, gets max(version)+1 for its unit, form and
    period — unless it was submitted before the newest known version (it
    arrived late): then it takes the number of the newest version submitted
    before it (0 if none), and the tie is broken by submission time, so a
    late-arriving older file never becomes the latest.
    """
    versions: dict[str, int] = {}
    seen = {k: list(v) for k, v in known_by_key.items()}
    for sub in sorted(submissions, key=lambda s: (_effective_time(s), s.submission_id)):
        sid = sub.submission_id
        if sid in versions:
            continue
        key = (sub.unit_code, sub.form, sub.period)
        at = _effective_time(sub)
        if sid in known_ids:
            versions[sid] = known_ids[sid]
            continue
        history = seen.setdefault(key, [])
        if sub.received.api_version is not None:
            version = int(sub.received.api_version)
        elif not history:
            version = 1
        else:
            newest = max(history, key=lambda k: (k.at, k.version))
            if at >= newest.at:
                version = max(k.version for k in history) + 1
            else:
                version = max((k.version for k in history if k.at <= at), default=0)
        versions[sid] = version
        history.append(_Known(version, at))
    return versions


_NO_CELLS: Mapping[str, str | None] = {}


def _stg_rows(
    batch_id: str, submission_id: str, sub: StagedSubmission, version: int
) -> Iterator[tuple[Any, ...]]:
    # The loop body runs a million times per large load: the submission's
    # fields are read once and the three value and cell columns are spelled
    # out rather than built by generator expressions.
    head = (batch_id, submission_id, sub.unit_code, sub.form, sub.period, version)
    all_cells = sub.cells or _NO_CELLS
    for code, values in sub.rows.items():
        values = values or _NO_CELLS
        cells = all_cells.get(code) or _NO_CELLS
        yield (
            *head,
            code,
            _decimal(values.get("current")),
            _decimal(values.get("ytd")),
            _decimal(values.get("last_year")),
            cells.get("current"),
            cells.get("ytd"),
            cells.get("last_year"),
        )


def stage_returns(engine: Engine, batch_id: str, submissions: Iterable[StagedSubmission]) -> int:
    """Stage submissions, replacing whatever was staged for the same submissions before.

    Keyed on the submission, not the batch: a rerun that receives nothing new
    (every file already seen) leaves what earlier runs staged untouched, and a
    large batch can be staged in chunks, one transaction each, with memory
    bounded. Returns the number of submissions staged.
    """
    # submission_id is a sha256 computed on every access: taken once here.
    by_id = {s.submission_id: s for s in submissions}
    subs = list(by_id.values())
    keys = {(s.unit_code, s.form, s.period) for s in subs}
    with engine.begin() as conn:
        _ensure_batch(conn, batch_id)
        known_ids, known_by_key = _existing_versions(conn, keys)
        versions = assign_versions(subs, known_ids, known_by_key)
        sub_rows = []
        for sid, s in by_id.items():
            r = s.received
            at = _effective_time(s)
            sub_rows.append(
                {
                    "submission_id": sid,
                    "unit_code": s.unit_code,
                    "form": s.form,
                    "period": s.period,
                    "version": versions[sid],
                    "channel": r.channel,
                    "source_uri": r.source_uri,
                    "raw_sha256": r.raw_sha256,
                    "raw_path": str(r.raw_path),
                    "unit_name": s.unit_name,
                    "claimed_at": utc_naive(r.claimed_at),
                    "received_at": utc_naive(r.received_at),
                    "submitted_on": china_date(at),
                    "reported_on": _as_date(s.reported_on),
                    "status": "staged",
                    "problems_json": (
                        json.dumps(s.problems, ensure_ascii=False, default=str)
                        if s.problems
                        else None
                    ),
                    "batch_id": batch_id,
                }
            )
        # Earlier staged values of these submissions. Staging has no index: on
        # PostgreSQL one scan against a hashed array, not one per chunk of ids.
        if is_postgres(engine):
            conn.execute(
                sa.text("DELETE FROM stg_return_value WHERE submission_id::text = ANY(:ids)"),
                {"ids": sorted(by_id)},
            )
        else:
            for chunk in _chunks(sorted(by_id)):
                conn.execute(
                    sa.text("DELETE FROM stg_return_value WHERE submission_id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": list(chunk)},
                )
        if sub_rows:
            _insert_rows(
                conn,
                "return_submission",
                sub_rows,
                " ON CONFLICT (submission_id) DO UPDATE SET"
                " batch_id = excluded.batch_id,"
                " unit_name = excluded.unit_name,"
                " reported_on = excluded.reported_on,"
                " problems_json = excluded.problems_json,"
                " status = CASE WHEN return_submission.status IN"
                " ('published', 'published_with_warnings', 'superseded')"
                " THEN return_submission.status ELSE 'staged' END",
            )
        # Staged in the order of the fact table's primary key (unit, form, then
        # period and row code within one return): publish inserts in the order
        # it reads staging, and B-tree inserts that walk the index instead of
        # hopping about it are several times cheaper than sorting a million
        # rows again at publish time.
        in_key_order = sorted(
            by_id.items(), key=lambda i: (i[1].unit_code, i[1].form, i[1].period, i[0])
        )
        _copy_rows(
            conn,
            "stg_return_value",
            STG_RETURN_COLUMNS,
            (row for sid, s in in_key_order for row in _stg_rows(batch_id, sid, s, versions[sid])),
            pg_types=_STG_RETURN_PG_TYPES,
        )
        if is_postgres(engine):
            # Bulk-loaded: fresh statistics, or publish plans its joins for an empty table.
            conn.exec_driver_sql("ANALYZE stg_return_value")
            conn.exec_driver_sql("ANALYZE return_submission")
        _set_rows_staged(conn, batch_id)
    return len(subs)


# --- staging: notices -----------------------------------------------------------


def notice_id_for(normalized_text: str) -> str:
    return hashlib.sha256(normalized_text.encode()).hexdigest()


def statistic_id_for(notice_id: str, start: int, end: int) -> str:
    return hashlib.sha256(f"{notice_id}|{start}|{end}".encode()).hexdigest()


def _text_list(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple | set):
        return "、".join(str(v) for v in value)
    return str(value)


def _form_of_indicator(code: str | None, stated_form: str | None) -> str | None:
    if not code:
        return None
    if stated_form:
        return stated_form if code in catalog.indicators(stated_form) else None
    forms = [f for f in sorted(catalog.known_forms()) if code in catalog.indicators(f)]
    return forms[0] if len(forms) == 1 else None


def stage_notices(engine: Engine, batch_id: str, extractions: Iterable[tuple[Any, Any]]) -> int:
    """Record notices and their statistics; stage those that map to a fact.

    A statistic is staged when it names an indicator of the catalog, a 12-digit
    org code and a period known to ``dim_period``. Returns the number staged.
    """
    now = _now()
    notices: dict[str, dict[str, Any]] = {}
    statistics: dict[str, dict[str, Any]] = {}
    for page, extraction in extractions:
        text = _get(_get(extraction, "normalized"), "text") or ""
        notice_id = notice_id_for(text)
        meta = _as_dict(_get(extraction, "notice"))
        issuer_code = meta.get("issuer_code")
        notices.setdefault(
            notice_id,
            {
                "notice_id": notice_id,
                "portal_id": _get(page, "portal_id"),
                "url": _get(page, "url"),
                "raw_sha256": _get(page, "sha256"),
                "title": meta.get("title") or _get(page, "title"),
                "issuer": meta.get("issuer"),
                "issuer_code": issuer_code if _is_unit_code(issuer_code) else None,
                "issuer_level": meta.get("issuer_level"),
                "published_at": utc_naive(_as_datetime_any(meta.get("published"))),
                "doc_number": meta.get("doc_number"),
                "recipients": _text_list(meta.get("recipients")),
                "deadline": _as_date(meta.get("deadline")),
                "deadline_task": meta.get("deadline_task"),
                "report_to": _text_list(meta.get("report_to")),
                "first_seen": now,
            },
        )
        for stat in _get(extraction, "statistics") or []:
            d = _as_dict(stat)
            value = _decimal(d.get("value"))
            if value is None or d.get("start") is None or d.get("end") is None:
                continue
            statistic_id = statistic_id_for(notice_id, int(d["start"]), int(d["end"]))
            indicator = d.get("indicator") or None
            org_code = d.get("org_code") if _is_unit_code(d.get("org_code")) else None
            statistics[statistic_id] = {
                "statistic_id": statistic_id,
                "notice_id": notice_id,
                "quote": d.get("quote") or "",
                "quote_start": int(d["start"]),
                "quote_end": int(d["end"]),
                "raw_start": d.get("raw_start"),
                "raw_end": d.get("raw_end"),
                "value": value,
                "unit": d.get("unit"),
                "qualifier": d.get("qualifier") or "exact",
                "indicator_code": indicator,
                "indicator_name": d.get("indicator_name"),
                "org": d.get("org"),
                "org_code": org_code,
                "period": d.get("period") or None,
                "kind": d.get("kind") or "value",
                "row_header": d.get("row_header"),
                "col_header": d.get("col_header"),
                "_form": _form_of_indicator(indicator, d.get("form")),
            }
    with engine.begin() as conn:
        _ensure_batch(conn, batch_id)
        if notices:
            cols = list(next(iter(notices.values())))
            kept = ("portal_id", "url", "raw_sha256", "first_seen")
            # Reposts collapse onto the first copy seen; only that copy's
            # re-extraction may refresh the metadata.
            conn.execute(
                sa.text(
                    f"INSERT INTO notice ({', '.join(cols)})"
                    f" VALUES ({', '.join(':' + c for c in cols)})"
                    " ON CONFLICT (notice_id) DO UPDATE SET "
                    + ", ".join(
                        f"{c} = excluded.{c}" for c in cols if c not in (*kept, "notice_id")
                    )
                    + " WHERE notice.url = excluded.url AND notice.portal_id = excluded.portal_id"
                ),
                list(notices.values()),
            )
        stat_rows = [
            {k: (_bind(conn, v) if k == "value" else v) for k, v in s.items() if k != "_form"}
            for s in statistics.values()
        ]
        if stat_rows:
            upsert(conn, "notice_statistic", stat_rows, ["statistic_id"])
        periods = set(conn.execute(sa.text("SELECT period FROM dim_period")).scalars())
        staged = [
            (
                batch_id,
                s["statistic_id"],
                s["notice_id"],
                s["org_code"],
                s["_form"],
                s["indicator_code"],
                s["period"],
                s["value"],
                s["unit"],
                s["qualifier"],
                s["quote"],
            )
            for s in statistics.values()
            if s["_form"] and s["org_code"] and s["period"] in periods
        ]
        conn.execute(
            sa.text("DELETE FROM stg_notice_statistic WHERE batch_id = :b"), {"b": batch_id}
        )
        # One staged row per statistic: a re-extraction in a later batch replaces it.
        for chunk in _chunks([row[1] for row in staged]):
            conn.execute(
                sa.text("DELETE FROM stg_notice_statistic WHERE statistic_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": list(chunk)},
            )
        _copy_rows(conn, "stg_notice_statistic", STG_NOTICE_COLUMNS, staged)
        _set_rows_staged(conn, batch_id)
    return len(staged)


def _is_unit_code(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 12 and value.isdigit()


def _as_datetime_any(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


# --- publish --------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    published: int  # submissions published clean in this call
    published_with_warnings: int
    blocked: int
    superseded: int  # submissions that stopped being the latest version
    return_facts: int  # fact rows written from returns
    notice_facts: int  # fact rows written from notice statistics

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


_SCOPE_MATCH = "p.unit_code = {t}.unit_code AND p.form = {t}.form AND p.period = {t}.period"


def _in_chunks(conn: Connection, sql: str, ids: Sequence[str]) -> int:
    changed = 0
    for chunk in _chunks(sorted(ids)):
        result = conn.execute(
            sa.text(sql).bindparams(sa.bindparam("ids", expanding=True)), {"ids": list(chunk)}
        )
        changed += max(result.rowcount or 0, 0)
    return changed


_TOUCHED_BATCHES = (
    "SELECT DISTINCT s.batch_id FROM return_submission AS s"
    " INNER JOIN stg_publish_scope AS p ON " + _SCOPE_MATCH.format(t="s")
)

_RETURN_FACTS_INSERT = (
    "INSERT INTO fact_indicator_value (unit_code, form, indicator_code, period, source,"
    " source_ref, version, is_latest, value_current, value_ytd, value_last_year,"
    " qualifier, provenance, has_warnings, batch_id)"
    " SELECT v.unit_code, v.form, v.indicator_code, v.period, 'return',"
    " s.submission_id, s.version,"
    " CASE WHEN p.winner_submission_id = s.submission_id THEN TRUE ELSE FALSE END,"
    " v.value_current, v.value_ytd, v.value_last_year, NULL,"
    " COALESCE(s.source_uri || '#' || v.cell_current, s.source_uri), FALSE, s.batch_id"
    " FROM return_submission AS s"
    " INNER JOIN stg_return_value AS v"
    " ON s.batch_id = v.batch_id AND s.submission_id = v.submission_id"
    " INNER JOIN stg_publish_scope AS p"
    " ON s.unit_code = p.unit_code AND s.form = p.form AND s.period = p.period"
    " WHERE s.status = 'staged'"
)
_RETURN_FACTS_UPSERT = (
    _RETURN_FACTS_INSERT
    # In key order: B-tree inserts then walk the index instead of hopping
    # about it (twice as fast at a million rows).
    + " ORDER BY v.unit_code, v.form, v.indicator_code, v.period, s.submission_id"
    " ON CONFLICT (unit_code, form, indicator_code, period, source, source_ref)"
    " DO UPDATE SET version = excluded.version, is_latest = excluded.is_latest,"
    " value_current = excluded.value_current, value_ytd = excluded.value_ytd,"
    " value_last_year = excluded.value_last_year, provenance = excluded.provenance,"
    " has_warnings = excluded.has_warnings, batch_id = excluded.batch_id"
)


def _insert_return_facts(conn: Connection) -> tuple[int, dict[str, int] | None]:
    """Facts of the staged submissions in scope.

    Returns the rows written and, from the plain INSERT, how many per batch
    (None after the upsert, which may have moved existing facts between
    batches: they are then counted again).

    The keyed upsert is the contract. But a fact's key carries its
    submission, and a submission is ``staged`` only until its facts are
    written, so normally none of these keys exist yet: on PostgreSQL a plain
    INSERT is tried first (no per-row conflict arbitration, no sort — staging
    is already in key order, see ``stage_returns``) inside a savepoint, and
    should any key exist after all, the savepoint is rolled back and the
    upsert runs instead. The result is the same either way.
    """
    if is_postgres(conn.engine):
        batches = [
            str(b)
            for (b,) in conn.exec_driver_sql(
                "SELECT DISTINCT batch_id FROM return_submission WHERE status = 'staged'"
            )
        ]
        try:
            with conn.begin_nested():
                if len(batches) == 1:  # the usual case: no need to count by batch
                    written = conn.exec_driver_sql(_RETURN_FACTS_INSERT).rowcount
                    return written, {batches[0]: written}
                per_batch = {
                    str(batch): int(n)
                    for batch, n in conn.exec_driver_sql(
                        "WITH written AS (" + _RETURN_FACTS_INSERT + " RETURNING batch_id)"
                        " SELECT batch_id, COUNT(*) FROM written GROUP BY batch_id"
                    )
                }
                return sum(per_batch.values()), per_batch
        except sa.exc.IntegrityError:
            pass  # a key exists already: fall through to the upsert
    return conn.exec_driver_sql(_RETURN_FACTS_UPSERT).rowcount, None


def _count_published(conn: Connection, written_per_batch: dict[str, int] | None) -> None:
    """``load_run.rows_published``: the facts each touched batch holds."""
    if written_per_batch is None:
        # One pass over the facts for all touched batches (a correlated COUNT
        # would scan them once per batch).
        conn.exec_driver_sql(
            "UPDATE load_run SET rows_published = COALESCE(("
            " SELECT c.n FROM (SELECT f.batch_id, COUNT(*) AS n FROM fact_indicator_value AS f"
            " WHERE f.batch_id IN (" + _TOUCHED_BATCHES + ") GROUP BY f.batch_id) AS c"
            " WHERE c.batch_id = load_run.batch_id), 0)"
            " WHERE batch_id IN (" + _TOUCHED_BATCHES + ")"
        )
        return
    # Only new keys were written: add them to what each batch held, instead of
    # counting every fact of its batches again (a scan of all history).
    for batch_id, written in sorted(written_per_batch.items()):
        conn.execute(
            sa.text(
                "UPDATE load_run SET rows_published = COALESCE(rows_published, 0) + :n"
                " WHERE batch_id = :b"
            ),
            {"n": written, "b": batch_id},
        )
    conn.exec_driver_sql(
        "UPDATE load_run SET rows_published = 0 WHERE rows_published IS NULL"
        " AND batch_id IN (" + _TOUCHED_BATCHES + ")"
    )


def _clear_decided_staging(conn: Connection) -> None:
    if is_postgres(conn.engine):
        # Normally nothing is left waiting and the whole table can go at once
        # (a DELETE of a million rows is a second of the publish). The lock
        # makes a concurrent stage_returns either commit first, so that its
        # submissions are seen as staged below, or wait for this publish.
        conn.exec_driver_sql("LOCK TABLE stg_return_value IN ACCESS EXCLUSIVE MODE")
        waiting = conn.exec_driver_sql(
            "SELECT EXISTS (SELECT 1 FROM return_submission WHERE status = 'staged')"
        ).scalar()
        if not waiting:
            conn.exec_driver_sql("TRUNCATE stg_return_value")
            return
    conn.exec_driver_sql(
        "DELETE FROM stg_return_value WHERE NOT EXISTS ("
        " SELECT 1 FROM return_submission AS s"
        " WHERE s.submission_id = stg_return_value.submission_id AND s.status = 'staged')"
    )


def publish(
    engine: Engine,
    *,
    blocked_submission_ids: Iterable[str] = frozenset(),
    warned_submission_ids: Iterable[str] = frozenset(),
) -> PublishResult:
    """Write-audit-publish: move every staged, unblocked submission into the facts.

    One transaction: blocked submissions get status ``blocked``; the others'
    staged rows are upserted into ``fact_indicator_value``; for every unit,
    form and period touched, the published submission with the highest version
    (ties: latest submission time) becomes ``is_latest`` and the older published
    ones ``superseded``. Staged notice statistics are upserted as ``notice``
    facts. Nothing staged, nothing changed: a rerun is a no-op.
    """
    blocked = set(blocked_submission_ids)
    warned = set(warned_submission_ids) - blocked
    scope_where = _SCOPE_MATCH.format(t="return_submission")
    with engine.begin() as conn:
        if is_postgres(engine):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PUBLISH_LOCK_KEY})")
            # Sorting a million staged rows in memory rather than in temp files.
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        conn.exec_driver_sql("DELETE FROM stg_publish_scope")
        n_blocked = _in_chunks(
            conn,
            "UPDATE return_submission SET status = 'blocked'"
            " WHERE status = 'staged' AND submission_id IN :ids",
            list(blocked),
        )
        conn.exec_driver_sql(
            "INSERT INTO stg_publish_scope (unit_code, form, period)"
            " SELECT DISTINCT unit_code, form, period FROM return_submission"
            " WHERE status = 'staged'"
        )
        conn.exec_driver_sql(
            "UPDATE stg_publish_scope SET winner_submission_id = ("
            " SELECT s.submission_id FROM return_submission AS s"
            " WHERE s.unit_code = stg_publish_scope.unit_code"
            " AND s.form = stg_publish_scope.form AND s.period = stg_publish_scope.period"
            " AND s.status IN ('staged', 'published', 'published_with_warnings', 'superseded')"
            " ORDER BY s.version DESC, s.received_at DESC, s.submission_id DESC LIMIT 1)"
        )
        if is_postgres(engine):
            conn.exec_driver_sql("ANALYZE stg_publish_scope")
        return_facts, written_per_batch = _insert_return_facts(conn)
        # Facts that were the latest of their unit, form and period until now
        # and no longer are. Only submissions published before can hold such
        # facts (the ones just inserted got their is_latest from the winner),
        # so this probes their keys instead of scanning every fact.
        conn.exec_driver_sql(
            "UPDATE fact_indicator_value SET is_latest = FALSE"
            " FROM return_submission AS s INNER JOIN stg_publish_scope AS p"
            " ON " + _SCOPE_MATCH.format(t="s") + " WHERE s.status <> 'staged'"
            " AND s.submission_id <> p.winner_submission_id"
            " AND fact_indicator_value.source = 'return'"
            " AND fact_indicator_value.is_latest = TRUE"
            " AND fact_indicator_value.unit_code = s.unit_code"
            " AND fact_indicator_value.form = s.form"
            " AND fact_indicator_value.period = s.period"
            " AND fact_indicator_value.source_ref = s.submission_id"
        )
        # A winner published before (an out-of-order arrival lost to it) whose
        # facts were not the latest.
        conn.exec_driver_sql(
            "UPDATE fact_indicator_value SET is_latest = TRUE"
            " FROM return_submission AS s INNER JOIN stg_publish_scope AS p"
            " ON s.submission_id = p.winner_submission_id"
            " WHERE s.status <> 'staged'"
            " AND fact_indicator_value.source = 'return'"
            " AND fact_indicator_value.is_latest = FALSE"
            " AND fact_indicator_value.unit_code = s.unit_code"
            " AND fact_indicator_value.form = s.form"
            " AND fact_indicator_value.period = s.period"
            " AND fact_indicator_value.source_ref = s.submission_id"
        )
        _in_chunks(
            conn,
            "UPDATE fact_indicator_value SET has_warnings = TRUE"
            " WHERE source = 'return' AND source_ref IN :ids AND source_ref IN"
            " (SELECT submission_id FROM return_submission WHERE status = 'staged')",
            list(warned),
        )
        warned_staged = _in_chunks(
            conn,
            "UPDATE return_submission SET status = 'published_with_warnings'"
            " WHERE status = 'staged' AND submission_id IN :ids",
            list(warned),
        )
        n_published = conn.exec_driver_sql(
            "UPDATE return_submission SET status = 'published' WHERE status = 'staged'"
        ).rowcount
        n_superseded = conn.exec_driver_sql(
            "UPDATE return_submission SET status = 'superseded'"
            " WHERE status IN ('published', 'published_with_warnings') AND EXISTS ("
            " SELECT 1 FROM stg_publish_scope AS p WHERE "
            + scope_where
            + " AND p.winner_submission_id <> return_submission.submission_id)"
        ).rowcount
        conn.exec_driver_sql(
            "UPDATE return_submission SET status = CASE WHEN EXISTS ("
            " SELECT 1 FROM fact_indicator_value AS f WHERE f.source = 'return'"
            " AND f.source_ref = return_submission.submission_id AND f.has_warnings = TRUE)"
            " THEN 'published_with_warnings' ELSE 'published' END"
            " WHERE status = 'superseded' AND submission_id IN"
            " (SELECT winner_submission_id FROM stg_publish_scope)"
        )
        notice_facts = conn.exec_driver_sql(
            "INSERT INTO fact_indicator_value (unit_code, form, indicator_code, period, source,"
            " source_ref, version, is_latest, value_current, value_ytd, value_last_year,"
            " qualifier, provenance, has_warnings, batch_id)"
            " SELECT s.unit_code, s.form, s.indicator_code, s.period, 'notice',"
            " s.statistic_id, 1, TRUE, s.value, NULL, NULL, s.qualifier, s.quote, FALSE,"
            " s.batch_id"
            " FROM stg_notice_statistic AS s"
            " WHERE s.unit_code IS NOT NULL AND s.form IS NOT NULL"
            " AND s.indicator_code IS NOT NULL AND s.period IS NOT NULL"
            " ON CONFLICT (unit_code, form, indicator_code, period, source, source_ref)"
            " DO UPDATE SET value_current = excluded.value_current,"
            " qualifier = excluded.qualifier, provenance = excluded.provenance,"
            " batch_id = excluded.batch_id"
            " WHERE fact_indicator_value.value_current <> excluded.value_current"
            " OR fact_indicator_value.qualifier <> excluded.qualifier"
            " OR fact_indicator_value.provenance <> excluded.provenance"
        ).rowcount
        _count_published(conn, written_per_batch)
        conn.exec_driver_sql("DELETE FROM stg_publish_scope")
        # Decided submissions (published, or blocked until a corrected return
        # comes) leave staging: their values live on in the facts and in the
        # raw file, and staging stays the size of one pending load instead of
        # all history, which every publish and audit would scan.
        _clear_decided_staging(conn)
        if is_postgres(engine) and return_facts > _REANALYZE_AFTER_ROWS:
            # Autovacuum may not get there before the first consolidation query,
            # which would be planned for the old, smaller table.
            conn.exec_driver_sql("ANALYZE fact_indicator_value")
    # n_superseded counts the out-of-order arrivals published and superseded at once.
    return PublishResult(
        published=max(n_published, 0),
        published_with_warnings=warned_staged,
        blocked=n_blocked,
        superseded=max(n_superseded, 0),
        return_facts=max(return_facts, 0),
        notice_facts=max(notice_facts, 0),
    )


# --- consolidation --------------------------------------------------------------


def consolidate(engine: Engine, form: str, period: str) -> list[dict[str, Any]]:
    """Rows of ``v_consolidated`` (or ``v_annual_values`` for a year) for one form and period."""
    view = "v_consolidated"
    with engine.connect() as conn:
        kind = conn.execute(
            sa.text("SELECT kind FROM dim_period WHERE period = :p"), {"p": period}
        ).scalar_one_or_none()
        has_direct = conn.execute(
            sa.text("SELECT COUNT(*) FROM return_submission WHERE form = :f AND period = :p"),
            {"f": form, "p": period},
        ).scalar_one()
        if kind == "year" and not has_direct:
            view = "v_annual_values"
        rows = conn.execute(
            sa.text(
                f"SELECT * FROM {view} WHERE form = :f AND period = :p"
                " ORDER BY unit_code, indicator_code"
            ),
            {"f": form, "p": period},
        )
        return [dict(r._mapping) for r in rows]


def consolidate_year(engine: Engine, form: str, year: int | str) -> dict[str, list[dict[str, Any]]]:
    """The whole hierarchy's consolidation for one year, straight from the views.

    ``quarters``: ``v_consolidated`` for the year's four quarters;
    ``annual``: ``v_annual_values`` for the year. On PostgreSQL both run in
    one repeatable-read, read-only transaction, so they see the same facts
    while a publish commits; with enough ``work_mem`` for their sorts and
    aggregates to stay in memory (at the default 4 MB they spill to disk for a
    province of 1,500 towns) and without JIT (it bought nothing on these plans
    and its compile time only grows on a busy machine).
    """
    year = str(int(year))
    quarters = [f"{year}Q{q}" for q in range(1, 5)]
    with engine.begin() as conn:
        if is_postgres(engine):
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
            conn.exec_driver_sql("SET LOCAL jit = off")
        by_quarter = conn.execute(
            sa.text(
                "SELECT * FROM v_consolidated WHERE form = :f AND period IN :ps"
                " ORDER BY period, unit_code, indicator_code"
            ).bindparams(sa.bindparam("ps", expanding=True)),
            {"f": form, "ps": quarters},
        )
        quarter_rows = _as_dicts(by_quarter)
        annual = conn.execute(
            sa.text(
                "SELECT * FROM v_annual_values WHERE form = :f AND period = :y"
                " ORDER BY unit_code, indicator_code"
            ),
            {"f": form, "y": year},
        )
        return {"quarters": quarter_rows, "annual": _as_dicts(annual)}


def _as_dicts(result: sa.CursorResult) -> list[dict[str, Any]]:
    # zip over plain tuples: a third of the time of Row._mapping on 200,000 rows.
    columns = list(result.keys())
    return [dict(zip(columns, row, strict=True)) for row in result.tuples()]

"""Returns intake: land every submitted return raw, then decide whether it may be staged.

Two channels deliver returns (docs/architecture.md, "How returns arrive"):

* a drop folder or object store laid out ``<root>/<unit code>/<form>/<period>/<file>``,
  where the folder a file sits in is the account that submitted it
  (:func:`scan_drop_folder`);
* the reporting system's HTTP API, polled with a cursor and a bearer token
  (:func:`poll_api`).

Both store the bytes in the raw store before anything else looks at them, so
nothing that arrived is ever lost; :func:`triage` then reads a received return
and either stages it or quarantines it with a reason. Problems inside cells
never quarantine: they travel with the staged submission and the quality
checks decide.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import errno
import hashlib
import json
import logging
import os
import re
import socket
import stat
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from huizong.catalog import indicators, known_forms
from huizong.rawstore import RawStore, SourceTooLarge
from huizong.returns.model import QuarantineRecord, ReceivedReturn, StagedSubmission
from huizong.returns.periods import PeriodError, normalize_period, period_start
from huizong.returns.values import parse_value

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

CHANNEL_DROP = "drop"
CHANNEL_API = "api"
RETURN_SUFFIXES = frozenset({".xlsx", ".xls", ".csv"})
VALUE_COLUMNS = ("current", "ytd", "last_year")
DROP_LAYOUT = "<unit code>/<form>/<period>/<file>.xlsx|.xls|.csv"

# A drop file larger than this is reported, not stored: real FL-01 workbooks are
# well under a megabyte and the parser refuses anything above 20 MiB anyway.
MAX_DROP_FILE_BYTES = 64 * 1024 * 1024
# Folders deeper than the layout are walked only this far, to report what is there.
MAX_WALK_DEPTH = 8

# China has one time zone and no daylight saving time: the reporting calendar's "today".
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_UNIT_CODE = re.compile(r"^[0-9]{12}$")
# Office/WPS lock and owner files, editor backups, partial copies and dotfiles.
_TEMP_NAMES = re.compile(
    r"^(?:~\$|\.~lock\.|~lock\.|\.)|(?:\.tmp|\.temp|\.bak|\.part|\.crdownload|\.partial|~|#)$",
    re.IGNORECASE,
)
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})

# Quarantine reasons (QuarantineRecord.reason); the detail says what to do.
BAD_LAYOUT = "bad_layout"
BAD_UNIT_FOLDER = "bad_unit_folder"
UNSUPPORTED_TYPE = "unsupported_type"
UNREADABLE = "unreadable"
EMPTY_RETURN = "empty"
UNKNOWN_UNIT = "unknown_unit"
UNIT_MISMATCH = "unit_mismatch"
UNKNOWN_FORM = "unknown_form"
FORM_MISMATCH = "form_mismatch"
UNKNOWN_PERIOD = "unknown_period"
PERIOD_MISMATCH = "period_mismatch"
FUTURE_PERIOD = "future_period"
RAW_MISSING = "raw_missing"
TOO_LARGE = "too_large"

SeenFn = Callable[[str, str], bool]
"""``seen(source_uri, raw_sha256)``: True when that exact content from that source
was already received (raw_return or quarantine), so it is skipped."""

Seen = SeenFn | Collection[tuple[str, ...]]
"""A :data:`SeenFn`, or the keys of what was received: ``(raw_sha256, channel,
source_uri)`` as the warehouse's ``raw_return_seen`` gives them, or ``(source_uri,
raw_sha256)`` pairs."""


def _seen_fn(seen: Seen | None, channel: str) -> SeenFn | None:
    if seen is None or callable(seen):
        return seen
    keys = seen

    def known(source_uri: str, raw_sha256: str) -> bool:
        return (raw_sha256, channel, source_uri) in keys or (source_uri, raw_sha256) in keys

    return known


def utc_now() -> datetime:
    # The warehouse stores naive UTC timestamps.
    return datetime.now(UTC).replace(tzinfo=None)


def china_today() -> date:
    return datetime.now(CHINA_TZ).date()


def _as_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# =============================================================================== drop folder


@dataclass(frozen=True)
class ScanNotice:
    """Something in the drop folder that was deliberately not read, and why."""

    source_uri: str
    reason: str  # temp_file, system_file, unsafe_name, symlink_escape, too_large, too_deep
    detail: str


@dataclass
class ScanResult:
    received: list[ReceivedReturn] = field(default_factory=list)
    rejected: list[QuarantineRecord] = field(default_factory=list)  # raw stored first
    ignored: list[ScanNotice] = field(default_factory=list)  # not read at all
    skipped: int = 0  # already received, per ``seen``


@dataclass(frozen=True)
class _Entry:
    path: Any  # pathlib.Path or ObjectStoragePath
    parts: tuple[str, ...]  # relative to the root, as named in the folder

    @property
    def source_uri(self) -> str:
        return "/".join(self.parts)


def _as_root(root: Any) -> Any:
    if isinstance(root, str):
        if "://" in root:
            from airflow.sdk import ObjectStoragePath

            return ObjectStoragePath(root)
        return Path(root)
    return root


def _local_os_path(path: Any) -> str | None:
    """Local filesystem path behind ``path``, or None for an object store."""
    if isinstance(path, Path):
        return str(path)
    if getattr(path, "protocol", None) in ("file", "local"):
        return str(path.path)
    return None


def _is_symlink(path: Any) -> bool:
    try:
        return bool(path.is_symlink())
    except (NotImplementedError, OSError):
        return False


def _unsafe_name(name: str) -> bool:
    # Object-store keys may hold any of these literally; joined back into a path
    # they could name something outside the root.
    return (
        name in ("", ".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or any(unicodedata.category(ch) == "Cc" for ch in name)
    )


def _walk(root: Any, notices: list[ScanNotice]) -> Iterator[_Entry]:
    root_real = _local_os_path(root)
    root_real = os.path.realpath(root_real) if root_real is not None else None
    visited: set[str] = set()
    if root_real is not None:
        visited.add(root_real)
    stack: list[tuple[Any, tuple[str, ...]]] = [(root, ())]
    while stack:
        directory, parts = stack.pop()
        try:
            children = sorted(directory.iterdir(), key=lambda p: p.name, reverse=True)
        except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
            if not parts:
                raise  # the root itself: a configuration error, not a file to report
            notices.append(
                ScanNotice("/".join(parts), "unlistable", f"cannot list this folder: {exc}")
            )
            continue
        for child in children:
            name = child.name
            child_parts = (*parts, name)
            uri = "/".join(child_parts)
            if _unsafe_name(name):
                notices.append(
                    ScanNotice(uri, "unsafe_name", f"name {name!r} could escape the drop folder")
                )
                continue
            local = _local_os_path(child)
            if _is_symlink(child) and local is not None and root_real is not None:
                target = os.path.realpath(local)
                if os.path.commonpath([root_real, target]) != root_real:
                    notices.append(
                        ScanNotice(
                            uri,
                            "symlink_escape",
                            "符号链接指向投递目录之外，未读取 / symbolic link points outside "
                            "the drop folder and was not followed",
                        )
                    )
                    continue
            if child.is_dir():
                if name.startswith("."):
                    notices.append(ScanNotice(uri, "hidden_folder", "hidden folder not scanned"))
                    continue
                if len(child_parts) > MAX_WALK_DEPTH:
                    notices.append(
                        ScanNotice(uri, "too_deep", f"folders nested deeper than {DROP_LAYOUT}")
                    )
                    continue
                if local is not None:
                    real = os.path.realpath(local)
                    if real in visited:  # a symlink loop inside the root
                        continue
                    visited.add(real)
                stack.append((child, child_parts))
            elif child.is_file():
                yield _Entry(child, child_parts)


def _temp_or_system_notice(entry: _Entry) -> ScanNotice | None:
    name = entry.parts[-1]
    if name.lower() in _SYSTEM_FILES:
        return ScanNotice(entry.source_uri, "system_file", "operating-system file, not a return")
    if _TEMP_NAMES.search(name):
        return ScanNotice(
            entry.source_uri,
            "temp_file",
            "临时文件或锁文件，不是报表 / temporary or lock file (an open Excel/WPS workbook "
            "or a copy in progress), not a return",
        )
    return None


def _from_timestamp(seconds: float | None) -> datetime | None:
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _Observed:
    """What the scan learnt about a file before reading it."""

    size: int | None
    # When the file last changed, by a clock the submitter does not set: the
    # inode's change time on a local or mounted folder (utime() moves it to
    # "now"), unknown on an object store.
    changed_at: datetime | None
    claimed_at: datetime | None  # the modification time: whatever the writer set
    # A local file as checked: the path to open and the identity it must still have.
    local_path: str | None = None
    identity: tuple[int, int] | None = None


class _Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


_SYMLINK_ESCAPE_DETAIL = (
    "符号链接指向投递目录之外，未读取 / symbolic link points outside the drop folder and was "
    "not followed"
)


def _check_local(local: str, root_real: str) -> tuple[str, os.stat_result]:
    """The path to open for ``local`` and its stat, once it is known to be a file inside the root.

    The path is resolved whole, so a link anywhere on the way (the file or a
    folder it is in, which the walk checked earlier but may since have been
    swapped) must still end inside the folder; a link inside it is opened at its
    target. What is returned is what :func:`_open_checked` must find.
    """
    target = os.path.realpath(local)
    if os.path.commonpath([root_real, target]) != root_real:
        raise _Refused("symlink_escape", _SYMLINK_ESCAPE_DETAIL)
    info = os.lstat(target)
    if stat.S_ISLNK(info.st_mode):  # swapped in while it was being resolved
        raise _Refused("swapped", "检查时被替换 / replaced while it was checked: not read")
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("not_a_file", "不是普通文件 / not a regular file: not read")
    return target, info


def _open_checked(observed: _Observed) -> Any:
    """Open the checked local file without following a link swapped in since the check.

    ``O_NOFOLLOW`` refuses a link in the last component; comparing the opened
    file's device and inode with the checked ones catches any other swap (a
    renamed-in file, a linked folder on the way). Reads then come from the fd.
    """
    assert observed.local_path is not None and observed.identity is not None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(observed.local_path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Refused(
                "swapped",
                "检查后被替换为符号链接，未读取 / replaced by a symbolic link after it was "
                "checked: not read; the next scan looks at it again",
            ) from exc
        raise
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != observed.identity or not stat.S_ISREG(
            opened.st_mode
        ):
            raise _Refused(
                "swapped",
                "检查后文件被替换，未读取 / the file was replaced between the check and the "
                "read: not read; the next scan looks at it again",
            )
        # Reads block as usual from here on; O_NONBLOCK only kept a FIFO from hanging open().
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _observe(entry: _Entry, root_real: str | None) -> _Observed:
    local = _local_os_path(entry.path)
    if local is not None and root_real is not None:
        target, info = _check_local(local, root_real)
        return _Observed(
            size=info.st_size,
            changed_at=_from_timestamp(info.st_ctime),
            claimed_at=_from_timestamp(info.st_mtime),
            local_path=target,
            identity=(info.st_dev, info.st_ino),
        )
    try:
        info = entry.path.stat()
    except (OSError, NotImplementedError, ValueError):
        # Size and time are advisory (the copy is bounded anyway); a store that
        # cannot say them must not stop the scan.
        return _Observed(None, None, None)
    return _Observed(
        size=getattr(info, "st_size", None),
        changed_at=None,
        claimed_at=_from_timestamp(getattr(info, "st_mtime", None)),
    )


DEFAULT_DROP_SETTLE_SECONDS = 30.0


def drop_settle_seconds_from_env() -> float:
    """``HUIZONG_DROP_SETTLE_SECONDS`` (default 30): how long a file must be unchanged."""
    text = os.environ.get("HUIZONG_DROP_SETTLE_SECONDS", "").strip()
    if not text:
        return DEFAULT_DROP_SETTLE_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(
            f"HUIZONG_DROP_SETTLE_SECONDS={text!r} is not a number of seconds (e.g. 30)"
        ) from None
    if seconds < 0:
        raise ValueError(f"HUIZONG_DROP_SETTLE_SECONDS={text!r} must be 0 (off) or more")
    return seconds


def _canonical_form(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def _classify_drop(parts: tuple[str, ...]) -> tuple[str, str, str, tuple[str, str] | None]:
    """(unit, form, period, (reason, detail) or None) for a file's place in the folder."""
    unit = parts[0] if len(parts) > 1 else ""
    form = _canonical_form(parts[1]) if len(parts) > 2 else ""
    period_text = parts[2] if len(parts) > 3 else ""
    period = _normalized_or_none(period_text)
    suffix = PurePosixPath(parts[-1]).suffix.lower()
    problem: tuple[str, str] | None = None
    if len(parts) != 4:
        problem = (
            BAD_LAYOUT,
            f"文件位置不符合 {DROP_LAYOUT} / file is {len(parts) - 1} folder(s) deep, "
            f"expected {DROP_LAYOUT}: move it into the folder of its unit, form and period",
        )
    elif suffix not in RETURN_SUFFIXES:
        problem = (
            UNSUPPORTED_TYPE,
            f"不支持的文件类型“{suffix or '无扩展名'}” / {suffix or 'no extension'} is not a "
            "return workbook: send the filled-in form as .xlsx, .xls or .csv",
        )
    elif not _UNIT_CODE.match(unit):
        problem = (
            BAD_UNIT_FOLDER,
            f"单位目录“{unit}”不是12位统计用区划代码 / unit folder {unit!r} is not a 12-digit "
            "division code: the folder must be named by the submitting unit's code",
        )
    elif form not in known_forms():
        problem = (
            UNKNOWN_FORM,
            f"未知报表“{parts[1]}” / unknown form {parts[1]!r}: known forms are "
            f"{', '.join(sorted(known_forms()))}",
        )
    elif period is None:
        problem = (
            UNKNOWN_PERIOD,
            f"统计期目录“{period_text}”无法识别 / period folder {period_text!r} is not a period: "
            "name it e.g. 2024Q4, 2024 or 2024-10",
        )
    return unit, form, period or period_text, problem


def scan_drop_folder(
    root: Any,
    *,
    raw_dir: str | os.PathLike[str],
    partition: str,
    seen: Seen | None = None,
    now: datetime | None = None,
    settle_seconds: float = 0.0,
    max_file_bytes: int = MAX_DROP_FILE_BYTES,
) -> ScanResult:
    """Land new and changed files of a drop folder in the raw store.

    ``root`` is a local folder (``Path`` or str) or an ``ObjectStoragePath``
    (also given as a ``s3://`` / ``file://`` URL); only the path API both share
    is used. Each file is read once, hashed while it is copied into the raw
    store's partition, and kept only if ``seen`` does not know that source and
    hash, so an unchanged file costs one read and no write. A file whose place
    in the folder is wrong is still kept raw and comes back as a
    :class:`QuarantineRecord`; temp files, links out of the folder and unsafe
    names are not read and come back in ``ignored``.

    Times come from the platform, never from the file: on a local or mounted
    folder a file counts as received when it last changed (its inode change
    time, which ``utime()`` cannot set back), on an object store (whose objects
    appear whole) at this scan; ``now`` is the platform's clock. A local file
    changed less than ``settle_seconds`` before ``now`` is left for the next
    scan (ignored as ``settling``: a copy may be in progress). The modification
    time is kept as ``claimed_at`` only. Local files are opened without
    following links and must still be the file that was checked.
    """
    result = ScanResult()
    for item in iter_drop_folder(
        root,
        result,
        raw_dir=raw_dir,
        partition=partition,
        seen=seen,
        now=now,
        settle_seconds=settle_seconds,
        max_file_bytes=max_file_bytes,
    ):
        if isinstance(item, QuarantineRecord):
            result.rejected.append(item)
        else:
            result.received.append(item)
    log_ignored(result)
    return result


def log_ignored(result: ScanResult) -> None:
    for notice in result.ignored:
        log.info(
            "drop folder: %s not read (%s): %s", notice.source_uri, notice.reason, notice.detail
        )


def iter_drop_folder(
    root: Any,
    result: ScanResult,
    *,
    raw_dir: str | os.PathLike[str],
    partition: str,
    seen: Seen | None = None,
    now: datetime | None = None,
    settle_seconds: float = 0.0,
    max_file_bytes: int = MAX_DROP_FILE_BYTES,
) -> Iterator[ReceivedReturn | QuarantineRecord]:
    """:func:`scan_drop_folder` one file at a time; notices and skips go to ``result``."""
    root = _as_root(root)
    already_seen = _seen_fn(seen, CHANNEL_DROP)
    clock = _as_naive_utc(now) if now else utc_now()
    store = RawStore(raw_dir)
    area = f"returns/{CHANNEL_DROP}"
    root_local = _local_os_path(root)
    root_real = os.path.realpath(root_local) if root_local is not None else None
    for entry in _walk(root, result.ignored):
        notice = _temp_or_system_notice(entry)
        if notice is not None:
            result.ignored.append(notice)
            continue
        try:
            observed = _observe(entry, root_real)
        except _Refused as refused:
            result.ignored.append(ScanNotice(entry.source_uri, refused.reason, refused.detail))
            continue
        except FileNotFoundError as exc:
            result.ignored.append(ScanNotice(entry.source_uri, "unreadable_source", str(exc)))
            continue
        size = observed.size
        if size is not None and size > max_file_bytes:
            result.ignored.append(
                ScanNotice(
                    entry.source_uri,
                    "too_large",
                    f"{size} bytes is more than any return ({max_file_bytes} allowed): not read",
                )
            )
            continue
        if settle_seconds and observed.changed_at is not None:
            # Judged on the change time, which a writer cannot set back: a copy in
            # progress keeps moving it, whatever modification time it claims.
            age = (clock - observed.changed_at).total_seconds()
            if age < settle_seconds:
                result.ignored.append(
                    ScanNotice(
                        entry.source_uri,
                        "settling",
                        f"changed {max(age, 0):.0f}s ago; taken once unchanged for "
                        f"{settle_seconds:g}s (a copy may be in progress)",
                    )
                )
                continue
        # Received when it reached the folder in this form, by the platform's clocks;
        # never later than this scan, whatever the file says about itself.
        received_at = min(observed.changed_at or clock, clock)
        claimed_at = observed.claimed_at
        unit, form, period, problem = _classify_drop(entry.parts)
        filename = entry.parts[-1]
        suffix = PurePosixPath(filename).suffix.lower()
        try:
            with (
                _open_checked(observed)
                if observed.local_path is not None
                else entry.path.open("rb") as source,
                store.spool(
                    source, area=area, partition=partition, max_bytes=max_file_bytes
                ) as spooled,
            ):
                if already_seen is not None and already_seen(entry.source_uri, spooled.sha256):
                    result.skipped += 1
                    continue
                stored = spooled.commit(
                    suffix=suffix if _storable_suffix(suffix) else ".bin",
                    meta={
                        "channel": CHANNEL_DROP,
                        "source_uri": entry.source_uri,
                        "root": str(root),
                        "filename": filename,
                        "submitted_unit_code": unit,
                        "form": form,
                        "period": period,
                        "claimed_at": claimed_at.isoformat() if claimed_at else None,
                        "received_at": received_at.isoformat(),
                    },
                )
        except _Refused as refused:
            result.ignored.append(ScanNotice(entry.source_uri, refused.reason, refused.detail))
            continue
        except SourceTooLarge:
            result.ignored.append(
                ScanNotice(entry.source_uri, "too_large", f"more than {max_file_bytes} bytes")
            )
            continue
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            # Removed or locked between listing and reading: the next scan sees it again.
            result.ignored.append(ScanNotice(entry.source_uri, "unreadable_source", str(exc)))
            continue
        received = ReceivedReturn(
            channel=CHANNEL_DROP,
            source_uri=entry.source_uri,
            submitted_unit_code=unit,
            form=form,
            period=period,
            raw_sha256=stored.sha256,
            raw_path=str(stored.path),
            received_at=received_at,
            claimed_at=claimed_at,
            filename=filename,
        )
        if problem is None:
            yield received
        else:
            yield QuarantineRecord(received, *problem)


def _storable_suffix(suffix: str) -> bool:
    return bool(re.fullmatch(r"\.[a-z0-9]{1,10}", suffix)) and suffix != ".json"


# =============================================================================== reporting API


class ApiError(RuntimeError):
    """The reporting API failed in a way retrying did not (or cannot) fix."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.partial: PollResult | None = None  # what was stored before the failure


class ApiAuthError(ApiError):
    """401/403: the token is wrong or expired; retrying cannot help."""


@dataclass
class PollResult:
    received: list[ReceivedReturn] = field(default_factory=list)
    next_cursor: str | None = None  # persist this only after ``received`` is recorded
    pages: int = 0
    duplicates: int = 0  # items seen twice in this poll (same id and version)
    skipped: int = 0  # items ``seen`` already knew
    exhausted: bool = False  # True when the API said there is nothing more for now
    # Stored raw but refused (an item over the size cap): record and quarantine these too.
    rejected: list[QuarantineRecord] = field(default_factory=list)


class CursorStore(Protocol):
    def get(self) -> str | None: ...

    def put(self, cursor: str | None) -> None: ...


class JsonFileCursorStore:
    """The API cursor in a small JSON file, replaced atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def get(self) -> str | None:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        cursor = document.get("cursor") if isinstance(document, dict) else None
        return str(cursor) if cursor is not None else None

    def put(self, cursor: str | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"cursor": cursor, "updated_at": utc_now().isoformat(timespec="seconds")}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(document, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for 429, 5xx and connection failures."""

    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0  # a Retry-After longer than this is cut to it

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2**attempt))


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# A workbook an API item may carry, decoded; the parser refuses larger ones anyway.
DEFAULT_API_MAX_ITEM_BYTES = 20 * 1024 * 1024
# Room in a response for an item's JSON besides its workbook (values, names, ids).
_ITEM_JSON_ALLOWANCE = 1024 * 1024
# A page of several items may use this much; a larger one is asked for again item by item.
DEFAULT_API_MAX_PAGE_BYTES = 32 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_MAX_REDIRECTS = 5


def api_item_budget(max_item_bytes: int) -> int:
    """Bytes one item may take in a response: its workbook in base64 plus its JSON."""
    return -(-max_item_bytes // 3) * 4 + _ITEM_JSON_ALLOWANCE


def api_max_item_bytes_from_env() -> int:
    """``HUIZONG_API_MAX_ITEM_MIB`` (default 20): the largest workbook an API item may carry."""
    text = os.environ.get("HUIZONG_API_MAX_ITEM_MIB", "").strip()
    if not text:
        return DEFAULT_API_MAX_ITEM_BYTES
    try:
        mib = float(text)
    except ValueError:
        raise ValueError(
            f"HUIZONG_API_MAX_ITEM_MIB={text!r} is not a number of MiB (e.g. 20)"
        ) from None
    if mib <= 0:
        raise ValueError(f"HUIZONG_API_MAX_ITEM_MIB={text!r} must be more than 0")
    return int(mib * 1024 * 1024)


def reporting_api_base_url(host: str, *, port: int | None = None, schema: str | None = None) -> str:
    """The reporting system's base URL from a connection's host, port and schema.

    Without a schema the connection is taken as ``https``: a bearer token must
    not cross the network in clear text because a field was left empty. A host
    that already names its scheme keeps it.
    """
    host = (host or "").strip().rstrip("/")
    if not host:
        raise ValueError("the reporting API connection has no host")
    if "://" in host:
        return host
    scheme = (schema or "").strip().lower() or "https"
    if scheme not in ("http", "https"):
        raise ValueError(
            f"the reporting API connection's schema {schema!r} is not http or https"
        )
    return f"{scheme}://{host}{f':{port}' if port else ''}"


class _ResponseTooLarge(Exception):
    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"{size} bytes or more, {cap} allowed")
        self.size = size
        self.cap = cap


class _PastDeadline(Exception):
    pass


class _NotJson(Exception):
    pass


class _Watch:
    """Ends the request in flight when its wall-clock deadline passes.

    ``requests``' timeout bounds each socket operation, so a server sending one
    byte just often enough holds a reader for as long as it likes, in the
    headers or the body. A timer that shuts the connection's socket down ends
    whatever read is blocked at the deadline itself.
    """

    def __init__(self) -> None:
        self._connection: Any = None
        self._expired = False
        self._lock = threading.Lock()

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection
            if self._expired:
                self._shut()

    def expire(self) -> None:
        with self._lock:
            self._expired = True
            self._shut()

    @property
    def expired(self) -> bool:
        return self._expired

    @contextlib.contextmanager
    def armed(self, seconds: float) -> Iterator[None]:
        self._expired = False
        timer = threading.Timer(max(seconds, 0.0), self.expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            with self._lock:
                self._connection = None

    def _shut(self) -> None:
        sock = getattr(self._connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _watched_session() -> tuple[requests.Session, _Watch]:
    """A session whose connections report to a :class:`_Watch` as each request starts."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    watch = _Watch()

    class Watched:
        def request(self, *args: Any, **kwargs: Any) -> Any:
            watch.attach(self)
            return super().request(*args, **kwargs)  # type: ignore[misc]

    http_pool = type(
        "WatchedHTTPPool",
        (HTTPConnectionPool,),
        {"ConnectionCls": type("WatchedHTTP", (Watched, HTTPConnection), {})},
    )
    https_pool = type(
        "WatchedHTTPSPool",
        (HTTPSConnectionPool,),
        {"ConnectionCls": type("WatchedHTTPS", (Watched, HTTPSConnection), {})},
    )

    class WatchedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    session = requests.Session()
    session.max_redirects = _MAX_REDIRECTS
    adapter = WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, watch


def _read_body(response: Any, *, cap: int, deadline: float, spool_dir: Path) -> Any:
    """The response's JSON, spooled to a temp file in chunks: ``cap`` bytes at most, on time."""
    declared = _int_or_none((getattr(response, "headers", None) or {}).get("Content-Length"))
    if declared is not None and declared > cap:
        raise _ResponseTooLarge(declared, cap)
    raw = response.raw
    read = getattr(raw, "read1", None) or raw.read
    spool_dir.mkdir(parents=True, exist_ok=True)
    size = 0
    with tempfile.TemporaryFile(dir=spool_dir, prefix=".api-page.") as spool:
        while True:
            if time.monotonic() >= deadline:
                raise _PastDeadline
            chunk = read(_READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise _ResponseTooLarge(size, cap)
            spool.write(chunk)
        if time.monotonic() >= deadline:
            raise _PastDeadline  # the read that ended may have been cut by the watch
        spool.seek(0)
        try:
            return json.load(spool)
        except ValueError as exc:
            raise _NotJson(str(exc)) from exc


def _get_page(
    session: requests.Session,
    url: str,
    *,
    params: dict[str, Any],
    token: str,
    timeout: float,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    cap: int,
    spool_dir: Path,
    watch: _Watch | None = None,
) -> dict[str, Any]:
    """One page, retried on 429/5xx/timeouts; ``timeout`` is each attempt's wall-clock limit."""
    import requests
    from urllib3.exceptions import HTTPError as Urllib3Error

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    last_problem = ""
    where = f"{url} (cursor {params.get('cursor') or 'start'})"
    for attempt in range(retry.max_retries + 1):
        delay: float
        deadline = time.monotonic() + timeout
        guard = watch.armed(timeout) if watch is not None else contextlib.nullcontext()
        try:
            with guard:
                response = session.get(
                    url, params=params, headers=headers, timeout=timeout, stream=True
                )
                try:
                    status = response.status_code
                    page = (
                        _read_body(response, cap=cap, deadline=deadline, spool_dir=spool_dir)
                        if status == 200
                        else None
                    )
                    body_text = "" if status == 200 else _short_text(response, deadline)
                finally:
                    with contextlib.suppress(Exception):
                        response.close()
        except _PastDeadline:
            last_problem = f"no complete response within {timeout:g} s"
            delay = retry.backoff(attempt)
        except _ResponseTooLarge:
            raise
        except requests.TooManyRedirects as exc:
            raise ApiError(
                f"{where}: the reporting API redirected more than {_MAX_REDIRECTS} times "
                f"({exc}); check the connection's host and path — it may point at a login "
                "page or a proxy that sends the request back to itself"
            ) from exc
        except (requests.ConnectionError, requests.Timeout, Urllib3Error) as exc:
            last_problem = _transport_problem(exc, timeout, watch)
            delay = retry.backoff(attempt)
        except _NotJson as exc:
            raise ApiError(f"{where}: response is not JSON: {exc}", status=200) from exc
        except requests.RequestException as exc:
            # An invalid URL, a missing schema, a body that cannot be sent: not transient.
            raise ApiError(f"{where}: request failed: {type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            last_problem = _transport_problem(exc, timeout, watch)
            delay = retry.backoff(attempt)
        else:
            if status == 200:
                if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                    raise ApiError(f"{where}: response has no 'items' list", status=status)
                return page
            if status in (401, 403):
                raise ApiAuthError(
                    f"{url}: the reporting API refused the token ({status}); check the "
                    "token configured for the reporting system",
                    status=status,
                )
            if status == 429:
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                delay = (
                    min(retry_after, retry.max_retry_after)
                    if retry_after is not None
                    else retry.backoff(attempt)
                )
                last_problem = "429 Too Many Requests"
            elif status >= 500:
                delay = retry.backoff(attempt)
                last_problem = f"{status} {response.reason}"
            elif status == 400 and params.get("cursor"):
                raise ApiError(
                    f"{where}: the reporting API refused the stored cursor "
                    f"{params['cursor']!r} ({body_text!r}); the cursor file is damaged or "
                    "belongs to another system: fix it, or remove it to read the feed from "
                    "the start (what was received already is skipped)",
                    status=status,
                )
            else:
                raise ApiError(f"{where}: {status} {body_text!r}", status=status)
        if attempt == retry.max_retries:
            break
        log.warning(
            "reporting API %s (attempt %d); retrying in %.2fs", last_problem, attempt + 1, delay
        )
        sleep(delay)
    raise ApiError(f"{where}: gave up after {retry.max_retries + 1} attempts: {last_problem}")


def _transport_problem(exc: BaseException, timeout: float, watch: _Watch | None) -> str:
    if watch is not None and watch.expired:
        return f"no complete response within {timeout:g} s"
    return f"{type(exc).__name__}: {exc}"


def _short_text(response: Any, deadline: float) -> str:
    """The start of an error response's body, for the message; never more than 300 bytes."""
    raw = getattr(response, "raw", None)
    if raw is None or time.monotonic() >= deadline:
        return ""
    with contextlib.suppress(Exception):
        return raw.read(300).decode("utf-8", "replace")
    return ""


def _canonical_json(item: Any) -> bytes:
    # Canonical bytes make the same item hash the same however the server spaced it.
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # The reporting system is in China; a naive time there is China time.
        moment = moment.replace(tzinfo=CHINA_TZ)
    return _as_naive_utc(moment)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _normalized_or_raw_period(value: Any) -> str:
    text = "" if value is None else str(value)
    try:
        return normalize_period(text)
    except PeriodError:
        return text


def _workbook_suffix(data: bytes, filename: str | None) -> str:
    if filename:
        suffix = PurePosixPath(filename).suffix.lower()
        if suffix in RETURN_SUFFIXES:
            return suffix
    if data.startswith(b"PK"):
        return ".xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    return ".bin"


def _decode_workbook(item: Mapping[str, Any]) -> bytes | None:
    encoded = item.get("workbook_b64")
    if not encoded or not isinstance(encoded, str):
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _source_uri(item: Any, raw_sha256: str) -> str:
    item_id = item.get("id") if isinstance(item, dict) else None
    return f"api:{item_id}" if item_id not in (None, "") else f"api:sha256:{raw_sha256}"


def _received_from_item(
    item: Any, raw_sha256: str, raw_path: str, received_at: datetime
) -> ReceivedReturn:
    fields: Mapping[str, Any] = item if isinstance(item, dict) else {}
    source_uri = _source_uri(item, raw_sha256)
    values = fields.get("values")
    filename = fields.get("workbook_filename") or fields.get("filename")
    return ReceivedReturn(
        channel=CHANNEL_API,
        source_uri=source_uri,
        submitted_unit_code=str(fields.get("unit_code") or ""),
        form=_canonical_form(str(fields.get("form") or "")),
        period=_normalized_or_raw_period(fields.get("period")),
        raw_sha256=raw_sha256,
        raw_path=raw_path,
        received_at=received_at,
        claimed_at=_parse_timestamp(fields.get("submitted_at")),
        api_version=_int_or_none(fields.get("version")),
        filename=str(filename) if filename else None,
        api_values=values if isinstance(values, dict) else None,
    )


def poll_api(
    base_url: str,
    token: str,
    *,
    cursor: str | None,
    raw_dir: str | os.PathLike[str],
    partition: str,
    session: requests.Session | None = None,
    max_pages: int = 50,
    limit: int = 100,
    seen: Seen | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
    max_item_bytes: int = DEFAULT_API_MAX_ITEM_BYTES,
    max_page_bytes: int = DEFAULT_API_MAX_PAGE_BYTES,
) -> PollResult:
    """Fetch new items of the reporting API from ``cursor`` on, storing each raw.

    Each item's JSON (and its workbook, if it carries one) is in the raw store
    before the item is returned, and ``next_cursor`` only moves past a page once
    all its items are stored. The caller records ``received`` and only then
    persists ``next_cursor`` (:class:`CursorStore`); a crash in between re-reads
    those pages next time, which the raw store and the warehouse keys absorb.
    If a page keeps failing, :class:`ApiError` is raised with ``.partial`` set
    to what was stored before it, its cursor pointing at the failing page.

    Every attempt at a page must be complete within ``timeout`` seconds of wall
    clock, however slowly the server sends (with a caller's ``session`` the
    deadline is checked between reads only). A response is read in chunks to a
    temp file and may hold at most ``max_page_bytes``; a larger page is asked
    for again one item at a time, and one item may take what a workbook of
    ``max_item_bytes`` needs. An item whose workbook is larger still is stored
    raw and comes back in ``rejected``, so the feed goes on past it.
    """
    retry = retry or RetryPolicy()
    already_seen = _seen_fn(seen, CHANNEL_API)
    received_at = _as_naive_utc(now) if now else utc_now()
    store = RawStore(raw_dir)
    area = f"returns/{CHANNEL_API}"
    spool_dir = Path(raw_dir)  # same disk as the raw store; nothing is left behind
    if "://" not in base_url:
        base_url = reporting_api_base_url(base_url)
    url = base_url.rstrip("/") + "/api/v1/returns"
    single_item_cap = api_item_budget(max_item_bytes)
    result = PollResult(next_cursor=cursor)
    seen_in_poll: set[tuple[str, str]] = set()
    watch: _Watch | None = None
    own_session = session is None
    if session is None:
        active, watch = _watched_session()
    else:
        active = session
    try:
        while result.pages < max_pages:
            params: dict[str, Any] = {"limit": limit}
            if result.next_cursor:
                params["cursor"] = result.next_cursor
            try:
                page = _get_page_within_cap(
                    active,
                    url,
                    params=params,
                    token=token,
                    timeout=timeout,
                    retry=retry,
                    sleep=sleep,
                    page_cap=max(max_page_bytes, single_item_cap),
                    item_cap=single_item_cap,
                    spool_dir=spool_dir,
                    watch=watch,
                )
            except ApiError as exc:
                exc.partial = result
                raise
            result.pages += 1
            for item in page["items"]:
                key = _dedup_key(item)
                if key is not None and key in seen_in_poll:
                    result.duplicates += 1
                    continue
                if key is not None:
                    seen_in_poll.add(key)
                payload = _canonical_json(item)
                sha256 = hashlib.sha256(payload).hexdigest()
                if already_seen is not None and already_seen(_source_uri(item, sha256), sha256):
                    result.skipped += 1  # known: not even stored again in this partition
                    continue
                workbook_bytes = _workbook_size(item)
                if workbook_bytes > max_item_bytes:
                    received = _store_item(
                        store, item, payload, area, partition, received_at, keep_workbook=False
                    )
                    result.rejected.append(
                        QuarantineRecord(
                            received,
                            TOO_LARGE,
                            f"附带的工作簿过大（{workbook_bytes} 字节，上限 {max_item_bytes}）/ "
                            f"the item's workbook is {workbook_bytes} bytes, more than the "
                            f"{max_item_bytes} allowed (HUIZONG_API_MAX_ITEM_MIB): no FL-01 "
                            "workbook is this large; ask the unit to resubmit the form itself",
                        )
                    )
                    continue
                result.received.append(
                    _store_item(store, item, payload, area, partition, received_at)
                )
            next_cursor = page.get("next_cursor")
            has_more = page.get("has_more")
            if next_cursor not in (None, ""):
                result.next_cursor = str(next_cursor)
            if (
                has_more is False
                or next_cursor in (None, "")
                or (has_more is None and not page["items"])
            ):
                result.exhausted = True
                break
    finally:
        if own_session:
            active.close()
    return result


def _get_page_within_cap(
    session: requests.Session,
    url: str,
    *,
    params: dict[str, Any],
    page_cap: int,
    item_cap: int,
    **kwargs: Any,
) -> dict[str, Any]:
    """A page within ``page_cap`` bytes; a larger one again as a single item within ``item_cap``."""
    try:
        return _get_page(session, url, params=params, cap=page_cap, **kwargs)
    except _ResponseTooLarge as too_large:
        if params.get("limit", 1) > 1:
            log.warning(
                "reporting API page at cursor %s is larger than %d bytes; reading it item by item",
                params.get("cursor") or "start",
                page_cap,
            )
            return _get_page_within_cap(
                session,
                url,
                params={**params, "limit": 1},
                page_cap=item_cap,
                item_cap=item_cap,
                **kwargs,
            )
        raise ApiError(
            f"{url} (cursor {params.get('cursor') or 'start'}): one item of the reporting API "
            f"is {too_large.size} bytes or more, more than the {item_cap} a workbook of the "
            "allowed size needs: it was not read. Ask the reporting system's operators to "
            "remove or fix the item, or raise HUIZONG_API_MAX_ITEM_MIB if such workbooks are "
            "expected"
        ) from None


def _workbook_size(item: Any) -> int:
    encoded = item.get("workbook_b64") if isinstance(item, dict) else None
    if not isinstance(encoded, str):
        return 0
    return len(encoded) * 3 // 4


def _dedup_key(item: Any) -> tuple[str, str] | None:
    if not isinstance(item, dict) or item.get("id") in (None, ""):
        return None
    return str(item["id"]), str(item.get("version"))


def _store_item(
    store: RawStore,
    item: Any,
    payload: bytes,
    area: str,
    partition: str,
    received_at: datetime,
    *,
    keep_workbook: bool = True,
) -> ReceivedReturn:
    fields: Mapping[str, Any] = item if isinstance(item, dict) else {}
    workbook = _decode_workbook(fields) if keep_workbook else None
    workbook_sha: str | None = None
    if workbook is not None:
        stored_workbook = store.put(
            workbook,
            area=area,
            partition=partition,
            suffix=_workbook_suffix(workbook, fields.get("workbook_filename")),
            meta={
                "channel": CHANNEL_API,
                "item_id": fields.get("id"),
                "version": fields.get("version"),
                "role": "workbook",
                "filename": fields.get("workbook_filename"),
            },
        )
        workbook_sha = stored_workbook.sha256
    stored = store.put(
        payload,
        area=area,
        partition=partition,
        suffix=".item.json",
        meta={
            "channel": CHANNEL_API,
            "item_id": fields.get("id"),
            "version": fields.get("version"),
            "role": "item",
            "workbook_sha256": workbook_sha,
            "received_at": received_at.isoformat(),
        },
    )
    return _received_from_item(item, stored.sha256, str(stored.path), received_at)


# =============================================================================== triage


@dataclass
class _Reading:
    """What a received return says about itself, whichever channel it came by."""

    declared_unit_code: str | None
    unit_name: str | None
    form: str | None
    period: str | None
    rows: dict[str, dict[str, Any]]
    cells: dict[str, dict[str, str | None]] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    reported_on: str | None = None


class _Unreadable(Exception):
    pass


def _problem_dict(problem: Any) -> dict[str, Any]:
    if isinstance(problem, dict):
        return dict(problem)
    if hasattr(problem, "to_json_dict"):
        return problem.to_json_dict()
    return {
        key: getattr(problem, key, None) for key in ("row", "column", "cell", "value", "message")
    }


def _cells_from_problems(
    problems: Sequence[dict[str, Any]], sheet: str | None
) -> dict[str, dict[str, str | None]]:
    # The parser names cells only where something is wrong; those are the cells
    # a reviewer has to find, so they are the ones worth carrying.
    cells: dict[str, dict[str, str | None]] = {}
    for problem in problems:
        row, column, cell = problem.get("row"), problem.get("column"), problem.get("cell")
        if not row or column not in VALUE_COLUMNS or not cell:
            continue
        ref = str(cell)
        if sheet and "!" not in ref:
            ref = f"{sheet}!{ref}"
        cells.setdefault(str(row), {})[str(column)] = ref
    return cells


def _reading_from_parsed(parsed: Any) -> _Reading:
    problems = [_problem_dict(p) for p in getattr(parsed, "problems", [])]
    reported_on = getattr(parsed, "reported_on", None)
    rows_cells = getattr(parsed, "cells", None)
    cells = (
        {code: dict(cols) for code, cols in rows_cells.items()}
        if isinstance(rows_cells, dict)
        else _cells_from_problems(problems, getattr(parsed, "sheet", None))
    )
    return _Reading(
        declared_unit_code=getattr(parsed, "unit_code", None),
        unit_name=getattr(parsed, "unit_name", None),
        form=getattr(parsed, "form", None),
        period=getattr(parsed, "period", None),
        rows={code: dict(values) for code, values in parsed.rows.items()},
        cells=cells,
        problems=problems,
        reported_on=reported_on.isoformat() if hasattr(reported_on, "isoformat") else reported_on,
    )


def _parse_workbook(source: Path | bytes, filename: str | None) -> _Reading:
    from huizong.returns.parse import ReturnFileError, parse_return

    try:
        parsed = parse_return(source, filename=filename)
    except ReturnFileError as exc:
        raise _Unreadable(exc.message) from exc
    return _reading_from_parsed(parsed)


def rows_from_api_values(
    values: Mapping[str, Any], form: str
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Rows and problems for an API item's values by 代码, by the parser's value rules."""
    catalog = indicators(form)
    rows: dict[str, dict[str, Any]] = {}
    problems: list[dict[str, Any]] = []

    def problem(row: str | None, column: str | None, value: Any, message: str) -> None:
        shown = None if value is None else str(value)
        problems.append(
            {"row": row, "column": column, "cell": None, "value": shown, "message": message}
        )

    for raw_code, columns in values.items():
        code = str(raw_code).strip()
        if code.isdigit() and len(code) == 1:
            code = f"0{code}"
        indicator = catalog.get(code)
        if indicator is None:
            problem(code, "code", raw_code, f"未知代码 / {form} has no row with code {raw_code!r}")
            continue
        if code in rows:
            problem(code, "code", raw_code, f"代码重复 / row code {code} appears twice")
            continue
        if not isinstance(columns, Mapping):
            problem(
                code,
                "code",
                columns,
                f"代码 {code} 的数值格式错误 / values of row {code} must be an object with "
                "current, ytd and last_year",
            )
            continue
        row: dict[str, Any] = dict.fromkeys(VALUE_COLUMNS)
        for column, raw in columns.items():
            if column not in VALUE_COLUMNS:
                problem(code, str(column), raw, f"未知列 / unknown column {column!r}")
                continue
            parsed = parse_value(raw, money=indicator.is_money, indicator_unit=indicator.unit)
            row[column] = parsed.value
            if parsed.problem:
                problem(code, column, raw, parsed.problem)
        rows[code] = row
    return rows, problems


def _read_api_item(received: ReceivedReturn) -> _Reading:
    try:
        item = json.loads(Path(received.raw_path).read_bytes())
    except (OSError, ValueError) as exc:
        raise _Unreadable(f"原始数据无法读取 / raw API item cannot be read: {exc}") from exc
    if not isinstance(item, dict):
        raise _Unreadable("接口数据不是对象 / the API item is not a JSON object")
    refused = item.get("workbook_error")
    if refused:
        # The reporting system could not (or would not) send the workbook this item
        # names; what it would have said about itself is unknown, so nothing is loaded.
        raise _Unreadable(
            f"报送系统未能提供附带的工作簿 / the reporting system did not send this item's "
            f"workbook: {str(refused)[:300]}; ask the unit to resubmit the return"
        )
    form = _canonical_form(str(item.get("form") or received.form or ""))
    workbook_reading: _Reading | None = None
    workbook_problem: str | None = None
    if item.get("workbook_b64"):
        workbook = _decode_workbook(item)
        if workbook is None:
            workbook_problem = "附带的工作簿不是有效的base64 / workbook_b64 is not valid base64"
        else:
            try:
                workbook_reading = _parse_workbook(workbook, received.filename or "workbook.xlsx")
            except _Unreadable as exc:
                workbook_problem = (
                    f"附带的工作簿无法读取 / the attached workbook is unreadable: {exc}"
                )
    values = item.get("values")
    if isinstance(values, dict) and values:
        rows, problems = rows_from_api_values(values, form)
        cells: dict[str, dict[str, str | None]] = {}
    elif workbook_reading is not None:
        rows, problems, cells = (
            workbook_reading.rows,
            workbook_reading.problems,
            workbook_reading.cells,
        )
    else:
        raise _Unreadable(
            workbook_problem
            or "接口数据既无数值也无工作簿 / the API item carries neither values nor a workbook"
        )
    if workbook_problem:
        problems.append(
            {"row": None, "column": None, "cell": None, "value": None, "message": workbook_problem}
        )
    return _Reading(
        # The item's unit is the account; only an attached workbook declares one of its own.
        declared_unit_code=workbook_reading.declared_unit_code if workbook_reading else None,
        unit_name=str(item.get("unit_name"))
        if item.get("unit_name")
        else (workbook_reading.unit_name if workbook_reading else None),
        form=workbook_reading.form if workbook_reading else None,
        period=workbook_reading.period if workbook_reading else None,
        rows=rows,
        cells=cells,
        problems=problems,
        reported_on=workbook_reading.reported_on if workbook_reading else None,
    )


def triage(
    received: ReceivedReturn, *, as_of: date | None = None
) -> StagedSubmission | QuarantineRecord:
    """Stage a received return, or quarantine it when its identity is in doubt.

    Quarantined (never loaded): unreadable files, a workbook declaring another
    unit than the account that submitted it, an unknown form, a period missing,
    unreadable or differing from the folder's / item's, and a period that has
    not begun by ``as_of`` (today in China). Cell problems do not quarantine.
    """
    as_of = as_of or china_today()

    def hold(reason: str, detail: str, declared: str | None = None) -> QuarantineRecord:
        return QuarantineRecord(received, reason, detail, declared_unit_code=declared)

    if not _UNIT_CODE.match(received.submitted_unit_code or ""):
        return hold(
            UNKNOWN_UNIT,
            f"报送账户“{received.submitted_unit_code}”不是12位单位代码 / the submitting account "
            f"{received.submitted_unit_code!r} is not a 12-digit unit code, so nobody can vouch "
            "for this return: resubmit it from the unit's own folder or account",
        )
    form = _canonical_form(received.form or "")
    if form not in known_forms():
        return hold(
            UNKNOWN_FORM,
            f"未知报表“{received.form}” / unknown form {received.form!r}: known forms are "
            f"{', '.join(sorted(known_forms()))}",
        )
    if not Path(received.raw_path).is_file():
        return hold(
            RAW_MISSING,
            f"原始文件缺失 / the raw copy {received.raw_path} is missing: restore it from backup",
        )
    try:
        reading = (
            _read_api_item(received)
            if received.channel == CHANNEL_API
            else _parse_workbook(Path(received.raw_path), received.filename)
        )
    except _Unreadable as exc:
        return hold(UNREADABLE, str(exc))

    declared_unit = reading.declared_unit_code
    if declared_unit and declared_unit != received.submitted_unit_code:
        return hold(
            UNIT_MISMATCH,
            f"表内单位代码 {declared_unit} 与报送单位 {received.submitted_unit_code} 不一致 / "
            f"the workbook declares unit {declared_unit} but was submitted by "
            f"{received.submitted_unit_code}: a unit may only report for itself; the unit must "
            "correct the workbook or submit it from the right account",
            declared=declared_unit,
        )
    if reading.form and _canonical_form(reading.form) != form:
        return hold(
            FORM_MISMATCH,
            f"表内报表为 {reading.form}，报送目录为 {form} / the workbook is form "
            f"{reading.form} but was submitted as {form}",
            declared=declared_unit,
        )
    try:
        expected_period = normalize_period(received.period) if received.period else None
    except PeriodError:
        expected_period = None
    if expected_period is None:
        return hold(
            UNKNOWN_PERIOD,
            f"报送的统计期“{received.period}”无法识别 / the submitted period "
            f"{received.period!r} is not a period: expected e.g. 2024Q4, 2024 or 2024-10",
            declared=declared_unit,
        )
    declared_period = _normalized_or_none(reading.period)
    if declared_period is not None and declared_period != expected_period:
        return hold(
            PERIOD_MISMATCH,
            f"表内统计期 {declared_period} 与报送的统计期 {expected_period} 不一致 / the workbook "
            f"reports period {declared_period} but was submitted for {expected_period}: "
            "correct the workbook or submit it under the right period",
            declared=declared_unit,
        )
    if period_start(expected_period) > as_of:
        return hold(
            FUTURE_PERIOD,
            f"统计期 {expected_period} 尚未开始 / period {expected_period} has not begun "
            f"(today is {as_of.isoformat()}): check the year and quarter",
            declared=declared_unit,
        )
    if not any(
        value is not None for columns in reading.rows.values() for value in columns.values()
    ):
        # Nothing to load and nothing to check: most likely a broken file that
        # still parsed, so the unit must look at it rather than be told "all blank".
        return hold(
            EMPTY_RETURN,
            "报表中没有可读取的数字 / no figure in this return could be read: check that the "
            "file is the filled-in FL-01 table (not a template or a damaged copy); a true zero "
            "must be entered as 0",
            declared=declared_unit,
        )
    return StagedSubmission(
        received=received,
        unit_code=received.submitted_unit_code,
        unit_name=reading.unit_name,
        form=form,
        period=expected_period,
        rows=reading.rows,
        cells=reading.cells,
        problems=reading.problems,
        reported_on=reading.reported_on,
    )


def _normalized_or_none(period: str | None) -> str | None:
    if not period:
        return None
    try:
        return normalize_period(period)
    except PeriodError:
        return None


# =============================================================================== requeue


def _received_from_record(record: Any) -> ReceivedReturn:
    if isinstance(record, ReceivedReturn):
        return record
    if isinstance(record, QuarantineRecord):
        return record.received
    # The loader's QuarantineEntry wraps the record; a plain table row has the columns.
    inner = getattr(record, "record", None)
    if isinstance(inner, QuarantineRecord):
        return inner.received
    if isinstance(getattr(record, "received", None), ReceivedReturn):
        return record.received
    fields: Mapping[str, Any] = record if isinstance(record, Mapping) else record._mapping
    source_uri = str(fields["source_uri"])
    received_at = fields.get("received_at") or fields.get("created_at") or utc_now()
    return ReceivedReturn(
        channel=str(fields["channel"]),
        source_uri=source_uri,
        submitted_unit_code=str(fields.get("submitted_unit_code") or ""),
        form=str(fields.get("form") or ""),
        period=str(fields.get("period") or ""),
        raw_sha256=str(fields["raw_sha256"]).strip(),
        raw_path=str(fields["raw_path"]),
        received_at=received_at,
        claimed_at=fields.get("claimed_at"),
        filename=PurePosixPath(source_uri).name if fields["channel"] == CHANNEL_DROP else None,
    )


def _refresh_from_raw(received: ReceivedReturn) -> ReceivedReturn:
    """An API return rebuilt from its raw item, which carries what the table does not."""
    if received.channel != CHANNEL_API:
        return received
    item = json.loads(Path(received.raw_path).read_bytes())
    fresh = _received_from_item(item, received.raw_sha256, received.raw_path, received.received_at)
    return fresh if fresh.source_uri == received.source_uri else received


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def requeue_released(
    records: Sequence[Any], *, as_of: date | None = None
) -> list[StagedSubmission | QuarantineRecord]:
    """Triage released quarantine records again from their raw copies.

    ``records`` are what the loader's ``list_quarantine`` returns:
    :class:`QuarantineRecord` objects or rows with the quarantine table's
    columns. The raw copy must still hash to the recorded sha256; a copy that is
    missing or changed is held again (``raw_missing``) rather than trusted.
    Releasing does not override a rule: a return whose declared unit differs
    from its submitter is quarantined again, only a changed catalog, parser or
    calendar can change the outcome.
    """
    outcomes: list[StagedSubmission | QuarantineRecord] = []
    for record in records:
        received = _received_from_record(record)
        raw = Path(received.raw_path)
        try:
            intact = _sha256_of(raw) == received.raw_sha256
        except OSError:
            intact = False
        if not intact:
            outcomes.append(
                QuarantineRecord(
                    received,
                    RAW_MISSING,
                    f"原始文件缺失或已被改动 / the raw copy {raw} is missing or no longer hashes "
                    f"to {received.raw_sha256}: restore it from backup before releasing",
                )
            )
            continue
        # An unreadable item is left as it is: triage reports it with its reason.
        with contextlib.suppress(OSError, ValueError):
            received = _refresh_from_raw(received)
        outcomes.append(triage(received, as_of=as_of))
    return outcomes

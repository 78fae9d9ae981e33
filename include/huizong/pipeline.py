"""The pipeline's steps, one function per task, free of Airflow.

DAG tasks call these with what Airflow knows (batch id, partition, connection
URLs); tests and the CLI call them directly. Each step is idempotent for the
same batch: raw landing is content-addressed, staging is replaced per submission,
publishing and findings are keyed upserts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from huizong.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def prepare_warehouse(engine: Engine) -> dict[str, Any]:
    """Migrate and seed reference data when the schema is not current.

    Every task calls this, so the common case (nothing changed) only compares
    checksums: re-creating the analyst views on every task would disturb
    analysts' queries and serialize the tasks on the migration lock.
    """
    from huizong.warehouse import db, seed

    if not db.pending_migrations(engine):
        return {"migrations": 0}
    applied = db.migrate(engine)
    counts = seed.seed_all(engine)
    return {"migrations": len(applied), **counts}


# --- portal notices ---------------------------------------------------------


def list_portal_ids(portals_file: Path | None = None) -> list[str]:
    from huizong.portal.config import load_portals

    return [p.id for p in load_portals(portals_file)]


@dataclass
class PortalRunSummary:
    portal_id: str
    list_pages: int = 0
    pages_fetched: int = 0
    pages_unchanged: int = 0
    pages_extracted: int = 0
    statistics: int = 0
    notices: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    # Articles the crawl may have missed (a list page without links, pagination
    # that ended before the count the site prints) or cut at max_bytes.
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PortalUnreachableError(RuntimeError):
    """A portal gave no page at all because every fetch failed.

    Raised so the task fails: Airflow retries it and the engineers are alerted,
    instead of a green run that staged nothing. A crawl that got some pages
    and lost others succeeds, with the errors as warnings in its summary.
    """


def crawl_and_stage_portal(
    engine: Engine,
    portal_id: str,
    *,
    batch_id: str,
    partition: str,
    settings: Settings | None = None,
) -> PortalRunSummary:
    """Crawl one portal, keep every response raw, extract statistics, stage them."""
    from huizong.portal.config import load_portals
    from huizong.portal.crawl import crawl_portal
    from huizong.portal.extract import extract_page
    from huizong.portal.fetch import JsonFileStateStore
    from huizong.portal.rawstore import RawPageStore
    from huizong.warehouse import load

    settings = settings or get_settings()
    portal = next((p for p in load_portals(settings.portals_file) if p.id == portal_id), None)
    if portal is None:
        raise KeyError(f"portal {portal_id!r} is not configured")
    raw_store = RawPageStore(settings.raw_dir)
    state_store = JsonFileStateStore(settings.data_dir / "state" / f"portal_{portal_id}.json")
    result = crawl_portal(
        portal, partition=partition, raw_store=raw_store, state_store=state_store
    )
    summary = PortalRunSummary(
        portal_id=portal_id, list_pages=len(result.list_pages), warnings=list(result.warnings)
    )
    summary.errors = [
        {"url": e.url, "reason": e.reason, "status": str(e.status or "")} for e in result.errors
    ]
    if result.errors and not result.pages:
        first = summary.errors[0]
        raise PortalUnreachableError(
            f"portal {portal_id}: no page could be fetched ({len(result.errors)} error(s), "
            f"{len(result.list_pages)} list page(s) read); first: {first['url']} — "
            f"{first['reason']}"
        )
    load.record_raw_pages(engine, result.pages)
    extractions = []
    for page in result.pages:
        summary.pages_fetched += 1
        if page.unchanged:
            summary.pages_unchanged += 1
        try:
            article = page.article
            extraction = extract_page(
                page.html,
                is_html=True,
                default_org=_page_org_name(page, portal),
                url=page.url,
                selector=portal.main_text_selector,
                published=article.published if article is not None else None,
            )
            if article is not None and article.title:
                # The crawler read the title from the page's structure (configured
                # selector, metadata, the heading that matches the list link),
                # which the text alone cannot tell from a site name or byline.
                extraction = replace(
                    extraction, notice=replace(extraction.notice, title=article.title)
                )
        except Exception as exc:  # one bad page must not stop the others
            log.exception("extraction failed for %s", page.url)
            summary.errors.append({"url": page.url, "reason": f"extraction failed: {exc}"})
            continue
        extractions.append((page, extraction))
        summary.pages_extracted += 1
        summary.statistics += len(extraction.statistics)
    summary.notices = len(extractions)
    load.stage_notices(engine, batch_id, extractions)
    for err in summary.errors:
        log.warning("portal %s: %s — %s", portal_id, err["url"], err["reason"])
    log.info(
        "portal %s: %d list page(s), %d article page(s) (%d unchanged), %d extracted, "
        "%d statistic(s) staged in batch %s; %d error(s)",
        portal_id, summary.list_pages, summary.pages_fetched, summary.pages_unchanged,
        summary.pages_extracted, summary.statistics, batch_id, len(summary.errors),
    )
    return summary


def _page_org_name(page: Any, portal: Any) -> str | None:
    # A list page may belong to another organisation than the portal's owner.
    org = getattr(page, "org", None) or getattr(portal, "org", None)
    return getattr(org, "name", None)


# --- submitted returns ------------------------------------------------------


@dataclass
class IntakeSummary:
    channel: str
    received: int = 0
    staged: int = 0
    quarantined: int = 0
    skipped: int = 0
    quarantine_reasons: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Returns per transaction when staging: bounds memory for a 10,000-unit batch.
STAGE_CHUNK = 500


def _triage_and_stage(
    engine: Engine, items: Iterable, *, batch_id: str, channel: str
) -> IntakeSummary:
    """Received returns (and scan rejects) land raw, are triaged and staged, chunk by chunk."""
    from huizong.returns.intake import triage
    from huizong.returns.model import QuarantineRecord
    from huizong.warehouse import load

    def outcomes():
        for chunk in _unit_chunks(items, STAGE_CHUNK):
            received = [i for i in chunk if not isinstance(i, QuarantineRecord)]
            rejected = [i for i in chunk if isinstance(i, QuarantineRecord)]
            load.record_raw_returns(engine, received + [r.received for r in rejected])
            # A rerun lands the same bytes at a later clock: the first receipt counts.
            first = load.first_received(engine, received + [r.received for r in rejected])
            received = [_as_first_received(r, first) for r in received]
            rejected = [
                replace(q, received=_as_first_received(q.received, first)) for q in rejected
            ]
            yield [triage(item) for item in received] + rejected

    return _stage_outcomes(engine, outcomes(), batch_id=batch_id, channel=channel)


def _as_first_received(received: Any, first: dict) -> Any:
    at = first.get((received.raw_sha256, received.channel, received.source_uri))
    if at is None:
        return received
    if received.received_at is not None and received.received_at.tzinfo is not None:
        at = at.replace(tzinfo=UTC)
    return replace(received, received_at=at)


def _stage_outcomes(
    engine: Engine, chunks: Iterable[list], *, batch_id: str, channel: str
) -> IntakeSummary:
    from huizong.returns.model import QuarantineRecord
    from huizong.warehouse import load

    summary = IntakeSummary(channel=channel)
    for chunk in chunks:
        outcomes = [_hold_if_approved(engine, o) for o in chunk]
        held = [o for o in outcomes if isinstance(o, QuarantineRecord)]
        staged = [o for o in outcomes if not isinstance(o, QuarantineRecord)]
        load.quarantine(engine, held)
        summary.staged += load.stage_returns(engine, batch_id, staged)
        load.supersede_held(engine, staged)
        summary.received += len(outcomes)
        summary.quarantined += len(held)
        summary.quarantine_reasons += [
            {"source": q.received.source_uri, "reason": q.reason, "detail": q.detail}
            for q in held
        ]
    return summary


def _unit_chunks(items: Iterable, size: int) -> Iterator[list]:
    # Cut only between submitting units: versions are assigned over a unit's
    # whole (unit, form, period) history at once.
    chunk: list = []
    for item in items:
        if len(chunk) >= size and _submitter(item) != _submitter(chunk[-1]):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


def _submitter(item: Any) -> str:
    received = getattr(item, "received", item)
    return received.submitted_unit_code


def _hold_if_approved(engine: Engine, outcome: Any) -> Any:
    """An approved return is locked: a resubmission waits until the approval is withdrawn."""
    from huizong.returns.model import QuarantineRecord
    from huizong.web.queries import is_locked

    if isinstance(outcome, QuarantineRecord):
        return outcome
    if not is_locked(engine, outcome.unit_code, outcome.form, outcome.period):
        return outcome
    if _already_staged(engine, outcome.submission_id):
        return outcome  # the approved version itself, seen again on a rerun
    return QuarantineRecord(
        received=outcome.received,
        reason="locked",
        detail=(
            f"{outcome.unit_code} {outcome.form} {outcome.period} 已由上级审核通过并锁定；"
            "如需更正，请上级撤回审核后重新报送。 / The return for this period is approved "
            "and locked; ask the parent federation to withdraw the approval, then resubmit."
        ),
        declared_unit_code=outcome.unit_code,
    )


def _already_staged(engine: Engine, submission_id: str) -> bool:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return (
            conn.execute(
                sa.text("SELECT 1 FROM return_submission WHERE submission_id = :s"),
                {"s": submission_id},
            ).first()
            is not None
        )


def receive_drop_folder(
    engine: Engine,
    root: Any,
    *,
    batch_id: str,
    partition: str,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> IntakeSummary:
    """New and changed files under ``<root>/<unit>/<form>/<period>/`` into staging.

    A file changed less than ``HUIZONG_DROP_SETTLE_SECONDS`` (default 30) ago is
    left for the next run: it may still be being copied. ``now`` is the
    platform's clock (default: the real one).
    """
    from huizong.returns.intake import (
        ScanResult,
        drop_settle_seconds_from_env,
        iter_drop_folder,
        log_ignored,
    )
    from huizong.warehouse import load

    settings = settings or get_settings()
    if isinstance(root, Path):
        # The embedded default folder may simply not exist yet; a configured
        # remote root that is missing must fail loudly (an unmounted share).
        root.mkdir(parents=True, exist_ok=True)
    seen = load.raw_return_seen(engine)
    notes = ScanResult()
    items = iter_drop_folder(
        root,
        notes,
        raw_dir=settings.raw_dir,
        partition=partition,
        seen=seen,
        settle_seconds=drop_settle_seconds_from_env(),
        now=now,
    )
    summary = _triage_and_stage(engine, items, batch_id=f"{batch_id}__drop", channel="drop")
    summary.skipped = notes.skipped + len(notes.ignored)
    log_ignored(notes)
    return summary


def receive_reporting_api(
    engine: Engine,
    base_url: str,
    token: str,
    *,
    batch_id: str,
    partition: str,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> IntakeSummary:
    """Poll the reporting system from the stored cursor; advance it only after staging."""
    from huizong.returns.intake import JsonFileCursorStore, api_max_item_bytes_from_env, poll_api

    settings = settings or get_settings()
    cursor_store = JsonFileCursorStore(settings.data_dir / "state" / "reporting_api_cursor.json")
    polled = poll_api(
        base_url,
        token,
        cursor=cursor_store.get(),
        raw_dir=settings.raw_dir,
        partition=partition,
        max_item_bytes=api_max_item_bytes_from_env(),
        now=now,
    )
    summary = _triage_and_stage(
        engine, [*polled.received, *polled.rejected], batch_id=f"{batch_id}__api", channel="api"
    )
    cursor_store.put(polled.next_cursor)
    return summary


def requeue_released(engine: Engine, *, batch_id: str) -> IntakeSummary:
    """Returns an engineer released from quarantine go through triage again."""
    from huizong.returns.intake import requeue_released as retriage
    from huizong.warehouse import load

    released = load.list_quarantine(engine, status="released")
    outcomes = retriage(released)
    # Marked before staging: one that fails triage again goes back to "held".
    load.mark_requeued(engine, [entry.quarantine_id for entry in released])
    return _stage_outcomes(
        engine, [outcomes], batch_id=f"{batch_id}__requeue", channel="requeue"
    )


# --- checks, publish, alerts ------------------------------------------------


@dataclass
class AuditSummary:
    staged_submissions: int
    gx_success: bool
    data_docs: str | None
    findings_new: int
    findings_open: int
    findings_resolved: int
    blocked_submission_ids: list[str]
    warned_submission_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def audit_staged(engine: Engine, *, settings: Settings | None = None) -> AuditSummary:
    """Great Expectations suites and the form's rules over everything staged."""
    from huizong.quality import findings as findings_store
    from huizong.quality.gx_runner import validate_staged
    from huizong.quality.rules import (
        check_staged,
        link_notice_deadlines,
        load_staged_values,
        staged_scope,
    )

    settings = settings or get_settings()
    link_notice_deadlines(engine)
    scope = staged_scope(engine)
    # Read the staged rows once: both GX and the rules work from the same frame
    # (neither mutates it), and on a large batch the read is several seconds.
    staged = load_staged_values(engine)
    gx = validate_staged(
        engine, suite_dir=expectations_dir(), docs_dir=settings.docs_dir, staged_raw=staged
    )
    found = list(gx.findings) + check_staged(engine, staged_raw=staged)
    delta = findings_store.record(engine, found, seen_at=_now(), scope=scope)
    blocked = set(findings_store.blocking_submission_ids(found)) | set(gx.failed_submission_ids)
    warned = set(findings_store.warned_submission_ids(found)) - blocked
    return AuditSummary(
        staged_submissions=len({s for s in scope}),
        gx_success=gx.success,
        data_docs=str(gx.docs_index_path) if gx.docs_index_path else None,
        findings_new=len(delta.new),
        findings_open=len(delta.still_open),
        findings_resolved=len(delta.resolved),
        blocked_submission_ids=sorted(blocked),
        warned_submission_ids=sorted(warned),
    )


def publish_staged(
    engine: Engine, *, blocked: Iterable[str] = (), warned: Iterable[str] = ()
) -> dict[str, Any]:
    from huizong.warehouse import load

    result = load.publish(
        engine,
        blocked_submission_ids=frozenset(blocked),
        warned_submission_ids=frozenset(warned),
    )
    return result.to_dict() if hasattr(result, "to_dict") else dict(vars(result))


def check_completeness(engine: Engine, *, as_of: date) -> dict[str, Any]:
    from huizong.quality import findings as findings_store
    from huizong.quality.rules import check_completeness as completeness
    from huizong.quality.rules import check_notice_vs_return

    # Notice figures are compared with what is published, so this runs after
    # publishing: the audit before it sees only the previous state.
    found = completeness(engine, as_of=as_of) + check_notice_vs_return(engine)
    # The whole scope checked, not just where problems remain: a child that has
    # reported since must resolve its "missing" finding.
    delta = findings_store.record(engine, list(found), seen_at=_now(), scope=found.scope)
    return {"findings": len(found), "new": len(delta.new), "resolved": len(delta.resolved)}


def alert_officials(engine: Engine, *, run_id: str) -> dict[str, Any]:
    from huizong.alerts.digest import build_digests
    from huizong.alerts.transport import deliver, transport_from_env

    digests = build_digests(engine, run_id=run_id)
    # deliver() goes on past a failed recipient, records each one sent, then
    # raises so the task retries only the failures.
    deliver(digests, transport_from_env(), engine=engine)
    return {"digests": len(digests), "recipients": [d.recipient for d in digests]}


def expectations_dir() -> Path:
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "expectations", here.parent / "expectations"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("expectations/ not found next to the huizong package")

"""What an official can do: explain a warning, approve or withdraw a child's return.

Each action checks its rules, writes its row and its audit row in one
transaction, and raises :class:`ActionRefused` (with a Chinese reason the page
shows) when a rule says no. The rules:

* explain: only the unit's own official, only an open *warning* (an error
  cannot be explained away);
* approve: only the direct parent's official, only a received return with no
  open errors, and a unit that has children only once every child is approved
  (DHIS2's bottom-up approval);
* withdraw: only the direct parent's official, with a reason, and not while
  the parent's own return is approved (that approval rests on this one).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from huizong.web import queries
from huizong.web.auth import Session

MAX_TEXT = 2000


class ActionRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _audit(conn, *, action: str, session: Session, unit_code: str, form: str, period: str,
           finding_id: str | None = None, approval_id: str | None = None,
           detail: str | None = None, at: datetime) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO web_audit (audit_id, action, unit_code, form, period, finding_id, "
            "approval_id, actor_email, actor_unit_code, link_id, detail, created_at) VALUES "
            "(:aid, :action, :unit, :form, :period, :finding, :approval, :email, :actor_unit, "
            ":link, :detail, :at)"
        ),
        {
            "aid": secrets.token_hex(16),
            "action": action,
            "unit": unit_code,
            "form": form,
            "period": period,
            "finding": finding_id,
            "approval": approval_id,
            "email": session.email,
            "actor_unit": session.unit_code,
            "link": session.link_id,
            "detail": detail,
            "at": at,
        },
    )


def _clean_text(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(f"请填写{what}")
    if len(text) > MAX_TEXT:
        raise ActionRefused(f"{what}不能超过{MAX_TEXT}字")
    return text


def explain(engine: Engine, session: Session, finding_id: str, text: str | None) -> str:
    """Attach the unit's explanation (上报说明) to one of its open warnings."""
    explanation = _clean_text(text, "说明")
    with engine.begin() as conn:
        found = conn.execute(
            sa.text(
                "SELECT unit_code, form, period, severity, resolved_at, submission_id "
                "FROM finding WHERE finding_id = :fid"
            ),
            {"fid": finding_id},
        ).first()
        if found is None:
            raise ActionRefused("没有这条问题")
        unit_code = str(found.unit_code).strip()
        if session.is_engineer or session.unit_code != unit_code:
            raise ActionRefused("只有本单位可以对本单位的问题作出说明")
        if found.severity != "warn":
            raise ActionRefused("错误不能以说明代替更正，请修改后重新报送")
        if found.resolved_at is not None:
            raise ActionRefused("这条问题已经解决，无需说明")
        explanation_id = secrets.token_hex(16)
        at = _now()
        conn.execute(
            sa.text(
                "INSERT INTO web_explanation (explanation_id, finding_id, unit_code, form, "
                "period, submission_id, explanation, actor_email, actor_unit_code, link_id, "
                "created_at) VALUES (:eid, :fid, :unit, :form, :period, :sid, :text, :email, "
                ":actor_unit, :link, :at)"
            ),
            {
                "eid": explanation_id,
                "fid": finding_id,
                "unit": unit_code,
                "form": found.form,
                "period": found.period,
                "sid": found.submission_id,
                "text": explanation,
                "email": session.email,
                "actor_unit": session.unit_code,
                "link": session.link_id,
                "at": at,
            },
        )
        _audit(conn, action="explain", session=session, unit_code=unit_code, form=found.form,
               period=found.period, finding_id=finding_id, detail=explanation, at=at)
    return explanation_id


def approval_blockers(engine: Engine, session: Session, unit_code: str, form: str,
                      period: str) -> list[str]:
    """Why ``session`` may not approve this return now (empty: it may)."""
    target = queries.unit(engine, unit_code)
    if target is None:
        return ["没有这个单位"]
    reasons: list[str] = []
    parent = (target["parent_code"] or "").strip()
    if session.is_engineer or session.unit_code != parent:
        return ["只有直属上级妇联可以审核本单位的报表"]
    if queries.active_approval(engine, unit_code, form, period) is not None:
        return ["已经审核"]
    if queries.year_quarters(engine, form, period):
        # Intake locks what is approved per period returned: the quarters, not the year.
        return ["本报表按季度报送，请在各季度的页面分别审核"]
    status = queries.unit_status(engine, unit_code, form, period)
    if status is None or status.latest_status is None:
        reasons.append("尚未收到本期报表")
    elif status.open_errors:
        reasons.append(f"还有{status.open_errors}个错误未更正")
    kids = queries.children(engine, unit_code)
    if kids:
        with engine.connect() as conn:
            approved = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM web_approval AS a INNER JOIN dim_org_unit AS u "
                    "ON a.unit_code = u.unit_code AND u.valid_to IS NULL "
                    "WHERE u.parent_code = :code AND a.form = :form AND a.period = :period "
                    "AND a.withdrawn_at IS NULL"
                ),
                {"code": unit_code, "form": form, "period": period},
            ).scalar_one()
        if approved < len(kids):
            reasons.append(f"下级单位还有{len(kids) - approved}个未审核（共{len(kids)}个）")
    return reasons


def approve(engine: Engine, session: Session, unit_code: str, form: str, period: str) -> str:
    """Approve a child's return for a period; locks it against resubmission."""
    blockers = approval_blockers(engine, session, unit_code, form, period)
    if blockers:
        raise ActionRefused("；".join(blockers))
    latest = next(
        (v for v in queries.unit_versions(engine, unit_code, form, period)
         if v["status"] != "superseded"),
        None,
    )
    approval_id = secrets.token_hex(16)
    at = _now()
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO web_approval (approval_id, unit_code, form, period, "
                    "submission_id, approved_by_email, approved_by_unit_code, approved_link_id, "
                    "approved_at) VALUES (:aid, :unit, :form, :period, :sid, :email, "
                    ":actor_unit, :link, :at)"
                ),
                {
                    "aid": approval_id,
                    "unit": unit_code,
                    "form": form,
                    "period": period,
                    "sid": latest["submission_id"] if latest else None,
                    "email": session.email,
                    "actor_unit": session.unit_code,
                    "link": session.link_id,
                    "at": at,
                },
            )
            _audit(conn, action="approve", session=session, unit_code=unit_code, form=form,
                   period=period, approval_id=approval_id,
                   detail=f"版本 {latest['version']}" if latest else None, at=at)
    except IntegrityError as exc:  # a concurrent approve won the unique index
        raise ActionRefused("已经审核") from exc
    return approval_id


def withdraw(engine: Engine, session: Session, unit_code: str, form: str, period: str,
             reason: str | None) -> str:
    """Withdraw the active approval; the return may be resubmitted again."""
    why = _clean_text(reason, "撤销原因")
    target = queries.unit(engine, unit_code)
    if target is None:
        raise ActionRefused("没有这个单位")
    parent = (target["parent_code"] or "").strip()
    if session.is_engineer or session.unit_code != parent:
        raise ActionRefused("只有直属上级妇联可以撤销审核")
    active = queries.active_approval(engine, unit_code, form, period)
    if active is None:
        raise ActionRefused("本期报表尚未审核")
    if queries.active_approval(engine, parent, form, period) is not None:
        raise ActionRefused("本单位的报表已被上级审核，须先由上级撤销对本单位的审核")
    at = _now()
    with engine.begin() as conn:
        updated = conn.execute(
            sa.text(
                "UPDATE web_approval SET withdrawn_by_email = :email, "
                "withdrawn_by_unit_code = :actor_unit, withdrawn_link_id = :link, "
                "withdrawn_at = :at, withdrawal_reason = :reason "
                "WHERE approval_id = :aid AND withdrawn_at IS NULL"
            ),
            {
                "email": session.email,
                "actor_unit": session.unit_code,
                "link": session.link_id,
                "at": at,
                "reason": why,
                "aid": active["approval_id"],
            },
        ).rowcount
        if updated != 1:
            raise ActionRefused("本期报表尚未审核")
        _audit(conn, action="withdraw", session=session, unit_code=unit_code, form=form,
               period=period, approval_id=active["approval_id"], detail=why, at=at)
    return str(active["approval_id"])

"""The officials' pages: see a subtree's returns, answer findings, sign off.

A FastAPI app with server-rendered Chinese HTML (Jinja2), no JavaScript and
no front-end build. It runs on its own (``huizong web``) or mounted on the
Airflow API server by ``plugins/huizong_airflow/web_plugin.py``, which serves
it without Airflow's login: every page checks the app's own signed session
(see :mod:`huizong.web.auth`) and shows nothing outside the session's subtree.
This module imports nothing from Airflow.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from huizong.textsafe import page_safe
from huizong.web import actions, present, queries, vocab
from huizong.web.auth import (
    SESSION_COOKIE,
    LinkInvalid,
    SecretMissing,
    Session,
    Signer,
    cookie_secure_from_env,
    end_session,
    engineer_session,
    is_revoked,
    session_cookie,
    session_from_cookie,
    session_from_link,
    session_is_live,
    start_session,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
TABLES = ("children", "rows", "findings", "versions", "audit")
_DONE_MESSAGES = {
    "explain": "说明已保存，上级可以看到；这条警告不再重复提醒。",
    "approve": "已审核。该报表已锁定，重新报送须先撤销审核。",
    "withdraw": "已撤销审核，报表解除锁定。",
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The Airflow UI shows the pages in an iframe of its own origin; nobody else may.
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
}


@dataclass
class WebConfig:
    """Where the app gets its engine, secret and raw directory, resolved on first use.

    Lazy so that mounting the app inside Airflow touches no database and no
    secret until someone opens a page.
    """

    engine_provider: Callable[[], Engine]
    secret_provider: Callable[[], str]
    raw_dir_provider: Callable[[], Path]
    form: str = queries.DEFAULT_FORM
    # Secure cookie even over plain HTTP, for a TLS-terminating proxy in front.
    cookie_secure: bool = field(default_factory=cookie_secure_from_env)
    _cache: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def engine(self) -> Engine:
        return self.engine_provider()

    @cached_property
    def signer(self) -> Signer:
        return Signer(self.secret_provider())

    @cached_property
    def raw_dir(self) -> Path:
        return Path(self.raw_dir_provider()).resolve()


def default_config(*, demo: bool | None = None) -> WebConfig:
    """Settings from the environment (``HUIZONG_*``), as ``huizong web`` uses them."""
    from huizong.settings import get_settings
    from huizong.warehouse.db import get_engine
    from huizong.web.auth import resolve_secret

    settings = get_settings()
    return WebConfig(
        engine_provider=lambda: get_engine(settings.warehouse_url),
        secret_provider=lambda: resolve_secret(demo=demo, data_dir=settings.data_dir),
        raw_dir_provider=lambda: settings.raw_dir,
    )


class PageError(Exception):
    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _beijing_time(value: Any) -> str:
    """A warehouse timestamp (UTC) as Beijing time, to the minute."""
    return vocab.beijing_time(value) or "—"


def create_app(
    config: WebConfig | None = None,
    *,
    install_engineer_route: Callable[[FastAPI, Callable[[Request, str], Response]], None]
    | None = None,
) -> FastAPI:
    """The app. ``install_engineer_route`` (given by the Airflow plugin) adds a route
    that signs in an Airflow user as an engineer who sees every unit."""
    cfg = config or default_config()
    app = FastAPI(title="huizong 妇联统计报表", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    # every {{ … }} on every page: submitted names and notes shown, never obeyed
    templates.env.finalize = page_safe
    templates.env.filters["num"] = _fmt
    templates.env.filters["bjtime"] = _beijing_time
    templates.env.globals["status_labels"] = vocab.STATUS_LABELS
    templates.env.globals["vocab"] = vocab
    templates.env.filters["period"] = vocab.period_label
    app.state.config = cfg

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def render(request: Request, name: str, context: dict[str, Any], status: int = 200):
        context = {"base": _base(request), **context}
        if isinstance(context.get("session"), Session):
            context.setdefault("csrf", cfg.signer.csrf_token(context["session"]))
        return templates.TemplateResponse(request, name, context, status_code=status)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError):
        return render(request, "error.html", {"title": exc.title, "detail": exc.detail},
                      exc.status)

    @app.exception_handler(SecretMissing)
    async def secret_missing(request: Request, exc: SecretMissing):
        log.error("huizong web is not configured: %s", exc)
        return render(request, "error.html",
                      {"title": "服务尚未配置", "detail": "请联系数据工程师配置签名密钥。"}, 503)

    def cookie_secure(request: Request) -> bool:
        return cfg.cookie_secure or request.url.scheme == "https"

    def set_session(request: Request, session: Session, target: str) -> Response:
        cookie = session_cookie(cfg.signer, session)
        start_session(cfg.engine, session)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=max(0, session.expires_at - int(time.time())),
            path=_base(request) or "/",
            httponly=True,
            secure=cookie_secure(request),
            samesite="lax",
        )
        return response

    def session_of(request: Request) -> Session:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise PageError(401, "请先登录", "请点击提醒邮件中的链接进入。")
        try:
            session = session_from_cookie(cfg.signer, cookie)
        except LinkInvalid as exc:
            raise PageError(401, "登录已失效", exc.reason + "。请重新点击邮件中的链接。") from exc
        if is_revoked(cfg.engine, session):
            raise PageError(401, "链接已被收回", "请向上级妇联索取新链接。")
        if not session_is_live(cfg.engine, session):
            raise PageError(401, "登录已失效", "您已退出或会话已结束。请重新点击邮件中的链接。")
        return session

    def scoped_unit(session: Session, code: str) -> dict[str, Any]:
        """The unit, if the session may see it; otherwise 404 (never say it exists)."""
        found = queries.unit(cfg.engine, code) if code.isdigit() and len(code) == 12 else None
        if found is None or not (
            session.is_engineer or queries.in_subtree(cfg.engine, session.unit_code, code)
        ):
            raise PageError(404, "没有找到", "这个单位不在您的管辖范围内，或不存在。")
        return found

    def pick_period(code: str | None, period: str | None, form: str) -> str:
        if period:
            if queries.period_info(cfg.engine, period) is None:
                raise PageError(404, "没有这个统计期", period)
            return period
        chosen = queries.latest_period(cfg.engine, code, form)
        if chosen is None:
            chosen = queries.period_info(cfg.engine, _current_quarter())["period"]
        return chosen

    def check_csrf(request: Request, session: Session, token: str | None) -> None:
        # Defence in depth: browsers mark cross-site requests; the token is the real check.
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise PageError(403, "请求被拒绝", "不接受来自其他网站的提交。")
        if not cfg.signer.check_csrf(session, token):
            raise PageError(403, "请求已失效", "页面已过期或来源不明，请刷新页面后重试。")

    async def form_fields(request: Request) -> dict[str, str]:
        data = await request.form()
        return {k: str(v) for k, v in data.items() if isinstance(v, str)}

    def nav(session: Session, code: str) -> list[dict[str, Any]]:
        """Breadcrumbs from the session's own unit down to ``code``."""
        chain = [code, *queries.ancestors(cfg.engine, code)]
        if not session.is_engineer:
            chain = chain[: chain.index(session.unit_code) + 1]
        return [queries.unit(cfg.engine, c) or {"unit_code": c, "name": c} for c in reversed(chain)]

    # --- sign-in --------------------------------------------------------------

    @app.get("/l/{token}")
    def follow_link(request: Request, token: str):
        try:
            session = session_from_link(cfg.signer, token)
        except LinkInvalid as exc:
            raise PageError(401, "链接不可用", exc.reason) from exc
        if is_revoked(cfg.engine, session):
            raise PageError(401, "链接已被收回", "请向上级妇联索取新链接。")
        if queries.unit(cfg.engine, session.unit_code) is None:
            raise PageError(404, "没有找到", "链接中的单位不存在。")
        # Redirect so the token leaves the address bar and browser history.
        return set_session(request, session, landing(request, session))

    def landing(request: Request, session: Session) -> str:
        """Where a link from a digest opens: the unit and period it names, if in scope.

        Only a unit code and a period are taken from the link, never a path: an
        unknown period or a unit outside the session's subtree opens the
        official's own subtree instead.
        """
        target = f"{_base(request)}/subtree/{session.unit_code}"
        unit_code = request.query_params.get("unit", "")
        period = request.query_params.get("period", "")
        if period and queries.period_info(cfg.engine, period) is None:
            period = ""
        query = f"?{urlencode({'period': period})}" if period else ""
        if unit_code.isdigit() and len(unit_code) == 12 and queries.in_subtree(
            cfg.engine, session.unit_code, unit_code
        ):
            anchor = "#findings" if period else ""
            return f"{_base(request)}/unit/{unit_code}{query}{anchor}"
        return target + query

    def sign_in_engineer(request: Request, user_name: str) -> Response:
        return set_session(request, engineer_session(user_name), f"{_base(request)}/")

    if install_engineer_route is not None:
        install_engineer_route(app, sign_in_engineer)

    @app.post("/signout")
    async def sign_out(request: Request):
        try:
            session = session_of(request)
        except PageError:
            session = None  # already signed out or expired: just clear the cookie
        if session is not None:
            check_csrf(request, session, (await form_fields(request)).get("csrf_token"))
            # Server-side: the cookie, and any copy of it, stops working now.
            end_session(cfg.engine, session.session_id)
        response = render(request, "error.html",
                          {"title": "已退出", "detail": "再次进入请点击邮件中的链接。"})
        response.delete_cookie(SESSION_COOKIE, path=_base(request) or "/",
                               secure=cookie_secure(request), httponly=True, samesite="lax")
        return response

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    # --- pages -----------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request):
        session = session_of(request)
        if not session.is_engineer:
            return RedirectResponse(f"{_base(request)}/subtree/{session.unit_code}", 303)
        return render(request, "home.html", {
            "session": session, "tops": queries.children(cfg.engine, None),
        })

    @app.get("/subtree/{code}", response_class=HTMLResponse)
    def subtree_page(request: Request, code: str, period: str | None = None,
                     form: str | None = None):
        session = session_of(request)
        form = form or cfg.form
        root = scoped_unit(session, code)
        period = pick_period(code, period, form)
        report = queries.subtree_report(cfg.engine, code, form, period)
        return render(request, "subtree.html", {
            "session": session, "unit": root, "report": report, "form": form,
            "period": period, "periods": queries.unit_periods(cfg.engine, code, form),
            "crumbs": nav(session, code), "query": urlencode({"period": period, "form": form}),
        })

    def unit_context(request: Request, session: Session, code: str, period: str | None,
                     form: str) -> dict[str, Any]:
        target = scoped_unit(session, code)
        period = pick_period(code, period, form)
        engine = cfg.engine
        parent = (target["parent_code"] or "").strip()
        is_parent_official = not session.is_engineer and session.unit_code == parent
        approval = queries.active_approval(engine, code, form, period)
        cons = queries.consolidation(engine, code, form, period)
        findings = present.describe(
            engine, queries.unit_findings(engine, code, form, period),
            consolidations={(code, period): cons},
        )
        return {
            "session": session,
            "unit": target,
            "form": form,
            "period": period,
            "periods": queries.unit_periods(engine, code, form),
            "crumbs": nav(session, code),
            "status": queries.unit_status(engine, code, form, period),
            "cons": cons,
            "rows": cons.rows,
            "findings": findings,
            "quarter_findings": quarter_findings(code, form, period, cons),
            "versions": queries.unit_versions(engine, code, form, period),
            "quarantine": queries.unit_quarantine(engine, code, form, period),
            "audit": queries.unit_audit(engine, code),
            "approval": approval,
            "approval_history": queries.approval_history(engine, code, form, period),
            "has_children": bool(queries.children(engine, code)),
            "is_own_unit": not session.is_engineer and session.unit_code == code,
            "is_parent_official": is_parent_official,
            "approval_blockers": (
                actions.approval_blockers(engine, session, code, form, period)
                if is_parent_official and approval is None else []
            ),
            "query": urlencode({"period": period, "form": form}),
            "done": _DONE_MESSAGES.get(request.query_params.get("done", "")),
        }

    def quarter_findings(code: str, form: str, period: str,
                         cons: queries.Consolidation) -> list[dict[str, Any]]:
        """For a year built from quarters: each quarter with its open findings, to link to."""
        out = []
        for quarter in cons.quarters:
            found = [f for f in queries.unit_findings(cfg.engine, code, form, quarter)
                     if f["resolved_at"] is None]
            if found:
                out.append({"period": quarter, "open": len(found)})
        return out

    @app.get("/unit/{code}", response_class=HTMLResponse)
    def unit_page(request: Request, code: str, period: str | None = None,
                  form: str | None = None):
        session = session_of(request)
        return render(request, "unit.html",
                      unit_context(request, session, code, period, form or cfg.form))

    def after_action(request: Request, code: str, period: str, form: str, done: str):
        query = urlencode({"period": period, "form": form, "done": done})
        return RedirectResponse(f"{_base(request)}/unit/{code}?{query}", 303)

    def refused(request: Request, session: Session, code: str, period: str, form: str,
                reason: str):
        context = unit_context(request, session, code, period, form)
        context["refused"] = reason
        return render(request, "unit.html", context, 409)

    async def unit_action(request: Request, code: str, done: str, act, *,
                          default_period: bool = True):
        """A form post on a unit page: session, CSRF, scope, then ``act``."""
        session = session_of(request)
        fields = await form_fields(request)
        check_csrf(request, session, fields.get("csrf_token"))
        scoped_unit(session, code)
        form = fields.get("form") or cfg.form
        period = (pick_period(code, fields.get("period"), form) if default_period
                  else fields.get("period") or "")
        try:
            act(session, fields, form, period)
        except actions.ActionRefused as exc:
            return refused(request, session, code, period, form, exc.reason)
        return after_action(request, code, period, form, done)

    @app.post("/unit/{code}/explain")
    async def explain(request: Request, code: str):
        def act(session: Session, fields: dict[str, str], form: str, period: str) -> None:
            finding_id = fields.get("finding_id", "")
            if not any(f["finding_id"] == finding_id
                       for f in queries.unit_findings(cfg.engine, code, form, period)):
                raise actions.ActionRefused("没有这条问题")
            actions.explain(cfg.engine, session, finding_id, fields.get("explanation"))

        # A finding belongs to the period it was shown under: no default period.
        return await unit_action(request, code, "explain", act, default_period=False)

    @app.post("/unit/{code}/approve")
    async def approve(request: Request, code: str):
        def act(session: Session, fields: dict[str, str], form: str, period: str) -> None:
            # Approving locks the return: the page asks for a ticked box (and, with
            # JavaScript, a confirm() dialog); a post without the box changes nothing.
            if fields.get("confirm") != "yes":
                raise actions.ActionRefused("审核会锁定该报表：请勾选“我已核对”后再点“审核通过”")
            actions.approve(cfg.engine, session, code, form, period)

        return await unit_action(request, code, "approve", act)

    @app.post("/unit/{code}/withdraw")
    async def withdraw(request: Request, code: str):
        def act(session: Session, fields: dict[str, str], form: str, period: str) -> None:
            actions.withdraw(cfg.engine, session, code, form, period, fields.get("reason"))

        return await unit_action(request, code, "withdraw", act)

    # --- files -----------------------------------------------------------------

    @app.get("/raw/{submission_id}")
    def raw_file(request: Request, submission_id: str):
        session = session_of(request)
        found = queries.submission(cfg.engine, submission_id)
        if found is None:
            raise PageError(404, "没有找到", "没有这份报表。")
        scoped_unit(session, str(found["unit_code"]).strip())
        path = safe_raw_path(cfg.raw_dir, str(found["raw_path"]))
        if path is None:
            log.warning("refused raw path outside the raw dir: %s", found["raw_path"])
            raise PageError(404, "没有找到", "原始文件不可用。")
        name = Path(str(found["source_uri"])).name or path.name
        return FileResponse(
            path,
            filename=name,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        )

    @app.get("/notice/{notice_id}")
    def stored_notice(request: Request, notice_id: str):
        """The copy of a notice's page the platform kept, by the notice's id only.

        A notice is public, but this serves nothing but stored pages: the id
        must be a notice's, its body a file in the raw landing. The page is
        sandboxed (no script, no forms, its own origin) so a portal's markup
        cannot act inside the officials' app.
        """
        session_of(request)
        if not re.fullmatch(r"[0-9a-f]{64}", notice_id):
            raise PageError(404, "没有找到", "没有这份通知。")
        stored = queries.stored_notice_page(cfg.engine, notice_id)
        path = safe_raw_path(cfg.raw_dir, str(stored["raw_path"])) if stored else None
        if path is None:
            raise PageError(404, "没有找到", "平台没有保存这份通知的原文。")
        charset = str(stored.get("encoding") or "utf-8")
        return FileResponse(path, media_type=f"text/html; charset={charset}", headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; "
                                       "style-src 'unsafe-inline'",
        })

    def table(session: Session, code: str, name: str, period: str,
              form: str) -> tuple[list[str], list[dict[str, Any]]]:
        """A page's table for download, in the officials' words (see :mod:`vocab`)."""
        engine = cfg.engine
        if name == "children":
            report = queries.subtree_report(engine, code, form, period)
            rows = []
            for status, rollup in report.children:
                rows.append({
                    "unit_name": status.name, "unit_code": status.unit_code,
                    "period": period, "form": form, "due_date": status.due_date,
                    "due_date_source": status.due_date_source,
                    "first_submitted_on": status.first_submitted_on,
                    "timeliness": status.timeliness, "latest_status": status.latest_status,
                    "quarantined": status.quarantined, "open_errors": status.open_errors,
                    "open_warnings": status.open_warnings, "explained": status.explained,
                    "approved": status.approved,
                    "subtree_expected": rollup.expected, "subtree_reported": rollup.reported,
                    "subtree_missing": rollup.missing, "subtree_late": rollup.late,
                    "subtree_with_errors": rollup.with_errors,
                    "subtree_approved": rollup.approved,
                })
            columns = list(rows[0]) if rows else ["unit_name", "unit_code"]
        elif name == "rows":
            cons = queries.consolidation(engine, code, form, period)
            status = ("blocked" if cons.own_blocked
                      else cons.own[-1].status if cons.own else None)
            rows = [{**r, "period": period, "return_status": status,
                     "children_blocked": len(cons.blocked_children)} for r in cons.rows]
            columns = ["period", "indicator_code", "indicator_name", "unit", "value_current",
                       "value_ytd", "value_last_year", "sum_children", "diff",
                       "children_reported", "children_expected", "children_blocked",
                       "return_status"]
        elif name == "findings":
            rows = []
            for f in present.describe(engine, queries.unit_findings(engine, code, form, period)):
                state = ("已解决" if f["resolved_at"] else "已说明" if f["explanation"]
                         else "未解决")
                rows.append({
                    "period": f["period"], "severity": f["severity"], "check": f["check_label"],
                    "indicator_code": f["indicator_code"], "message": f["message"],
                    "evidence": f["evidence_text"] or f["quote"] or "", "state": state,
                    "explanation": f["explanation"], "explained_by": f["explained_by"],
                    "explained_at": vocab.beijing_time(f["explained_at"]),
                    "first_seen": vocab.beijing_time(f["first_seen"]),
                })
            columns = ["period", "severity", "check", "indicator_code", "message", "evidence",
                       "state", "explanation", "explained_by", "explained_at", "first_seen"]
        elif name == "versions":
            rows = [{**v, "period": period,
                     "submitted_at": vocab.beijing_time(v["submitted_at"] or v["received_at"])}
                    for v in queries.unit_versions(engine, code, form, period)]
            columns = ["period", "version", "channel", "status", "submitted_at", "source_uri"]
        else:
            rows = [{**a, "created_at": vocab.beijing_time(a["created_at"])}
                    for a in queries.unit_audit(engine, code)]
            columns = ["created_at", "action", "period", "actor_email", "detail"]
        translated = [vocab.translate_row(r, columns) for r in rows]
        return [vocab.COLUMNS.get(c, c) for c in columns], translated

    @app.get("/table/{code}/{filename}")
    def download_table(request: Request, code: str, filename: str, period: str | None = None,
                       form: str | None = None):
        from huizong.web import export

        session = session_of(request)
        name, _, fmt = filename.partition(".")
        if name not in TABLES or fmt not in {"csv", "parquet"}:
            raise PageError(404, "没有这张表", filename)
        scoped_unit(session, code)
        form = form or cfg.form
        period = pick_period(code, period, form)
        columns, rows = table(session, code, name, period, form)
        download = f"{code}_{name}_{period}.{fmt}"
        if fmt == "csv":
            body, media = export.to_csv(columns, rows), "text/csv; charset=utf-8"
        else:
            body, media = export.to_parquet(columns, rows), "application/vnd.apache.parquet"
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{download}"'})

    # --- charts ----------------------------------------------------------------

    @app.get("/chart/trend/{code}/{indicator}.svg")
    def trend_chart(request: Request, code: str, indicator: str, period: str | None = None,
                    form: str | None = None):
        from huizong.web import charts

        session = session_of(request)
        scoped_unit(session, code)
        form = form or cfg.form
        period = pick_period(code, period, form)
        periods = tuple(queries.previous_periods(cfg.engine, period))
        series = queries.trend(cfg.engine, code, form, indicator, periods)
        # Start at the first period with a figure: empty years only squash the line.
        first = next((i for i, p in enumerate(periods) if any(series[p].values())),
                     len(periods) - 1)
        periods = periods[first:]
        svg = charts.trend_svg(
            periods,
            tuple(series[p]["own"] for p in periods),
            tuple(series[p]["children"] for p in periods),
        )
        return Response(svg, media_type="image/svg+xml",
                        headers={"Cache-Control": "private, max-age=300"})

    @app.get("/chart/completeness/{code}.svg")
    def completeness_chart(request: Request, code: str, period: str | None = None,
                           form: str | None = None):
        from huizong.web import charts

        session = session_of(request)
        scoped_unit(session, code)
        form = form or cfg.form
        period = pick_period(code, period, form)
        reported = set(queries.periods_with_returns(cfg.engine, form))
        periods = tuple(p for p in queries.previous_periods(cfg.engine, period)
                        if p in reported or p == period)
        rollups = queries.completeness_trend(cfg.engine, code, form, periods)
        svg = charts.completeness_svg(
            periods,
            tuple(rollups[p].on_time for p in periods),
            tuple(rollups[p].late for p in periods),
            tuple(rollups[p].missing for p in periods),
            tuple(rollups[p].pending for p in periods),
        )
        return Response(svg, media_type="image/svg+xml",
                        headers={"Cache-Control": "private, max-age=300"})

    return app


def safe_raw_path(raw_dir: Path, raw_path: str) -> Path | None:
    """``raw_path`` as a file inside ``raw_dir``, or None if it points anywhere else."""
    root = raw_dir.resolve()
    candidate = Path(raw_path)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return resolved


def _current_quarter() -> str:
    today = queries.beijing_today()
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"

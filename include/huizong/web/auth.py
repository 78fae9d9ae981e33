"""Sign-in by link for officials who have no Airflow account.

A link carries ``email``, ``unit``, when it was issued and when it expires,
and a random link id, signed with HMAC-SHA256. Following it sets a session
cookie (signed the same way, with a purpose label so a session can never be
replayed as a link or vice versa) that scopes every page to the unit and its
subtree. A link is revoked by id, or every link an address was given up to a
moment, in ``web_revoked_link``; sessions are checked against it on every
request, so revoking a link also ends the sessions it opened.

Every session also has a row in ``web_session`` (its random id, who, until
when), written at sign-in and checked on every request: signing out ends the
row, so a copied cookie stops working at once, though its signature and expiry
are still good. ``HUIZONG_WEB_COOKIE_SECURE=1`` marks the cookie ``Secure``
even when the app sees plain HTTP behind a TLS-terminating proxy.

The secret comes from ``HUIZONG_WEB_SECRET`` (or, inside Airflow, the
``huizong_web`` connection's password, resolved by the plugin). Only the
explicit demo/test mode (``HUIZONG_WEB_DEMO=1`` or ``huizong web --demo``)
falls back to a secret generated once per data directory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

LINK_DAYS = 14
SESSION_HOURS = 8
SESSION_COOKIE = "huizong_session"  # Airflow's middleware owns ``_token``
ALL_UNITS = "*"  # scope of an engineer signed in through Airflow
SECRET_ENV = "HUIZONG_WEB_SECRET"  # noqa: S105 - the variable's name, not a secret
DEMO_ENV = "HUIZONG_WEB_DEMO"
COOKIE_SECURE_ENV = "HUIZONG_WEB_COOKIE_SECURE"
MIN_SECRET_LENGTH = 32
_DEMO_SECRET_FILE = "web_secret"  # noqa: S105 - a file name


class SecretMissing(RuntimeError):
    """No usable signing secret, and not in demo mode."""


class LinkInvalid(Exception):
    """A link or session that does not verify; ``reason`` says why, in Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Session:
    email: str
    unit_code: str  # ALL_UNITS for engineers
    link_id: str
    issued_at: int  # when the link was issued, epoch seconds
    expires_at: int
    session_id: str

    @property
    def is_engineer(self) -> bool:
        return self.unit_code == ALL_UNITS


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """HMAC-SHA256 over a JSON payload, bound to a purpose label."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < MIN_SECRET_LENGTH:
            raise SecretMissing(
                f"the web secret must be at least {MIN_SECRET_LENGTH} characters long"
            )
        self._key = key

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}|{body}".encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, payload: dict) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def verify(self, purpose: str, token: str, *, now: float | None = None) -> dict:
        body, _, mac = token.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(purpose, body)):
            raise LinkInvalid("链接无效或已被篡改")
        try:
            payload = json.loads(_unb64(body))
        except ValueError as exc:
            raise LinkInvalid("链接无效") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("x"), int):
            raise LinkInvalid("链接无效")
        if payload["x"] <= (time.time() if now is None else now):
            raise LinkInvalid("链接已过期，请向上级妇联索取新链接")
        return payload

    def csrf_token(self, session: Session) -> str:
        """The form token of a session: only someone holding the session can know it."""
        return self._mac("csrf", session.session_id)

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token or "", self.csrf_token(session))


def demo_secret_path(data_dir: Path | None = None) -> Path:
    if data_dir is None:
        from huizong.settings import get_settings

        data_dir = get_settings().data_dir
    return Path(data_dir) / _DEMO_SECRET_FILE


def demo_mode() -> bool:
    return os.environ.get(DEMO_ENV, "").strip().lower() in {"1", "true", "yes"}


def resolve_secret(*, demo: bool | None = None, data_dir: Path | None = None) -> str:
    """The signing secret: the environment, else (demo mode only) a per-home file."""
    from huizong.secret_check import WeakSecret, check_secret

    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        try:
            # Placeholders (the .env.example value signed working links) and weak keys.
            return check_secret(SECRET_ENV, configured)
        except WeakSecret as exc:
            raise SecretMissing(str(exc)) from exc
    if demo if demo is not None else demo_mode():
        path = demo_secret_path(data_dir)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
    raise SecretMissing(
        f"no web secret: set {SECRET_ENV} (at least {MIN_SECRET_LENGTH} characters) or the "
        f"huizong_web Airflow connection's password; for a demo, set {DEMO_ENV}=1"
    )


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def make_link_token(
    signer: Signer,
    email: str,
    unit_code: str,
    expires: datetime | timedelta | None = None,
    *,
    now: float | None = None,
) -> str:
    issued = int(time.time() if now is None else now)
    if expires is None:
        expires = timedelta(days=LINK_DAYS)
    expires_at = issued + int(expires.total_seconds()) if isinstance(expires, timedelta) else (
        _epoch(expires)
    )
    if expires_at <= issued:
        raise ValueError("a link must expire in the future")
    if not (len(unit_code) == 12 and unit_code.isdigit()):
        raise ValueError(f"unit code {unit_code!r} is not a 12-digit division code")
    payload = {
        "e": email.strip().lower(),
        "u": unit_code,
        "i": issued,
        "x": expires_at,
        "l": secrets.token_hex(16),
    }
    return signer.sign("link", payload)


def make_link(
    email: str,
    unit_code: str,
    expires: datetime | timedelta | None = None,
    *,
    secret: str | None = None,
    base_url: str = "",
) -> str:
    """A sign-in link for ``email`` scoped to ``unit_code`` and its subtree.

    ``expires`` is a moment or a duration from now (default 14 days).
    ``base_url`` is where the app is served, e.g. ``http://host:8080/huizong``.
    """
    signer = Signer(secret if secret is not None else resolve_secret())
    token = make_link_token(signer, email, unit_code, expires)
    return f"{base_url.rstrip('/')}/l/{token}"


def link_id_of(url_or_token: str) -> str:
    """The id of a link (what ``web_revoked_link`` keys on), without checking it."""
    token = url_or_token.rsplit("/", 1)[-1]
    body = token.partition(".")[0]
    try:
        return str(json.loads(_unb64(body))["l"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("not a huizong sign-in link") from exc


def session_from_link(signer: Signer, token: str, *, now: float | None = None) -> Session:
    claims = signer.verify("link", token, now=now)
    try:
        email, unit_code = str(claims["e"]), str(claims["u"])
        link_id, issued = str(claims["l"]), int(claims["i"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("链接无效") from exc
    current = time.time() if now is None else now
    return Session(
        email=email,
        unit_code=unit_code,
        link_id=link_id,
        issued_at=issued,
        expires_at=min(int(claims["x"]), int(current) + SESSION_HOURS * 3600),
        session_id=secrets.token_hex(16),
    )


def engineer_session(email: str, *, now: float | None = None) -> Session:
    current = int(time.time() if now is None else now)
    return Session(
        email=email,
        unit_code=ALL_UNITS,
        link_id="airflow",
        issued_at=current,
        expires_at=current + SESSION_HOURS * 3600,
        session_id=secrets.token_hex(16),
    )


def session_cookie(signer: Signer, session: Session) -> str:
    return signer.sign(
        "session",
        {
            "e": session.email,
            "u": session.unit_code,
            "l": session.link_id,
            "i": session.issued_at,
            "x": session.expires_at,
            "s": session.session_id,
        },
    )


def session_from_cookie(signer: Signer, cookie: str, *, now: float | None = None) -> Session:
    claims = signer.verify("session", cookie, now=now)
    try:
        return Session(
            email=str(claims["e"]),
            unit_code=str(claims["u"]),
            link_id=str(claims["l"]),
            issued_at=int(claims["i"]),
            expires_at=int(claims["x"]),
            session_id=str(claims["s"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("会话无效") from exc


def cookie_secure_from_env() -> bool:
    """``HUIZONG_WEB_COOKIE_SECURE``: force the cookie's ``Secure`` flag (behind a TLS proxy)."""
    raw = os.environ.get(COOKIE_SECURE_ENV, "").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{COOKIE_SECURE_ENV} must be 1/true/yes or 0/false/no, not {raw!r}")


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def start_session(engine: Engine, session: Session) -> None:
    """Record a new session server-side; sessions that ended or expired a day ago go."""
    now = _now_utc()
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM web_session WHERE expires_at < :cutoff OR ended_at < :cutoff"),
            {"cutoff": now - timedelta(days=1)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO web_session "
                "(session_id, email, unit_code, link_id, created_at, expires_at) "
                "VALUES (:sid, :email, :unit, :link, :created, :expires)"
            ),
            {
                "sid": session.session_id,
                "email": session.email,
                "unit": session.unit_code,
                "link": session.link_id,
                "created": now,
                "expires": _moment(session.expires_at),
            },
        )


def session_is_live(engine: Engine, session: Session) -> bool:
    """The session was started here, for this cookie's holder, and not ended."""
    with engine.connect() as conn:
        hit = conn.execute(
            sa.text(
                "SELECT 1 FROM web_session WHERE session_id = :sid AND email = :email "
                "AND unit_code = :unit AND ended_at IS NULL AND expires_at > :now"
            ),
            {
                "sid": session.session_id,
                "email": session.email,
                "unit": session.unit_code,
                "now": _now_utc(),
            },
        ).first()
    return hit is not None


def end_session(engine: Engine, session_id: str) -> None:
    """Sign-out: the session's cookie, and every copy of it, stops working."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE web_session SET ended_at = :now "
                "WHERE session_id = :sid AND ended_at IS NULL"
            ),
            {"sid": session_id, "now": _now_utc()},
        )


def is_revoked(engine: Engine, session: Session) -> bool:
    if session.is_engineer:
        return False
    issued = datetime.fromtimestamp(session.issued_at, UTC).replace(tzinfo=None)
    with engine.connect() as conn:
        hit = conn.execute(
            sa.text(
                "SELECT 1 FROM web_revoked_link WHERE link_id = :link "
                "OR (email = :email AND issued_before >= :issued) LIMIT 1"
            ),
            {"link": session.link_id, "email": session.email, "issued": issued},
        ).first()
    return hit is not None


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def revoke_link(engine: Engine, link_id: str, *, reason: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO web_revoked_link (revocation_id, link_id, reason, revoked_at) "
                "VALUES (:rid, :link, :reason, :at)"
            ),
            {"rid": secrets.token_hex(16), "link": link_id, "reason": reason, "at": _now_utc()},
        )


def revoke_links_of(engine: Engine, email: str, *, reason: str) -> None:
    """Revoke every link ``email`` was given until now (links issued later still work)."""
    now = _now_utc()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO web_revoked_link "
                "(revocation_id, email, issued_before, reason, revoked_at) "
                "VALUES (:rid, :email, :before, :reason, :at)"
            ),
            {
                "rid": secrets.token_hex(16),
                "email": email.strip().lower(),
                "before": now,
                "reason": reason,
                "at": now,
            },
        )

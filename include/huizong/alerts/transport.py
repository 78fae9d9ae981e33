"""Getting digests to people: an ``.eml`` outbox folder or an SMTP server.

Credentials come from the environment only (``HUIZONG_SMTP_URL`` or the Airflow
connection URI ``AIRFLOW_CONN_HUIZONG_SMTP``), never from the repository.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.engine import Engine

from huizong.alerts.digest import DEFAULT_SENDER, Digest, mark_sent

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class Transport(Protocol):
    def send(self, digest: Digest) -> str: ...


def _safe_name(text: str) -> str:
    return _UNSAFE.sub("_", text)


class OutboxTransport:
    """Writes ``<dir>/<recipient>/<run_id>.eml``; sending a run twice rewrites the same file."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def write(self, message: EmailMessage, *, recipient: str, name: str) -> str:
        target = self.directory / _safe_name(recipient) / f"{_safe_name(name)}.eml"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".eml.tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(target)
        return str(target)

    def send(self, digest: Digest) -> str:
        return self.write(digest.to_message(), recipient=digest.recipient, name=digest.run_id)


@dataclass
class SmtpTransport:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    sender: str | None = None
    ssl: bool = False  # implicit TLS (smtps, port 465)
    timeout: float = 30.0

    def send_message(self, message: EmailMessage) -> str:
        if self.sender and "From" not in message:
            message["From"] = self.sender
        context = ssl.create_default_context()
        if self.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if self.starttls and not self.ssl:
                client.starttls(context=context)
                client.ehlo()
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message, from_addr=self.sender)
        return str(message["Message-ID"] or "")

    def send(self, digest: Digest | EmailMessage) -> str:
        message = digest if isinstance(digest, EmailMessage) else digest.to_message()
        return self.send_message(message)


def smtp_from_url(url: str, *, sender: str | None = None) -> SmtpTransport:
    """``smtp://user:pass@host:587?starttls=true`` / ``smtps://…:465`` → :class:`SmtpTransport`."""
    from huizong.secret_check import check_url_password

    check_url_password("HUIZONG_SMTP_URL", url)  # a CHANGE_ME relay password, refused
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    implicit_tls = parts.scheme in ("smtps", "smtp+ssl")
    port = parts.port or (465 if implicit_tls else 25)
    starttls_default = "true" if port == 587 else "false"
    starttls = query.get("starttls", starttls_default).lower() in ("1", "true", "yes")
    return SmtpTransport(
        host=parts.hostname or "localhost",
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=starttls,
        ssl=implicit_tls,
        sender=sender or query.get("from") or os.environ.get("HUIZONG_MAIL_FROM", DEFAULT_SENDER),
    )


def transport_from_env() -> Transport:
    """SMTP when ``HUIZONG_SMTP_URL`` (or ``AIRFLOW_CONN_HUIZONG_SMTP``) is set, else the outbox."""
    url = os.environ.get("HUIZONG_SMTP_URL") or os.environ.get("AIRFLOW_CONN_HUIZONG_SMTP")
    if url and url.split(":", 1)[0] in ("smtp", "smtps", "smtp+ssl"):
        return smtp_from_url(url)
    from huizong.settings import get_settings

    return OutboxTransport(get_settings().outbox_dir)


class DeliveryError(RuntimeError):
    """Some digests could not be delivered; the others were sent and recorded."""


def deliver(
    digests: Iterable[Digest], transport: Transport, *, engine: Engine | None = None
) -> list[str]:
    """Send each digest and record it in ``alert_sent`` (``engine``: default warehouse).

    A failed recipient does not stop the others; the failures are raised together
    at the end so the task retries them, and what was sent is not sent again.
    """
    if engine is None:
        from huizong.warehouse.db import get_engine

        engine = get_engine()
    sent: list[str] = []
    failed: dict[str, str] = {}
    for digest in digests:
        try:
            transport.send(digest)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("digest to %s not delivered: %s", digest.recipient, exc)
            failed[digest.recipient] = str(exc)
            continue
        mark_sent(engine, digest)
        sent.append(digest.recipient)
    if failed:
        raise DeliveryError(f"{len(failed)} digest(s) not delivered: {failed}")
    return sent

"""Engineers' alerts: a failed task or a missed deadline, by e-mail and/or webhook.

``EngineerAlertNotifier`` is an Airflow 3 notifier:

* as ``on_failure_callback`` (sync ``notify``), e.g. in ``policy.default_args()``;
* as a DAG ``deadline=`` alert, awaited in the triggerer (``async_notify``)::

      DeadlineAlert(
          reference=DeadlineReference.DAGRUN_QUEUED_AT,
          interval=timedelta(hours=2),
          callback=AsyncCallback(EngineerAlertNotifier, kwargs={"emails": ["ops@example.org"]}),
      )

  or ``SyncCallback("huizong_airflow.notifiers.deadline_missed", kwargs=...)``.

Channels: e-mail through the ``huizong_smtp`` Airflow connection (else
``HUIZONG_SMTP_URL``, else the outbox folder) to ``emails`` /
``HUIZONG_ENGINEER_EMAILS``; and a JSON POST to ``webhook_url`` /
``HUIZONG_ALERT_WEBHOOK_URL``. Delivery problems are logged, never raised: an
alert must not turn one failure into two.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

SMTP_CONN_ID = "huizong_smtp"
WEBHOOK_ENV = "HUIZONG_ALERT_WEBHOOK_URL"
EMAILS_ENV = "HUIZONG_ENGINEER_EMAILS"


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _exception_line(exception: Any) -> str | None:
    """The exception's type and the last line of its message: what went wrong, in one line."""
    if exception is None:
        return None
    if isinstance(exception, str):  # a callback request carries the message only
        return _last_line(exception) or None
    message = _last_line(str(exception))
    return f"{type(exception).__name__}: {message}" if message else type(exception).__name__


def _base_url() -> str:
    """The UI's address as configured (``[api] base_url``), never a guess like localhost."""
    url = os.environ.get("AIRFLOW__API__BASE_URL")
    if not url:
        try:
            from airflow.configuration import conf

            url = conf.get("api", "base_url", fallback="")
        except Exception:  # outside an Airflow process
            url = ""
    return (url or "").rstrip("/")


def _log_url(ti: Any, dag_id: str | None, run_id: str | None, task_id: str | None) -> str | None:
    """Link to the attempt's log in the UI, built from the configured base URL."""
    base = _base_url()
    if not (base and dag_id and run_id and task_id):
        return _get(ti, "log_url")
    map_index = _get(ti, "map_index")
    try_number = _get(ti, "try_number")
    url = f"{base}/dags/{dag_id}/runs/{quote(str(run_id), safe='')}/tasks/{task_id}"
    if isinstance(map_index, int) and map_index >= 0:
        url += f"/mapped/{map_index}"
    if isinstance(try_number, int) and try_number > 0:
        url += f"?try_number={try_number}"
    return url


def alert_payload(context: Mapping[str, Any] | None, *, event: str | None = None) -> dict[str, Any]:
    """What an engineer needs to act: where, which run and worker, the log and the error."""
    context = context or {}
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    deadline = context.get("deadline")
    exception = context.get("exception")
    if event is None:
        event = "deadline_missed" if deadline is not None else "task_failed"
    dag_id = (
        _get(ti, "dag_id")
        or _get(dag, "dag_id")
        or _get(dag_run, "dag_id")
        or context.get("dag_id")
    )
    task_id = _get(ti, "task_id") or context.get("task_id")
    run_id = context.get("run_id") or _get(ti, "run_id") or _get(dag_run, "run_id")
    return {
        "event": event,
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "try_number": _get(ti, "try_number"),
        # Which worker ran the attempt: after a lost worker, the one to look at.
        "hostname": _get(ti, "hostname"),
        "log_url": _log_url(ti, dag_id, run_id, task_id),
        "exception": _exception_line(exception),
        "deadline": str(deadline) if deadline is not None else None,
        "reason": context.get("reason"),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _split(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [v.strip() for v in value if v and v.strip()]


_EVENT_WORDS = {
    "task_failed": "failed",
    "task_retry": "failed and will be retried",
    "deadline_missed": "missed its deadline",
}


class EngineerAlertNotifier(BaseNotifier):
    """Tell the data engineers that a huizong task failed or a run missed its deadline."""

    template_fields = ("subject_prefix",)

    def __init__(
        self,
        *,
        emails: str | Sequence[str] | None = None,
        webhook_url: str | None = None,
        smtp_conn_id: str = SMTP_CONN_ID,
        subject_prefix: str = "[huizong]",
        timeout: float = 5.0,
        event: str | None = None,
        context: Any = None,
        **extra: Any,
    ):
        super().__init__(context=context)
        self.emails = _split(emails)
        self.webhook_url = webhook_url
        self.smtp_conn_id = smtp_conn_id
        self.subject_prefix = subject_prefix
        self.timeout = timeout
        # None: "task_failed", or "deadline_missed" for a deadline callback.
        self.event = event
        self.extra = extra

    # Resolved at send time, not at DAG parse time: env and connections may change.
    def _recipients(self) -> list[str]:
        return self.emails or _split(os.environ.get(EMAILS_ENV))

    def _webhook(self) -> str | None:
        return self.webhook_url or os.environ.get(WEBHOOK_ENV) or None

    def notify(self, context) -> None:
        self.dispatch(alert_payload(context, event=self.event))

    async def async_notify(self, context) -> None:
        await asyncio.to_thread(self.dispatch, alert_payload(context, event=self.event))

    def dispatch(self, payload: dict[str, Any]) -> dict[str, bool]:
        """Send ``payload`` on every configured channel; returns which channels succeeded."""
        outcome: dict[str, bool] = {}
        if self._webhook():
            outcome["webhook"] = self._post_webhook(payload)
        if self._recipients():
            outcome["email"] = self._send_email(payload)
        if not outcome:
            log.warning("huizong alert with no channel configured: %s", payload)
        return outcome

    def _post_webhook(self, payload: dict[str, Any]) -> bool:
        import requests

        try:
            response = requests.post(self._webhook(), json=payload, timeout=self.timeout)
            response.raise_for_status()
            return True
        except requests.RequestException as exc:
            log.error("huizong alert webhook failed: %s", exc)
            return False

    def message(self, payload: dict[str, Any]) -> EmailMessage:
        what = _EVENT_WORDS.get(payload["event"], payload["event"])
        where = payload["dag_id"] + (f".{payload['task_id']}" if payload.get("task_id") else "")
        if payload["event"] == "task_retry" and payload.get("hostname"):
            what += f" (on {payload['hostname']})"
        message = EmailMessage()
        subject = f"{self.subject_prefix} {where} {what} ({payload.get('run_id')})"
        if payload.get("exception"):
            subject += f": {payload['exception']}"
        # Header values must be one line whatever the exception said.
        message["Subject"] = " ".join(subject.split())[:300]
        message["From"] = os.environ.get("HUIZONG_MAIL_FROM", "huizong@localhost")
        message["To"] = ", ".join(self._recipients())
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="huizong.invalid")
        message["Auto-Submitted"] = "auto-generated"
        lines = [f"{key}: {value}" for key, value in payload.items() if value is not None]
        message.set_content("\n".join(lines) + "\n", charset="utf-8")
        return message

    def _smtp(self):
        from huizong.alerts.transport import SmtpTransport, smtp_from_url

        try:
            from airflow.sdk import BaseHook

            conn = BaseHook.get_connection(self.smtp_conn_id)
        except Exception as exc:  # not defined, or no API to ask outside a task
            log.debug("connection %s unavailable: %s", self.smtp_conn_id, exc)
            conn = None
        if conn is not None and conn.host:
            from huizong.secret_check import ISSUED, check_secret

            if conn.password:
                check_secret(f"the {self.smtp_conn_id} connection's password", conn.password,
                             ISSUED)
            extra = conn.extra_dejson or {}
            return SmtpTransport(
                host=conn.host,
                port=int(conn.port or 25),
                user=conn.login or None,
                password=conn.password or None,
                starttls=str(extra.get("starttls", extra.get("use_tls", False))).lower()
                in ("1", "true"),
                ssl=str(extra.get("ssl", extra.get("use_ssl", False))).lower() in ("1", "true"),
                sender=extra.get("from_email") or os.environ.get("HUIZONG_MAIL_FROM"),
            )
        url = os.environ.get("HUIZONG_SMTP_URL")
        return smtp_from_url(url) if url else None

    def _send_email(self, payload: dict[str, Any]) -> bool:
        message = self.message(payload)
        try:
            smtp = self._smtp()
            if smtp is not None:
                smtp.send_message(message)
            else:
                from huizong.alerts.transport import OutboxTransport
                from huizong.settings import get_settings

                OutboxTransport(get_settings().outbox_dir / "engineers").write(
                    message,
                    recipient="engineers",
                    name=f"{payload.get('run_id')}-{payload['event']}",
                )
            return True
        except Exception as exc:  # never let the alert raise
            log.error("huizong alert e-mail failed: %s", exc)
            return False


def deadline_missed(context: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    """Sync deadline callback: ``SyncCallback("huizong_airflow.notifiers.deadline_missed")``."""
    notifier = EngineerAlertNotifier(**kwargs)
    notifier.dispatch(alert_payload(context, event="deadline_missed"))

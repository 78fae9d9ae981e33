"""Engineers' notifier: posts to a webhook and e-mails, and never raises on delivery trouble."""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
from datetime import timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest
from huizong_airflow.notifiers import EngineerAlertNotifier, alert_payload, deadline_missed


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"type": self.headers["Content-Type"], "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _failure_context():
    ti = SimpleNamespace(
        dag_id="consolidate_and_check", task_id="publish", run_id="manual__2025-04-12",
        try_number=3, log_url="http://localhost:8080/dags/consolidate_and_check/runs/x/tasks/publish",
    )  # fmt: skip
    return {"ti": ti, "task_instance": ti, "exception": ValueError("warehouse locked")}


def test_failure_posts_to_webhook_and_emails(webhook, smtp_server, monkeypatch):
    url, received = webhook
    host, port, inbox = smtp_server
    monkeypatch.setenv("HUIZONG_SMTP_URL", f"smtp://{host}:{port}")
    notifier = EngineerAlertNotifier(emails=["oncall@example.org"], webhook_url=url)
    notifier(_failure_context())

    assert len(received) == 1 and received[0]["type"] == "application/json"
    payload = received[0]["json"]
    assert payload["dag_id"] == "consolidate_and_check" and payload["task_id"] == "publish"
    assert payload["run_id"] == "manual__2025-04-12" and payload["event"] == "task_failed"
    assert payload["exception"] == "ValueError: warehouse locked"
    assert payload["log_url"].endswith("/tasks/publish")

    assert [env.rcpt_tos for env in inbox.envelopes] == [["oncall@example.org"]]
    mail = email.message_from_bytes(inbox.envelopes[0].content, policy=policy.default)
    assert "consolidate_and_check.publish failed" in mail["Subject"]
    assert "warehouse locked" in mail.get_content()


def test_delivery_failures_are_logged_not_raised(monkeypatch, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    monkeypatch.setenv("HUIZONG_SMTP_URL", f"smtp://127.0.0.1:{dead_port}")
    notifier = EngineerAlertNotifier(
        emails="oncall@example.org", webhook_url=f"http://127.0.0.1:{dead_port}/hook", timeout=1
    )
    outcome = notifier.dispatch(alert_payload(_failure_context()))
    assert outcome == {"webhook": False, "email": False}
    assert "webhook failed" in caplog.text and "e-mail failed" in caplog.text


def test_deadline_alert_async_and_sync(webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("HUIZONG_ALERT_WEBHOOK_URL", url)
    monkeypatch.delenv("HUIZONG_ENGINEER_EMAILS", raising=False)
    context = {
        "dag_run": {"dag_id": "submitted_returns", "run_id": "scheduled__2025-04-12"},
        "deadline": {"deadline_time": "2025-04-12T10:00:00+00:00"},
    }
    # the triggerer builds the notifier with the callback kwargs and the context, then awaits it
    asyncio.run(_await(EngineerAlertNotifier(context=context)))
    deadline_missed(context)
    assert [r["json"]["event"] for r in received] == ["deadline_missed", "deadline_missed"]
    assert received[0]["json"]["dag_id"] == "submitted_returns"
    assert "2025-04-12T10:00:00" in received[0]["json"]["deadline"]


async def _await(notifier):
    await notifier


def test_retry_alert_names_worker_cause_and_configured_log_link(smtp_server, monkeypatch):
    """A lost worker's retry reaches the engineer: which task, which worker, why, and a
    log link on the configured UI address rather than Airflow's localhost default."""
    host, port, inbox = smtp_server
    monkeypatch.setenv("HUIZONG_SMTP_URL", f"smtp://{host}:{port}")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.huizong.example/")
    ti = SimpleNamespace(
        dag_id="submitted_returns", task_id="receive_drop_folder",
        run_id="scheduled__2025-01-10T00:00:00+00:00", try_number=1, map_index=-1,
        hostname="w2@worker-host",
        log_url="http://localhost:8080/dags/submitted_returns/runs/x/tasks/receive_drop_folder",
    )  # fmt: skip
    exception = RuntimeError(
        "Traceback (most recent call last):\n  File \"x.py\", line 1\n"
        "Task instance heartbeat timed out: no heartbeat for 40 s\n"
    )
    EngineerAlertNotifier(emails="oncall@example.org", event="task_retry")(
        {"ti": ti, "task_instance": ti, "exception": exception}
    )

    mail = email.message_from_bytes(inbox.envelopes[0].content, policy=policy.default)
    subject = mail["Subject"]
    assert "submitted_returns.receive_drop_folder failed and will be retried" in subject
    assert "on w2@worker-host" in subject
    cause = "RuntimeError: Task instance heartbeat timed out: no heartbeat for 40 s"
    assert subject.endswith(cause)
    body = mail.get_content()
    assert "event: task_retry" in body and "hostname: w2@worker-host" in body
    assert (
        "log_url: https://airflow.huizong.example/dags/submitted_returns/runs/"
        "scheduled__2025-01-10T00%3A00%3A00%2B00%3A00/tasks/receive_drop_folder?try_number=1"
    ) in body
    assert "localhost" not in body


def test_exception_is_one_line_in_the_subject():
    payload = alert_payload({"dag_id": "d", "exception": ValueError("first\n\nsecond\nlast words")})
    assert payload["exception"] == "ValueError: last words"
    message = EngineerAlertNotifier(emails="a@example.org").message(payload)
    assert "\n" not in message["Subject"] and message["Subject"].endswith("ValueError: last words")


def test_policy_sends_retry_alerts_and_backs_off_from_seconds():
    from huizong_airflow.policy import RETRY_DELAY, default_args

    args = default_args(task_timeout=timedelta(minutes=5))
    (notifier,) = args["on_retry_callback"]
    assert isinstance(notifier, EngineerAlertNotifier) and notifier.event == "task_retry"
    # A multiplier: True (== 1) would silently mean "no backoff".
    assert args["retry_exponential_backoff"] == 2.0
    assert RETRY_DELAY.total_seconds() <= 15

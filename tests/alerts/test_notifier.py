"""Engineers' notifier: posts to a webhook and e-mails, and never raises on delivery trouble."""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
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

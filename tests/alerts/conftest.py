"""Warehouse with the demo recipients, and a real SMTP server on loopback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from huizong.alerts.recipients import load_recipients
from huizong.warehouse.db import get_engine, migrate
from huizong.warehouse.seed import seed_all


@pytest.fixture
def engine(tmp_path: Path):
    engine = get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    migrate(engine)
    seed_all(engine)
    load_recipients(engine)
    yield engine
    engine.dispose()


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd's readiness probe needs the real port up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, inbox
    finally:
        controller.stop()

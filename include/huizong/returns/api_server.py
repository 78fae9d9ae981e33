"""A reference server of the reporting system's returns API, for tests and the demo.

``GET /api/v1/returns?cursor=…&limit=…`` with ``Authorization: Bearer <token>``
answers ``{"items": [...], "next_cursor": "...", "has_more": bool}``. Items are
served in the order they were given (the reporting system's log order); the
cursor is an opaque position in that log, so polling again from the last
``next_cursor`` returns only items added since. An item may name a workbook
next to it (``"workbook_path": "x.xlsx"``, relative to the items folder), which
is sent as ``workbook_b64`` + ``workbook_filename`` like the real system does.

:class:`Faults` switches make the server misbehave the way real ones do (rate
limiting, server errors, a page served twice, a page that keeps failing) so
the client's retries, de-duplication and resume are tested against HTTP.

Standalone::

    python -m huizong.returns.api_server --port 8765 --items DIR --token-env HUIZONG_API_TOKEN
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hmac
import json
import logging
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

API_PATH = "/api/v1/returns"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
_CURSOR_PREFIX = "o"


@dataclass
class Faults:
    """Misbehaviour to inject; counters are consumed request by request.

    Order per request: ``fail_cursor`` (a page that keeps failing until cleared),
    then ``rate_limited`` (429 with ``retry_after``), then ``server_errors``
    (503), then ``duplicate_pages`` (a page after the first is answered with the
    previous page again and the same cursor, as a replaying proxy would).
    """

    rate_limited: int = 0
    retry_after: str | None = "0"
    server_errors: int = 0
    duplicate_pages: int = 0
    fail_cursor: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)  # what the server saw
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def statuses(self) -> list[int]:
        with self._lock:
            return [r["status"] for r in self.requests]


class ItemSource:
    """Items from an in-memory list (shared, so a test may append) or a folder of JSON files."""

    def __init__(self, items: Sequence[dict[str, Any]] | str | os.PathLike[str]) -> None:
        if isinstance(items, str | os.PathLike):
            self.folder: Path | None = Path(items)
            self._items: Sequence[dict[str, Any]] = []
        else:
            self.folder = None
            self._items = items

    def load(self) -> list[dict[str, Any]]:
        if self.folder is None:
            return list(self._items)
        # Read on every request so files dropped into the folder appear as new items.
        items: list[dict[str, Any]] = []
        for path in sorted(self.folder.glob("*.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            for item in document if isinstance(document, list) else [document]:
                items.append(self._with_workbook(item))
        return items

    def _with_workbook(self, item: dict[str, Any]) -> dict[str, Any]:
        relative = item.get("workbook_path")
        if not relative or self.folder is None:
            return item
        served = {k: v for k, v in item.items() if k != "workbook_path"}
        # One bad item must not stop the feed: it is served without its workbook
        # and says why, and the client quarantines it with that reason.
        root = self.folder.resolve()
        workbook = (self.folder / str(relative)).resolve()
        if not workbook.is_relative_to(root):
            served["workbook_error"] = f"workbook_path {relative!r} leaves the items folder"
            log.warning("item %s: %s", item.get("id"), served["workbook_error"])
            return served
        try:
            data = workbook.read_bytes()
        except OSError as exc:
            served["workbook_error"] = f"workbook {relative!r} cannot be read: {exc.strerror}"
            return served
        served["workbook_b64"] = base64.b64encode(data).decode("ascii")
        served.setdefault("workbook_filename", workbook.name)
        return served


def _encode_cursor(offset: int) -> str:
    return f"{_CURSOR_PREFIX}{offset}"


# ASCII digits only: str.isdigit() also takes "²" and "١", which int() refuses or misreads.
_CURSOR = re.compile(rf"{_CURSOR_PREFIX}(0|[1-9][0-9]{{0,17}})")


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return 0
    match = _CURSOR.fullmatch(cursor)
    return int(match.group(1)) if match else None


def create_app(
    items: Sequence[dict[str, Any]] | str | os.PathLike[str],
    token: str,
    *,
    faults: Faults | None = None,
) -> Any:
    """The FastAPI application serving ``items`` to holders of ``token``."""
    from fastapi import FastAPI, Header
    from fastapi.responses import JSONResponse

    if not token:
        raise ValueError("the reference API needs a non-empty token")
    source = ItemSource(items)
    faults = faults if faults is not None else Faults()
    app = FastAPI(title="reporting system returns API (huizong reference)", docs_url=None)
    expected = f"Bearer {token}".encode()

    def answer(cursor: str | None, status: int, body: Any, headers: dict[str, str] | None = None):
        with faults._lock:
            faults.requests.append({"cursor": cursor, "status": status, "at": time.time()})
        return JSONResponse(body, status_code=status, headers=headers)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(API_PATH)
    def list_returns(
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        authorization: str = Header(default=""),
    ):
        given = authorization.encode()
        if not hmac.compare_digest(given, expected):
            return answer(
                cursor,
                401,
                {"error": "unauthorized", "detail": "a valid bearer token is required"},
                {"WWW-Authenticate": 'Bearer realm="returns"'},
            )
        offset = _decode_cursor(cursor)
        if offset is None:
            return answer(
                cursor,
                400,
                {"error": "bad_cursor", "detail": f"unknown cursor {cursor!r}: expected o<offset>"},
            )
        limit = max(1, min(limit, MAX_LIMIT))
        with faults._lock:
            fail_here = faults.fail_cursor is not None and faults.fail_cursor == (cursor or "")
            if not fail_here and faults.rate_limited > 0:
                faults.rate_limited -= 1
                fault = 429
            elif not fail_here and faults.server_errors > 0:
                faults.server_errors -= 1
                fault = 503
            else:
                fault = 500 if fail_here else 0
            duplicate = fault == 0 and offset > 0 and faults.duplicate_pages > 0
            if duplicate:
                faults.duplicate_pages -= 1
        if fault == 429:
            headers = {"Retry-After": faults.retry_after} if faults.retry_after is not None else {}
            return answer(cursor, 429, {"error": "rate_limited"}, headers)
        if fault:
            return answer(cursor, fault, {"error": "unavailable"})
        everything = source.load()
        if offset > len(everything):
            # A position past the end of the log was never handed out: accepting it
            # would make the client skip every item added up to there.
            return answer(
                cursor,
                400,
                {
                    "error": "bad_cursor",
                    "detail": f"cursor {cursor!r} is past the end of the log "
                    f"({len(everything)} items)",
                },
            )
        if duplicate:
            start = max(0, offset - limit)
            return answer(
                cursor,
                200,
                {
                    "items": everything[start:offset],
                    "next_cursor": _encode_cursor(offset),
                    "has_more": True,
                },
            )
        page = everything[offset : offset + limit]
        end = offset + len(page)
        return answer(
            cursor,
            200,
            {"items": page, "next_cursor": _encode_cursor(end), "has_more": end < len(everything)},
        )

    return app


def _bound_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def serve_in_thread(
    items: Sequence[dict[str, Any]] | str | os.PathLike[str],
    token: str,
    *,
    faults: Faults | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
) -> Iterator[str]:
    """Run the reference API on ``host`` (a free port by default); yields its base URL."""
    import uvicorn

    app = create_app(items, token, faults=faults)
    sock = _bound_socket(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="returns-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the reference returns API did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--items",
        type=Path,
        required=True,
        help="folder of item JSON files (one item or a list per file), served in name order",
    )
    parser.add_argument(
        "--token-env",
        default="HUIZONG_API_TOKEN",
        help="environment variable holding the bearer token (default HUIZONG_API_TOKEN)",
    )
    parser.add_argument("--rate-limited", type=int, default=0, help="answer N requests with 429")
    parser.add_argument("--server-errors", type=int, default=0, help="then N requests with 503")
    parser.add_argument(
        "--duplicate-pages", type=int, default=0, help="serve N pages twice (a replaying proxy)"
    )


def run_from_args(args: argparse.Namespace) -> int:
    import uvicorn

    from huizong.secret_check import ISSUED, WeakSecret, check_secret

    try:
        token = check_secret(args.token_env, os.environ.get(args.token_env), ISSUED)
    except WeakSecret as exc:
        print(f"api-server: {exc}", file=sys.stderr)
        return 2
    if not args.items.is_dir():
        print(f"api-server: {args.items} is not a folder", file=sys.stderr)
        return 2
    faults = Faults(
        rate_limited=args.rate_limited,
        server_errors=args.server_errors,
        duplicate_pages=args.duplicate_pages,
    )
    app = create_app(args.items, token, faults=faults)
    sock = _bound_socket(args.host, args.port)
    print(f"reporting API on http://{args.host}:{sock.getsockname()[1]}{API_PATH}", flush=True)
    config = uvicorn.Config(app, log_level="info", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m huizong.returns.api_server", description=__doc__.split("\n")[0]
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

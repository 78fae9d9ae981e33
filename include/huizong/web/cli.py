"""``huizong web``: serve the officials' pages, issue and revoke sign-in links."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
BASE_URL_ENV = "HUIZONG_WEB_BASE_URL"


def register(subparsers: argparse._SubParsersAction) -> None:
    web = subparsers.add_parser(
        "web",
        help="officials' pages: subtree status, explanations, approvals (sign-in by link)",
        description=(
            "Serve the officials' pages on their own (inside Airflow they are mounted at "
            "/huizong by the huizong plugin). Needs HUIZONG_WEB_SECRET, or --demo for a "
            "secret generated once per data directory."
        ),
    )
    web.add_argument("--host", default=DEFAULT_HOST)
    web.add_argument("--port", type=int, default=DEFAULT_PORT)
    web.add_argument("--demo", action="store_true",
                     help="demo/test mode: use (or create) a per-data-dir secret file")
    web.set_defaults(func=_serve)
    actions = web.add_subparsers(title="web commands", metavar="ACTION")

    link = actions.add_parser("link", help="print a signed sign-in link for an official")
    link.add_argument("--email", required=True)
    link.add_argument("--unit", required=True, help="12-digit division code of the unit")
    link.add_argument("--days", type=float, default=14, help="valid for this many days")
    link.add_argument("--base-url", default=None,
                      help=f"where the pages are served (default ${BASE_URL_ENV} or "
                      f"http://{DEFAULT_HOST}:{DEFAULT_PORT})")
    link.add_argument("--demo", action="store_true", help="sign with the demo secret file")
    link.set_defaults(func=_link)

    revoke = actions.add_parser("revoke", help="revoke one link, or every link of an address")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--link", help="the link (or its id) to revoke")
    which.add_argument("--email", help="revoke every link this address was given until now")
    revoke.add_argument("--reason", required=True)
    revoke.set_defaults(func=_revoke)


def _base_url(given: str | None) -> str:
    return given or os.environ.get(BASE_URL_ENV) or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from huizong.web.app import create_app, default_config
    from huizong.web.auth import SecretMissing

    config = default_config(demo=True if args.demo else None)
    try:
        config.signer  # noqa: B018 - refuse to start without a secret, not on first request
        from huizong.warehouse.db import migrate

        migrate(config.engine)
    except SecretMissing as exc:
        print(f"huizong web: {exc}", file=sys.stderr)
        return 2
    print(f"huizong web: serving on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning")
    return 0


def _link(args: argparse.Namespace) -> int:
    from huizong.web.auth import SecretMissing, make_link, resolve_secret

    try:
        secret = resolve_secret(demo=True if args.demo else None)
        url = make_link(args.email, args.unit, timedelta(days=args.days), secret=secret,
                        base_url=_base_url(args.base_url))
    except (SecretMissing, ValueError) as exc:
        print(f"huizong web link: {exc}", file=sys.stderr)
        return 2
    print(url)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from huizong.warehouse.db import get_engine, migrate
    from huizong.web.auth import link_id_of, revoke_link, revoke_links_of

    engine = get_engine()
    migrate(engine)
    if args.link:
        # A digest's links may carry ?unit=…&period=… (where they open): not part of the token.
        link = args.link.split("#", 1)[0].split("?", 1)[0]
        link_id = link if len(link) == 32 and "/" not in link else link_id_of(link)
        revoke_link(engine, link_id, reason=args.reason)
        print(f"revoked link {link_id}")
    else:
        revoke_links_of(engine, args.email, reason=args.reason)
        print(f"revoked every link given to {args.email} until now")
    return 0


def official_link_for_demo(engine, base_url: str, *, data_dir: Path | None = None) -> str:
    """A sign-in link for one official of the demo: the county with most to look at.

    Counties are ranked by the open findings of their towns, then by returns.

    Signed with ``HUIZONG_WEB_SECRET`` if set, else the demo secret of ``data_dir``;
    the server must run with the same (``HUIZONG_WEB_DEMO=1`` and the same data dir).
    """
    import sqlalchemy as sa

    from huizong.web.auth import make_link, resolve_secret

    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT r.email, r.unit_code FROM recipient AS r "
                "INNER JOIN dim_org_unit AS u ON r.unit_code = u.unit_code "
                "AND u.valid_to IS NULL WHERE u.level = 'county' "
                "ORDER BY (SELECT COUNT(*) FROM finding AS f "
                "INNER JOIN dim_org_unit AS c ON f.unit_code = c.unit_code "
                "WHERE f.resolved_at IS NULL AND (c.parent_code = r.unit_code "
                "OR c.unit_code = r.unit_code)) DESC, "
                "(SELECT COUNT(*) FROM return_submission AS s "
                "INNER JOIN dim_org_unit AS c ON s.unit_code = c.unit_code "
                "WHERE c.parent_code = r.unit_code) DESC, r.unit_code LIMIT 1"
            )
        ).first()
        if row is None:
            row = conn.execute(
                sa.text(
                    "SELECT 'official@' || u.parent_code || '.example.cn' AS email, "
                    "u.parent_code AS unit_code FROM return_submission AS s "
                    "INNER JOIN dim_org_unit AS u ON s.unit_code = u.unit_code "
                    "AND u.valid_to IS NULL WHERE u.parent_code IS NOT NULL "
                    "GROUP BY u.parent_code ORDER BY COUNT(*) DESC, u.parent_code LIMIT 1"
                )
            ).first()
    if row is None:
        raise LookupError("no returns in the warehouse yet: run the demo pipeline first")
    secret = resolve_secret(demo=True, data_dir=data_dir)
    return make_link(str(row.email), str(row.unit_code).strip(), secret=secret,
                     base_url=base_url)

"""Refuse placeholder and weak secrets before they protect anything.

``.env.example`` ships values such as ``CHANGE_ME-officials-link-secret-of-at-least-32-chars``;
compose's ``${VAR:?}`` only refuses a *missing* value, so a copied example file
used to start a stack whose officials' links anyone could sign. Every place
huizong reads a secret passes it through :func:`check_secret`, and
``huizong secrets check`` (the ``secrets-check`` service that compose runs
before ``postgres`` and ``redis``) checks every secret of ``.env`` at once.

A secret is refused when it is empty, contains a placeholder marker
(``CHANGE_ME``, ``changeme``, ``replace_me``, …), is a well-known default
(``secret``, ``password``, ``admin``, …), is shorter than its kind needs
(signing keys 32 characters, Airflow's JWT secret 64, passwords 16,
credentials issued by someone else 8), or has too little variety (few
distinct characters, or one chunk repeated). A Fernet key must also be one
(32 url-safe base64 bytes).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SIGNING_KEY = "signing key"
# Airflow signs its task and UI tokens with HS512 given a secret; PyJWT warns on
# every token signed with an HMAC key shorter than the hash (64 bytes).
JWT_KEY = "JWT signing key (HS512)"
PASSWORD = "password"  # noqa: S105 - a kind of secret, not a secret
ISSUED = "credential issued elsewhere"
FERNET = "Fernet key"


@dataclass(frozen=True)
class Kind:
    min_length: int
    generate: str


KINDS: dict[str, Kind] = {
    SIGNING_KEY: Kind(32, 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'),
    JWT_KEY: Kind(64, 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'),
    PASSWORD: Kind(16, 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'),
    ISSUED: Kind(8, "ask whoever issued it for a real one"),
    FERNET: Kind(
        44,
        'python3 -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"',
    ),
}

# The secrets docker-compose.yaml passes on, by variable, with their kind.
COMPOSE_SECRETS: dict[str, str] = {
    "AIRFLOW_ADMIN_PASSWORD": PASSWORD,
    "AIRFLOW_FERNET_KEY": FERNET,
    "AIRFLOW_JWT_SECRET": JWT_KEY,
    "AIRFLOW_API_SECRET_KEY": SIGNING_KEY,
    "POSTGRES_PASSWORD": PASSWORD,
    "REDIS_PASSWORD": PASSWORD,
    "FLOWER_PASSWORD": PASSWORD,
    "HUIZONG_WAREHOUSE_PASSWORD": PASSWORD,
    "HUIZONG_ANALYST_PASSWORD": PASSWORD,
    "HUIZONG_WEB_SECRET": SIGNING_KEY,
}
# URLs whose password, when they carry one, is checked too.
COMPOSE_URLS: dict[str, str] = {"HUIZONG_SMTP_URL": ISSUED}

_PLACEHOLDER_MARKERS = re.compile(
    r"change[_\-. ]?me|replace[_\-. ]?me|placeholder|your[_\-]|<[^>]*>|x{6,}|dummy|example",
    re.IGNORECASE,
)
# Values people leave in, compared without case.
_WELL_KNOWN = frozenset(
    {
        "secret", "secretkey", "secret_key", "password", "passw0rd", "password1",
        "admin", "administrator", "root", "test", "testing", "default", "letmein",
        "qwerty", "123456", "12345678", "123456789", "1234567890", "changeit",
        "airflow", "postgres", "redis", "huizong", "token", "mysecret", "s3cr3t",
        "temp", "guest", "none", "null",
    }
)


class WeakSecret(ValueError):
    """A secret that is missing, a placeholder or weak; the message says which and how to fix."""


def problem(value: str | None, kind: str = SIGNING_KEY) -> str | None:
    """Why ``value`` is not an acceptable secret of ``kind``, or None if it is."""
    spec = KINDS[kind]
    if value is None or not value.strip():
        return "is not set"
    value = value.strip()
    if _PLACEHOLDER_MARKERS.search(value) or value.lower() in _WELL_KNOWN:
        return "is still a placeholder"
    if len(value) < spec.min_length:
        return f"is too short ({len(value)} characters; at least {spec.min_length})"
    distinct = len(set(value))
    if distinct < min(10, spec.min_length // 2):
        return f"has too little variety ({distinct} distinct characters)"
    for size in range(1, len(value) // 2 + 1):
        if len(value) % size == 0 and value == value[:size] * (len(value) // size):
            return "is one short pattern repeated"
    if kind == FERNET:
        try:
            from cryptography.fernet import Fernet

            Fernet(value.encode())
        except (ValueError, TypeError):
            return "is not a Fernet key (32 url-safe base64-encoded bytes)"
    return None


def check_secret(name: str, value: str | None, kind: str = SIGNING_KEY) -> str:
    """``value`` stripped, or :class:`WeakSecret` naming ``name`` and how to generate one."""
    why = problem(value, kind)
    if why is not None:
        raise WeakSecret(f"{name} {why}; set a {kind}: {KINDS[kind].generate}")
    return (value or "").strip()


def url_password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def check_url_password(name: str, url: str | None, kind: str = ISSUED) -> None:
    """Refuse a URL whose password is a placeholder or weak; no password is fine."""
    password = url_password(url)
    if password is not None:
        check_secret(f"the password in {name}", password, kind)


def check_environment(env: Mapping[str, str]) -> list[str]:
    """Every problem with the compose secrets in ``env``, one line each."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, kind in COMPOSE_SECRETS.items():
        value = env.get(name)
        try:
            check_secret(name, value, kind)
        except WeakSecret as exc:
            problems.append(str(exc))
            continue
        stripped = (value or "").strip()
        if stripped in seen:
            problems.append(
                f"{name} has the same value as {seen[stripped]}; give each secret its own"
            )
        seen.setdefault(stripped, name)
    for name, kind in COMPOSE_URLS.items():
        try:
            check_url_password(name, env.get(name), kind)
        except WeakSecret as exc:
            problems.append(str(exc))
    return problems


def cmd_secrets_check(args: argparse.Namespace) -> int:
    problems = check_environment(os.environ)
    for line in problems:
        print(f"huizong secrets check: {line}", file=sys.stderr)
    if problems:
        print(
            f"huizong secrets check: refused to start: {len(problems)} secret(s) to replace "
            "in .env (then run docker compose up again)",
            file=sys.stderr,
        )
        return 1
    print(f"huizong secrets check: {len(COMPOSE_SECRETS)} secrets set, none a placeholder")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    secrets_parser = subparsers.add_parser("secrets", help="check configured secrets")
    sub = secrets_parser.add_subparsers(title="secrets commands", metavar="COMMAND", required=True)
    check = sub.add_parser(
        "check",
        help="refuse placeholder or weak secrets in the environment (compose runs it first)",
        description=(
            "Check every secret docker-compose.yaml uses ("
            + ", ".join(COMPOSE_SECRETS)
            + ", and the password in HUIZONG_SMTP_URL) in the environment: "
            "missing, CHANGE_ME placeholders, well-known defaults, too short, too "
            "little variety, or two secrets with one value are refused with how "
            "to generate a good one. Exit 1 if any is."
        ),
    )
    check.set_defaults(func=cmd_secrets_check)

"""Who hears about which units: the recipient table and org-unit subtrees.

An official is registered for a unit and sees that unit and everything below
it (``dim_org_unit.parent_code``), never a sibling's data.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

SUBTREE_SQL = """
WITH RECURSIVE subtree (unit_code) AS (
    SELECT CAST(:root AS CHAR(12))
    UNION
    SELECT u.unit_code
    FROM dim_org_unit AS u
    INNER JOIN subtree AS s ON u.parent_code = s.unit_code
    WHERE u.valid_to IS NULL
)
SELECT unit_code FROM subtree
"""


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    unit_code: str
    role: str


class RecipientFileError(ValueError):
    """A recipients CSV that cannot be loaded; the message names the row."""


def _read_rows(csv_path: Path | str | None) -> tuple[str, list[dict[str, str]]]:
    if csv_path is None:
        text = resources.files("huizong.data").joinpath("recipients_demo.csv").read_text("utf-8")
        name = "recipients_demo.csv"
    else:
        name = str(csv_path)
        text = Path(csv_path).read_text(encoding="utf-8-sig")
    return name, list(csv.DictReader(io.StringIO(text)))


def load_recipients(engine: Engine, csv_path: Path | str | None = None) -> int:
    """Upsert recipients from a CSV (email,name,unit_code,role); the demo list by default."""
    name, rows = _read_rows(csv_path)
    clean = []
    for line, row in enumerate(rows, start=2):
        email = (row.get("email") or "").strip()
        unit = (row.get("unit_code") or "").strip()
        if "@" not in email:
            raise RecipientFileError(f"{name}:{line}: email {email!r} is not an address")
        if not (len(unit) == 12 and unit.isdigit()):
            raise RecipientFileError(f"{name}:{line}: unit_code {unit!r} is not 12 digits")
        clean.append(
            {
                "email": email.lower(),
                "name": (row.get("name") or "").strip() or email,
                "unit_code": unit,
                "role": (row.get("role") or "").strip() or "official",
            }
        )
    if not clean:
        return 0
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO recipient (email, name, unit_code, role) "
                "VALUES (:email, :name, :unit_code, :role) "
                "ON CONFLICT (email, unit_code) DO UPDATE SE"
                "T name = excluded.name, role = excluded.role"
            ),
            clean,
        )
    return len(clean)


def list_recipients(engine: Engine) -> list[Recipient]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT email, name, unit_code, role FROM recipient ORDER BY email, unit_code")
        )
        return [Recipient(r.email, r.name, r.unit_code.strip(), r.role) for r in rows]


def subtree(engine: Engine, unit_code: str) -> set[str]:
    """The unit and all its current descendants."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(SUBTREE_SQL), {"root": unit_code})
        return {r.unit_code.strip() for r in rows}

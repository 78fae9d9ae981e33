"""Plants returns in a test warehouse: staged rows, published facts, and what publish does."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

COUNTY = "621228000000"  # 两当县
TOWNS = [
    "621228100000", "621228101000", "621228102000", "621228103000", "621228104000",
    "621228105000", "621228201000", "621228203000", "621228204000", "621228205000",
    "621228207000", "621228208000",
]  # fmt: skip
OTHER_COUNTY = "450224000000"  # 融安县


def _sid(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


class Warehouse:
    def __init__(self, engine):
        self.engine = engine

    def _submission(self, conn, unit, period, version, status, submitted_at, form):
        sid = _sid("test", unit, form, period, version)
        at = datetime.fromisoformat(submitted_at) if submitted_at else datetime(2025, 1, 5, 9, 0)
        conn.execute(
            sa.text(
                "INSERT INTO return_submission (submission_id, unit_code, form, period, version, "
                "channel, source_uri, raw_sha256, raw_path, rec"
                "eived_at, submitted_at, submitted_on, status, "
                "batch_id) VALUES (:sid, :unit, :form, :per"
                "iod, :version, 'drop', :uri, :sha, '/raw', "
                ":at, :at, :on, :status, 'b1')"
            ),
            {
                "sid": sid, "unit": unit, "form": form, "period": period, "version": version,
                "uri": f"{unit}/{form}/{period}/v{version}.xlsx", "sha": _sid("raw", sid),
                "at": at, "on": at.date(), "status": status,
            },
        )  # fmt: skip
        return sid

    @staticmethod
    def _triple(value):
        if isinstance(value, tuple):
            return value
        return (value, None, None)

    def stage(self, unit, period, values, *, version=1, form="FL-01", submitted_at=None) -> str:
        """Plant a staged return; ``values`` maps code -> current or (current, ytd, last_year)."""
        with self.engine.begin() as conn:
            sid = self._submission(conn, unit, period, version, "staged", submitted_at, form)
            rows = []
            for n, (code, value) in enumerate(sorted(values.items()), start=6):
                cur, ytd, last = self._triple(value)
                rows.append(
                    {
                        "sid": sid, "unit": unit, "form": form, "period": period,
                        "version": version, "code": code, "cur": cur, "ytd": ytd, "ly": last,
                        "c1": f"Sheet1!D{n}", "c2": f"Sheet1!E{n}", "c3": f"Sheet1!F{n}",
                    }
                )  # fmt: skip
            conn.execute(
                sa.text(
                    "INSERT INTO stg_return_value (batch_id, "
                    "submission_id, unit_code, form, period, "
                    "version, indicator_code, value_current, v"
                    "alue_ytd, value_last_year, cell_current, "
                    "cell_ytd, cell_last_year) VALUES ('b1',"
                    " :sid, :unit, :form, :period, :version, "
                    ":code, :cur, :ytd, :ly, :c1, :c2, :c3)"
                ),
                rows,
            )
        return sid

    def publish(self, unit, period, values, *, version=1, form="FL-01", submitted_at=None) -> str:
        """Plant a published return straight into the facts (latest version)."""
        with self.engine.begin() as conn:
            sid = self._submission(conn, unit, period, version, "published", submitted_at, form)
            conn.execute(
                sa.text(
                    "UPDATE fact_indicator_value SET is_latest = FALSE "
                    "WHERE unit_code = :unit AND form = :form AND period = :period"
                ),
                {"unit": unit, "form": form, "period": period},
            )
            rows = []
            for code, value in values.items():
                cur, ytd, last = self._triple(value)
                rows.append(
                    {
                        "unit": unit, "form": form, "code": code, "period": period, "ref": sid,
                        "version": version, "cur": cur, "ytd": ytd, "ly": last,
                    }
                )  # fmt: skip
            conn.execute(
                sa.text(
                    "INSERT INTO fact_indicator_value (unit_co"
                    "de, form, indicator_code, period, source, "
                    "source_ref, version, is_latest, value_current, value_ytd, value_last_year, "
                    "has_warnings, batch_id) VALUES (:unit, :form, :code, :period, 'return', :ref, "
                    ":version, TRUE, :cur, :ytd, :ly, FALSE, 'b0')"
                ),
                rows,
            )
        return sid

    def mark_published(self) -> None:
        """What publish does, enough for the checks: staged → published facts."""
        with self.engine.begin() as conn:
            staged = conn.execute(
                sa.text(
                    "SELECT v.* FROM stg_return_value v JOIN return_submission s "
                    "ON s.submission_id = v.submission_id WHERE s.status = 'staged'"
                )
            ).fetchall()
            for r in staged:
                conn.execute(
                    sa.text(
                        "UPDATE fact_indicator_value SET is_latest = FALSE WHERE unit_code = :u "
                        "AND form = :f AND period = :p AND indicator_code = :c"
                    ),
                    {"u": r.unit_code, "f": r.form, "p": r.period, "c": r.indicator_code},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO fact_indicator_value (uni"
                        "t_code, form, indicator_code, period, "
                        "source, source_ref, version, is_latest, value_current, value_ytd, "
                        "value_last_year, has_warnings, batch_"
                        "id) VALUES (:u, :f, :c, :p, 'return', "
                        ":s, :v, TRUE, :cur, :ytd, :ly, FALSE, 'b1')"
                    ),
                    {
                        "u": r.unit_code, "f": r.form, "c": r.indicator_code, "p": r.period,
                        "s": r.submission_id, "v": r.version, "cur": r.value_current,
                        "ytd": r.value_ytd, "ly": r.value_last_year,
                    },
                )  # fmt: skip
            conn.execute(
                sa.text("UPDATE return_submission SET status = 'published' WHERE status = 'staged'")
            )

"""Where huizong keeps things, read from the environment.

Every path and URL has an embedded default under one data directory so the
demo runs with nothing configured; production sets the variables (or, inside
Airflow, the ``huizong_warehouse`` / ``huizong_smtp`` connections, resolved by
the Airflow glue in ``plugins/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _default_data_dir() -> Path:
    return Path(os.environ.get("HUIZONG_DATA_DIR", Path.cwd() / "var")).resolve()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_url: str
    raw_dir: Path  # immutable landing of everything received, partitioned by run
    drop_dir: Path  # returns drop folder: <unit code>/<form>/<period>/<file>
    outbox_dir: Path  # alert e-mails written as .eml when no SMTP is configured
    docs_dir: Path  # Great Expectations Data Docs site
    portals_file: Path | None

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = _default_data_dir()
        portals = os.environ.get("HUIZONG_PORTALS_FILE")
        return cls(
            data_dir=data_dir,
            warehouse_url=os.environ.get(
                "HUIZONG_WAREHOUSE_URL", f"sqlite:///{data_dir / 'warehouse.db'}"
            ),
            raw_dir=Path(os.environ.get("HUIZONG_RAW_DIR", data_dir / "raw")),
            drop_dir=Path(os.environ.get("HUIZONG_DROP_DIR", data_dir / "drop")),
            outbox_dir=Path(os.environ.get("HUIZONG_OUTBOX_DIR", data_dir / "outbox")),
            docs_dir=Path(os.environ.get("HUIZONG_DOCS_DIR", data_dir / "data_docs")),
            portals_file=Path(portals) if portals else None,
        )


def get_settings() -> Settings:
    return Settings.from_env()

"""A quality finding: one check's verdict on one unit, indicator and period."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    check_name: str  # e.g. "subtotal_le_parent", "parent_eq_sum_children", "gx:…"
    severity: str  # "error" blocks publishing that return; "warn" publishes with a flag
    unit_code: str
    form: str
    period: str
    message_zh: str
    message_en: str
    indicator_code: str | None = None
    submission_id: str | None = None
    observed: float | None = None
    expected: float | None = None
    evidence: str | None = None  # the cell ("Sheet1!D12") or notice quote behind it

    @property
    def finding_id(self) -> str:
        # Not keyed on the submission: the same problem in a resubmitted version
        # is the same finding, and it resolves when a check run no longer sees it.
        key = "|".join(
            [
                self.check_name,
                self.unit_code,
                self.form,
                self.indicator_code or "",
                self.period,
            ]
        )
        return hashlib.sha256(key.encode()).hexdigest()

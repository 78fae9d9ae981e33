"""Numbers as the decimals they stand for, for every sink that prints them.

Shared by ``huizong sql`` (``huizong.warehouse.cli``) and the officials' CSV
downloads (``huizong.web.export``) so both write 0.3, never 0.30000000000000004.
"""

from __future__ import annotations

from decimal import Decimal

# A binary float carries 15 significant decimal digits faithfully (DBL_DIG):
# any decimal of up to 15 digits survives the trip through a float, and what a
# float adds beyond them is noise of the arithmetic (0.1 + 0.2).
_FLOAT_DIGITS = 15


def exact_decimal(value: float) -> Decimal:
    """The decimal a SQLite REAL stands for: 0.30000000000000004 → 0.3, 5.0 → 5.

    SQLite has no decimal type: a NUMERIC(20, 2) value is stored as the float
    nearest to it, and SUM or subtraction of such floats drifts in the last
    binary digit. Rounding to 15 significant digits gives back the decimal
    that was stored or meant; PostgreSQL hands out ``Decimal`` and needs none of this.
    """
    exact = Decimal(format(value, f".{_FLOAT_DIGITS}g"))
    if not exact:
        return Decimal(0)  # also -0.0, which a difference of equal floats can be
    return exact.quantize(Decimal(1)) if exact == exact.to_integral_value() else exact

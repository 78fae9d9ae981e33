"""Text that leaves huizong: no formula to run, no control sequence to obey.

Every sink that shows submitted text to a person or a program — JSON from the
CLI, CSV for analysts, web pages, e-mail, the terminal — passes it through this
module, because the text came from a workbook or a web page anyone could write.
Two hazards, one place:

* **Formula injection** (OWASP "CSV Injection", ASVS 1.2.10): a field starting
  with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a NUL is run as a
  formula by Excel, WPS or LibreOffice when the output is opened there
  (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``). :func:`formula_safe` prefixes such
  text with ``'``, which every spreadsheet shows instead of evaluating. Leading
  blanks are looked through (LibreOffice trims them on import) and the
  full-width ``＝＋－＠`` count too (WPS reads them as their ASCII twins). As
  OWASP says, text such as ``-5`` is prefixed too (a number *value* is not text
  and stays a number); only :func:`page_safe` lets a plain number through, since
  a page is no spreadsheet and shows formatted figures such as ``-3.50``.
* **Control and bidirectional characters**: ESC sequences recolour or rewrite a
  terminal, BEL/BS/NEL move the cursor, RLO (U+202E) and the isolates
  (U+2066…U+2069) reorder what a reader sees on a page or in a mail client
  (``gpj.exe`` shown as ``exe.jpg``), and Excel's ``_x001B_`` escapes turn back
  into ESC when the text is written to a workbook. :func:`visible` replaces each
  with a visible stand-in — a control picture (``␛``) or ``[U+202E]`` — so the
  reader sees that something was there and nothing acts on it.

:func:`safe_text` applies both; :func:`safe_json` walks a JSON-ready structure
and also turns non-finite floats into ``null`` (strict JSON has no NaN).
"""

from __future__ import annotations

import math
import re
from typing import Any

# Characters a terminal, a page or a mail client would act on rather than show:
# C0 controls except tab/newline (handled by the caller's context), DEL, C1
# controls (NEL U+0085 among them), the bidi embeddings/overrides/isolates and
# marks, and the line/paragraph separators that split a line where none shows.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f" + _BIDI + "\u2028\u2029"
_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
_LINE_CONTROL = re.compile(f"[{_CONTROL_CLASS}\t\n\r]")
# Excel writes a control character in cell text as _xHHHH_ (ECMA-376 ST_Xstring).
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")

FORMULA_LEADERS = frozenset("=+-@\t\r\n\x00＝＋－＠")
_PLAIN_NUMBER = re.compile(r"[+\-－＋]?\d[\d,]*(?:\.\d+)?(?:[eE][+-]?\d+)?%?")
_LEADING_BLANKS = " \u3000\u00a0"


def is_control(ch: str) -> bool:
    """True for a character :func:`visible` would replace."""
    return bool(_CONTROL.fullmatch(ch))


def without_controls(text: str) -> str:
    """``text`` with every control/bidi character removed (tabs and newlines kept)."""
    return _CONTROL.sub("", text)


def has_controls(text: str) -> bool:
    """True if :func:`visible` would change ``text`` (line breaks and tabs aside)."""
    return bool(_CONTROL.search(text) or (_EXCEL_ESCAPE.search(text) and visible(text) != text))


def _picture(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"[U+{code:04X}]"


def _excel_escape(match: re.Match[str]) -> str:
    ch = chr(int(match.group(1), 16))
    return _picture(ch) if _CONTROL.fullmatch(ch) or ch in "\t\n\r" else match.group(0)


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control/bidi character (and ``_x001B_`` escape of one)
    replaced by a visible stand-in. ``one_line`` also shows tabs and line breaks
    (a terminal table cell, an e-mail header, a log line)."""
    text = _EXCEL_ESCAPE.sub(_excel_escape, text)
    pattern = _LINE_CONTROL if one_line else _CONTROL
    return pattern.sub(lambda m: _picture(m.group(0)), text)


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet would run ``text`` as a formula (see module doc)."""
    if len(text) < 2:  # a lone "-" or "=" is shown as typed, never run
        return False
    if text[0] in FORMULA_LEADERS:
        return True
    stripped = text.lstrip(_LEADING_BLANKS)
    return stripped != text and looks_like_formula(stripped)


def formula_safe(text: str) -> str:
    """``text``, prefixed with ``'`` if a spreadsheet would evaluate it (OWASP)."""
    return "'" + text if looks_like_formula(text) else text


def safe_text(text: str, *, one_line: bool = False) -> str:
    """Submitted text made safe for any sink: controls visible, formulas inert."""
    return formula_safe(visible(text, one_line=one_line))


def safe_value(value: Any, *, one_line: bool = False) -> Any:
    """A scalar for any sink: strings via :func:`safe_text`, non-finite floats to None."""
    if isinstance(value, str):
        return safe_text(value, one_line=one_line)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_TOKEN = re.compile(r"-[A-Za-z0-9_\-]+")


def page_safe(value: Any) -> Any:
    """A value for an HTML template (Jinja ``finalize``): controls shown, formulas inert.

    Markup the template already trusts passes unchanged, and so do a formatted
    figure (``-3.50``, ``-12%``) and a bare ``-token`` (a base64url CSRF token or
    signature may start with ``-``; with no operator, bracket or ``|`` it can
    reference nothing a spreadsheet runs).
    """
    if not isinstance(value, str) or hasattr(value, "__html__"):
        return value
    text = visible(value)
    if (
        looks_like_formula(text)
        and not _TOKEN.fullmatch(text)
        and not _PLAIN_NUMBER.fullmatch(text)
    ):
        return "'" + text
    return text


def safe_json(value: Any) -> Any:
    """A JSON-ready structure with every string (keys too) and float made safe.

    Dump the result with ``allow_nan=False``: it then either is strict JSON or
    raises, never emits ``NaN``/``Infinity``.
    """
    if isinstance(value, dict):
        return {safe_json(k) if isinstance(k, str) else k: safe_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_json(v) for v in value]
    return safe_value(value)


__all__ = [
    "FORMULA_LEADERS",
    "formula_safe",
    "has_controls",
    "is_control",
    "looks_like_formula",
    "page_safe",
    "safe_json",
    "safe_text",
    "safe_value",
    "visible",
    "without_controls",
]

"""Decoding page bytes: the declared charset first, then detection.

One decoder for the crawler and for files read from disk (``huizong extract``).
Legacy Chinese labels are widened to GB18030, and every candidate is tried
strictly, so a wrong declaration falls through instead of producing
replacement characters.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

# Legacy Chinese labels map to GB18030, a strict superset: pages labelled
# gb2312 routinely contain GBK-only characters (·, —, 塅) and would fail or be
# mangled by a literal gb2312 decode.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",  # what browsers do; latin-1 labels are usually cp1252
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_META_SNIFF_BYTES = 4096
# Browsers also honour a <meta charset> met later in the head (they re-decode
# when the parser reaches it), so one after a long inline <style> or <script>
# still counts: look on up to the start of the body, within this bound.
_META_HEAD_BYTES = 1 << 20
_BODY_START = re.compile(rb"<body[\s>]", re.IGNORECASE)
# A declared charset that fails on only a few bytes (a page cut mid-character,
# one corrupt byte) is still the page's charset: browsers decode it with
# replacement characters, and so do we, rather than guess another codec.
_MAX_REPLACED_FRACTION = 1 / 1000
_MIN_REPLACED_ALLOWED = 1


# Detection reads short GBK pages with much ASCII markup as cp1250, cp949 or
# the like. A body that decodes strictly as GB18030 into mostly common Han
# characters is Chinese (these are Chinese portals): a single-byte reading of
# the same bytes cannot be right. Big5 bytes also decode as GBK, so a Chinese
# codec that detection names is kept.
_CHINESE_CODECS = frozenset(["gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp950"])
_COMMON_HAN = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
_MIN_HAN_SHARE = 0.9


def _as_chinese(body: bytes) -> str | None:
    if b"\x00" in body:
        return None
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        return None
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if non_ascii == 0:
        return None
    han = len(text) - len(_COMMON_HAN.sub("", text))
    return text if han >= _MIN_HAN_SHARE * non_ascii else None


class CharsetError(ValueError):
    """The body cannot be decoded with its declared or a detected charset."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # the Python codec that decoded the body
    declared_encoding: str | None  # the label the header or <meta> gave, as written
    detected_encoding: str | None  # set when detection had to be used
    replaced: int = 0  # undecodable byte sequences shown as U+FFFD


def normalize_charset(label: str) -> str | None:
    """Python codec name for a charset label, with legacy Chinese labels widened."""
    label = label.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def charset_from_meta(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_META_SNIFF_BYTES])
    if match is None and len(body) > _META_SNIFF_BYTES:
        head = body[:_META_HEAD_BYTES]
        body_start = _BODY_START.search(head)
        match = _META_CHARSET.search(head[: body_start.start() if body_start else None])
    return match.group(1).decode("ascii", "replace") if match else None


def decode_html(
    body: bytes, content_type: str | None = None, *, sniff_meta: bool = True
) -> DecodedText:
    """Decode a page body: HTTP header, then ``<meta>``, then UTF-8, then detection.

    Each candidate is tried strictly; a wrong declaration falls through to the
    next rather than producing replacement characters, unless it fails on only
    a few bytes (then it is right, and those bytes become U+FFFD, as in a
    browser). A strict UTF-8 decode
    that succeeds is right for all practical purposes, and detection is least
    reliable on short Chinese text, so UTF-8 goes before it; GB18030 is the
    last resort for undeclared Chinese text that detection could not place.
    """
    header_label = charset_from_content_type(content_type)
    meta_label = charset_from_meta(body) if sniff_meta else None
    declared = header_label or meta_label
    candidates: list[str] = []
    if body.startswith(codecs.BOM_UTF8):
        candidates.append("utf-8-sig")
    for label in (header_label, meta_label, "utf-8"):
        codec = normalize_charset(label) if label else None
        if codec and codec not in candidates:
            candidates.append(codec)
    for codec in candidates:
        try:
            return DecodedText(body.decode(codec), codec, declared, None)
        except UnicodeDecodeError:
            continue
    if declared:
        # The candidate that fails on fewest bytes: the HTTP header may be the
        # server's wrong default while the page's own <meta> is right.
        allowed = max(_MIN_REPLACED_ALLOWED, len(body) * _MAX_REPLACED_FRACTION)
        best_text, best_codec, best_replaced = "", "", allowed + 1
        for codec in candidates:
            text = body.decode(codec, errors="replace")
            replaced = text.count("\ufffd")
            if replaced < best_replaced:
                best_text, best_codec, best_replaced = text, codec, replaced
        if best_replaced <= allowed:
            return DecodedText(best_text, best_codec, declared, None, best_replaced)
    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        codec = normalize_charset(best.encoding) or best.encoding
        if codec not in _CHINESE_CODECS:
            chinese = _as_chinese(body)
            if chinese is not None:
                return DecodedText(chinese, "gb18030", declared, best.encoding)
        try:
            return DecodedText(body.decode(codec), codec, declared, best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return DecodedText(body.decode("gb18030"), "gb18030", declared, None)
    except UnicodeDecodeError:
        pass
    tried = ", ".join(candidates) or "no declared charset"
    raise CharsetError(f"cannot decode body ({tried}; detection found nothing that fits)")

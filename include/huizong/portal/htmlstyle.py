"""What a page's own CSS hides: a small CSS reader and selector matcher for lxml trees.

Only what decides whether text is on screen is read: the ``display`` and
``visibility`` declarations of the page's ``<style>`` blocks and ``style``
attributes, with the cascade (``!important``, inline over sheet, specificity,
order). Stylesheets follow CSS Syntax Level 3 closely enough for that: comments,
strings, escapes, nested blocks and at-rules are tokenized, not pattern-matched,
so ``/* display:none */`` hides nothing and ``DISPLAY : None !IMPORTANT`` does.

Selectors are compiled to XPath 1.0 and run by libxml2 (one C pass per rule,
which matters on pages of hundreds of thousands of elements). Supported: type,
universal, ``#id``, ``.class``, attribute selectors with every operator and the
``i`` flag, the four combinators, selector lists, and the structural
pseudo-classes ``:first-child`` ``:last-child`` ``:only-child`` ``:nth-child()``
``:nth-last-child()`` ``:first-of-type`` ``:last-of-type`` ``:root`` ``:empty``
and ``:not()``. A selector using anything else (``:hover``, ``:checked``,
pseudo-elements, namespaces) depends on state or generated content a saved
page does not have; its rule is ignored, so what it would hide is kept.

Rules inside ``@media`` blocks apply only when the block applies to every
screen (``screen``, ``all``); content hidden on some screen sizes only is
visible to some readers and is kept. External stylesheets are not fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

# --- tokens -------------------------------------------------------------------

_WS = " \t\n\r\f"
_HEX = "0123456789abcdefABCDEF"
_NAME_CHAR = re.compile(r"[A-Za-z0-9_\-\u0080-\U0010ffff]")
_NAME_RUN = re.compile(r"[A-Za-z0-9_\-\u0080-\U0010ffff]+")
_WS_RUN = re.compile(r"[ \t\n\r\f]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_STRING_RUN = {q: re.compile(r"[^\\\n" + q + "]+") for q in "\"'"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident, function, at, hash, string, number, delim, ws, ( ) [ ] { } : ; , cdo cdc
    value: str = ""


def _escape(text: str, i: int) -> tuple[str, int]:
    """The character of the escape starting after the backslash at ``i``."""
    if i >= len(text):
        return "\ufffd", i
    if text[i] in _HEX:
        j = i
        while j < len(text) and j - i < 6 and text[j] in _HEX:
            j += 1
        code = int(text[i:j], 16)
        if j < len(text) and text[j] in _WS:
            j += 1
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd", j
        return chr(code), j
    return text[i], i + 1


def _name(text: str, i: int) -> tuple[str, int]:
    out = []
    while i < len(text):
        run = _NAME_RUN.match(text, i)
        if run:
            out.append(run.group())
            i = run.end()
        elif text[i] == "\\" and i + 1 < len(text) and text[i + 1] != "\n":
            char, i = _escape(text, i + 1)
            out.append(char)
        else:
            break
    return "".join(out), i


def _starts_name(text: str, i: int) -> bool:
    if i >= len(text):
        return False
    ch = text[i]
    if ch == "-":
        nxt = text[i + 1 : i + 2]
        return bool(nxt) and (nxt == "-" or _starts_name(text, i + 1))
    if ch == "\\":
        return text[i + 1 : i + 2] not in ("", "\n")
    return bool(_NAME_CHAR.match(ch)) and not ch.isdigit()


def tokenize(text: str) -> Iterator[Token]:
    """CSS tokens of ``text``, comments dropped."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch in _WS:
            yield Token("ws", " ")
            i = _WS_RUN.match(text, i).end()  # type: ignore[union-attr]
        elif ch in "\"'":
            out = []
            j = i + 1
            plain = _STRING_RUN[ch]
            while j < n and text[j] != ch:
                run = plain.match(text, j)
                if run:
                    out.append(run.group())
                    j = run.end()
                elif text[j] == "\\":
                    if text[j + 1 : j + 2] == "\n":
                        j += 2
                        continue
                    char, j = _escape(text, j + 1)
                    out.append(char)
                elif text[j] == "\n":
                    break  # a bad string ends at the line end
                else:
                    out.append(text[j])
                    j += 1
            yield Token("string", "".join(out))
            i = j + 1
        elif ch == "#" and i + 1 < n and (_NAME_CHAR.match(text[i + 1]) or text[i + 1] == "\\"):
            name, i = _name(text, i + 1)
            yield Token("hash", name)
        elif ch == "@" and _starts_name(text, i + 1):
            name, i = _name(text, i + 1)
            yield Token("at", name.lower())
        elif ch.isdigit() or (ch in "+-." and re.match(r"[+-]?\.?\d", text[i : i + 3])):
            match = _NUMBER.match(text, i)
            assert match is not None
            i = match.end()
            unit = ""
            if i < n and text[i] == "%":
                unit, i = "%", i + 1
            elif _starts_name(text, i):
                unit, i = _name(text, i)
            yield Token("number", match.group() + unit)
        elif _starts_name(text, i):
            name, i = _name(text, i)
            if i < n and text[i] == "(":
                i += 1
                if name.lower() == "url":
                    # url(...) is one token; its content may hold anything.
                    depth_end = text.find(")", i)
                    i = n if depth_end < 0 else depth_end + 1
                    yield Token("string", "")
                    continue
                yield Token("function", name.lower())
            else:
                yield Token("ident", name)
        elif text.startswith("<!--", i):
            yield Token("cdo")
            i += 4
        elif text.startswith("-->", i):
            yield Token("cdc")
            i += 3
        elif ch in "()[]{}:;,":
            yield Token(ch)
            i += 1
        else:
            yield Token("delim", ch)
            i += 1


_CLOSE = {"(": ")", "[": "]", "{": "}", "function": ")"}


def _block(tokens: list[Token], i: int) -> int:
    """Index just past the block opened at ``tokens[i]`` (nesting respected)."""
    stack = [_CLOSE[tokens[i].kind]]
    i += 1
    while i < len(tokens) and stack:
        kind = tokens[i].kind
        if kind in _CLOSE:
            stack.append(_CLOSE[kind])
        elif kind == stack[-1]:
            stack.pop()
        i += 1
    return i


# --- stylesheets ------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    name: str  # lower case
    value: str  # identifiers lower-cased, joined by single spaces
    important: bool


@dataclass(frozen=True)
class StyleRule:
    selector: str  # the prelude as written (comments removed)
    declarations: tuple[Declaration, ...]


def parse_declarations(tokens: list[Token]) -> list[Declaration]:
    """Declarations of a block's content (or of a ``style`` attribute)."""
    out: list[Declaration] = []
    parts: list[list[Token]] = [[]]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == ";":
            parts.append([])
            i += 1
            continue
        if token.kind in _CLOSE:
            end = _block(tokens, i)
            parts[-1].extend(tokens[i:end])
            i = end
            continue
        parts[-1].append(token)
        i += 1
    for part in parts:
        part = [t for t in part if t.kind != "ws"]
        if len(part) < 2 or part[0].kind != "ident" or part[1].kind != ":":
            continue
        value = part[2:]
        important = False
        if (
            len(value) >= 2
            and value[-2].kind == "delim"
            and value[-2].value == "!"
            and value[-1].kind == "ident"
            and value[-1].value.lower() == "important"
        ):
            important, value = True, value[:-2]
        text = " ".join(t.value.lower() if t.kind == "ident" else t.value or t.kind for t in value)
        out.append(Declaration(part[0].value.lower(), text, important))
    return out


def _media_applies_to_every_screen(prelude: list[Token]) -> bool:
    """True when a ``@media`` prelude selects all screens: ``screen``, ``all``, ``only screen``."""
    queries: list[list[str]] = [[]]
    for token in prelude:
        if token.kind == ",":
            queries.append([])
        elif token.kind != "ws":
            queries[-1].append(token.value.lower() if token.kind == "ident" else token.kind)
    return any(q in (["screen"], ["all"], ["only", "screen"], ["only", "all"]) for q in queries)


def parse_stylesheet(text: str) -> list[StyleRule]:
    """The style rules of a stylesheet that apply on a screen, in document order."""
    return _rules(list(tokenize(text)), top_level=True)


def _rules(tokens: list[Token], *, top_level: bool) -> list[StyleRule]:
    rules: list[StyleRule] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind in ("ws", ";") or (top_level and token.kind in ("cdo", "cdc")):
            i += 1
            continue
        if token.kind == "at":
            start = i + 1
            while i < len(tokens) and tokens[i].kind not in ("{", ";"):
                i = _block(tokens, i) if tokens[i].kind in ("(", "[", "function") else i + 1
            if i >= len(tokens) or tokens[i].kind == ";":
                i += 1
                continue
            end = _block(tokens, i)
            inner = tokens[i + 1 : end - 1]
            # @supports and @layer hold rules that apply as written; @container
            # and @scope rules depend on layout or scoping not modelled here.
            if (token.value == "media" and _media_applies_to_every_screen(tokens[start:i])) or (
                token.value in ("supports", "layer")
            ):
                rules.extend(_rules(inner, top_level=False))
            i = end
            continue
        start = i
        while i < len(tokens) and tokens[i].kind != "{":
            i = _block(tokens, i) if tokens[i].kind in ("(", "[", "function") else i + 1
        if i >= len(tokens):
            break
        end = _block(tokens, i)
        prelude = _serialize(tokens[start:i]).strip()
        declarations = parse_declarations(tokens[i + 1 : end - 1])
        if prelude and declarations:
            rules.append(StyleRule(prelude, tuple(declarations)))
        i = end
    return rules


def _serialize(tokens: list[Token]) -> str:
    out = []
    for t in tokens:
        if t.kind == "ws":
            out.append(" ")
        elif t.kind == "hash":
            out.append("#" + _css_escape(t.value))
        elif t.kind == "ident":
            out.append(_css_escape(t.value))
        elif t.kind == "function":
            out.append(t.value + "(")
        elif t.kind == "at":
            out.append("@" + t.value)
        elif t.kind == "string":
            out.append('"' + t.value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif t.kind in ("number", "delim"):
            out.append(t.value)
        else:
            out.append(t.kind)
    return "".join(out)


def _css_escape(name: str) -> str:
    return "".join(ch if _NAME_CHAR.match(ch) else "\\" + ch for ch in name)


# --- selectors -----------------------------------------------------------------


class UnsupportedSelector(ValueError):
    """A selector outside the supported subset (see the module docstring)."""


@dataclass(frozen=True)
class CompiledSelector:
    xpath: str  # finds the matching elements under a context node
    specificity: tuple[int, int, int]
    test: str  # true for a context element that matches (anchored at the subject)
    key: tuple[str, str] | None  # ("id"|"class"|"tag", name) every match must have


_STRUCTURAL = frozenset(
    ["first-child", "last-child", "only-child", "first-of-type", "last-of-type", "root", "empty"]
)


def _literal(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in value.split("'")) + ")"


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def _nth(tokens: list[Token]) -> tuple[int, int]:
    text = "".join(t.value if t.kind != "ws" else "" for t in tokens).lower().replace(" ", "")
    if text == "odd":
        return 2, 1
    if text == "even":
        return 2, 0
    match = re.fullmatch(r"([+-]?\d*)n([+-]\d+)?|([+-]?\d+)", text)
    if not match:
        raise UnsupportedSelector(f"bad :nth-child argument {text!r}")
    if match.group(3) is not None:
        return 0, int(match.group(3))
    a_text = match.group(1)
    a = -1 if a_text == "-" else 1 if a_text in ("", "+") else int(a_text)
    return a, int(match.group(2) or 0)


def _nth_predicate(position: str, a: int, b: int) -> str:
    if a == 0:
        return f"{position} = {b}"
    return f"({position} - {b}) mod {a} = 0 and ({position} - {b}) div {a} >= 0"


class _SelectorParser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def compound(self) -> tuple[str, list[str], list[int]]:
        """(element test, predicates, specificity) of one compound selector."""
        tag = "*"
        predicates: list[str] = []
        spec = [0, 0, 0]
        self.keys: list[tuple[str, str]] = []
        token = self.peek()
        if token is not None and token.kind == "ident":
            tag = token.value.lower()
            spec[2] += 1
            self.i += 1
        elif token is not None and token.kind == "delim" and token.value == "*":
            self.i += 1
        if (nxt := self.peek()) is not None and nxt.kind == "delim" and nxt.value == "|":
            raise UnsupportedSelector("namespaces")
        while (token := self.peek()) is not None:
            if token.kind == "hash":
                predicates.append(f"@id = {_literal(token.value)}")
                self.keys.append(("id", token.value))
                spec[0] += 1
                self.i += 1
            elif token.kind == "delim" and token.value == ".":
                self.i += 1
                name = self.peek()
                if name is None or name.kind != "ident":
                    raise UnsupportedSelector("'.' without a class name")
                predicates.append(
                    "contains(concat(' ', normalize-space(@class), ' '), "
                    f"{_literal(' ' + name.value + ' ')})"
                )
                self.keys.append(("class", name.value))
                spec[1] += 1
                self.i += 1
            elif token.kind == "[":
                end = _block(self.tokens, self.i)
                predicates.append(self.attribute(self.tokens[self.i + 1 : end - 1]))
                spec[1] += 1
                self.i = end
            elif token.kind == ":":
                self.i += 1
                predicate, extra = self.pseudo(tag)
                predicates.append(predicate)
                spec = [s + e for s, e in zip(spec, extra, strict=True)]
            else:
                break
        return tag, predicates, spec

    def attribute(self, tokens: list[Token]) -> str:
        tokens = [t for t in tokens if t.kind != "ws"]
        if not tokens or tokens[0].kind != "ident":
            raise UnsupportedSelector("attribute selector without a name")
        name = tokens[0].value.lower()
        if not re.fullmatch(r"[a-z_][a-z0-9_.:-]*", name):
            raise UnsupportedSelector(f"attribute name {name!r}")
        attr = f"@{name}"
        rest = tokens[1:]
        if not rest:
            return attr
        op = ""
        while rest and rest[0].kind == "delim" and rest[0].value in "~|^$*=":
            op += rest[0].value
            rest = rest[1:]
        if op not in ("=", "~=", "|=", "^=", "$=", "*=") or not rest:
            raise UnsupportedSelector(f"attribute operator {op!r}")
        if rest[0].kind not in ("ident", "string", "number"):
            raise UnsupportedSelector("attribute value")
        value = rest[0].value
        flags = [t.value.lower() for t in rest[1:]]
        if flags not in ([], ["i"], ["s"]):
            raise UnsupportedSelector(f"attribute flags {flags!r}")
        if flags == ["i"]:
            attr = f"translate({attr}, '{_UPPER}', '{_LOWER}')"
            value = value.lower()
        lit = _literal(value)
        if op == "=":
            return f"{attr} = {lit}"
        if op == "~=":
            if not value or any(c in value for c in _WS):
                return "false()"
            padded = _literal(" " + value + " ")
            return f"contains(concat(' ', normalize-space({attr}), ' '), {padded})"
        if op == "|=":
            return f"({attr} = {lit} or starts-with({attr}, {_literal(value + '-')}))"
        if not value:
            return "false()"
        if op == "^=":
            return f"starts-with({attr}, {lit})"
        if op == "*=":
            return f"contains({attr}, {lit})"
        return (
            f"substring({attr}, string-length({attr}) - {len(value)} + 1) = {lit}"
            f" and string-length({attr}) >= {len(value)}"
        )

    def pseudo(self, tag: str) -> tuple[str, list[int]]:
        token = self.peek()
        if token is None or token.kind == ":":
            raise UnsupportedSelector("pseudo-elements")
        if token.kind == "ident":
            name = token.value.lower()
            self.i += 1
            if name not in _STRUCTURAL:
                raise UnsupportedSelector(f":{name}")
            if name in ("first-of-type", "last-of-type") and tag == "*":
                raise UnsupportedSelector(f"*:{name}")
            return {
                "first-child": "not(preceding-sibling::*)",
                "last-child": "not(following-sibling::*)",
                "only-child": "not(preceding-sibling::*) and not(following-sibling::*)",
                "first-of-type": f"not(preceding-sibling::{tag})",
                "last-of-type": f"not(following-sibling::{tag})",
                "root": "not(parent::*)",
                "empty": "not(*) and not(text())",
            }[name], [0, 1, 0]
        if token.kind == "function":
            end = _block(self.tokens, self.i)
            args = self.tokens[self.i + 1 : end - 1]
            self.i = end
            if token.value in ("nth-child", "nth-last-child"):
                a, b = _nth(args)
                axis = "preceding" if token.value == "nth-child" else "following"
                return _nth_predicate(f"(count({axis}-sibling::*) + 1)", a, b), [0, 1, 0]
            if token.value == "not":
                options = []
                best = [0, 0, 0]
                for part in _split_commas(args):
                    inner = _SelectorParser([t for t in part if t.kind != "ws"])
                    inner_tag, inner_predicates, inner_spec = inner.compound()
                    if inner.peek() is not None:
                        raise UnsupportedSelector(":not() with a complex selector")
                    tests = ([f"self::{inner_tag}"] if inner_tag != "*" else []) + inner_predicates
                    options.append(" and ".join(f"({t})" for t in tests) or "true()")
                    best = max(best, inner_spec)
                return "not(" + " or ".join(f"({o})" for o in options) + ")", best
            raise UnsupportedSelector(f":{token.value}()")
        raise UnsupportedSelector("pseudo-class")


def _split_commas(tokens: list[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    i = 0
    while i < len(tokens):
        if tokens[i].kind == ",":
            parts.append([])
            i += 1
        elif tokens[i].kind in ("(", "[", "function"):
            end = _block(tokens, i)
            parts[-1].extend(tokens[i:end])
            i = end
        else:
            parts[-1].append(tokens[i])
            i += 1
    return parts


def _compile_complex(tokens: list[Token]) -> CompiledSelector:
    # Leading/trailing whitespace is not a combinator.
    while tokens and tokens[0].kind == "ws":
        tokens = tokens[1:]
    while tokens and tokens[-1].kind == "ws":
        tokens = tokens[:-1]
    if not tokens:
        raise UnsupportedSelector("empty selector")
    parser = _SelectorParser(tokens)
    spec = [0, 0, 0]
    steps: list[tuple[str | None, str]] = []  # (combinator before it, "tag[pred]…")
    combinator: str | None = None
    keys: list[tuple[str, str]] = []
    while True:
        before = parser.i
        tag, predicates, extra = parser.compound()
        if parser.i == before:
            token = parser.peek()
            raise UnsupportedSelector(f"unexpected {token.kind if token else 'end'}")
        spec = [s + e for s, e in zip(spec, extra, strict=True)]
        steps.append((combinator, tag + "".join(f"[{p}]" for p in predicates)))
        keys = parser.keys + ([("tag", tag)] if tag != "*" else [])
        saw_ws = False
        combinator = None
        while (token := parser.peek()) is not None and token.kind == "ws":
            saw_ws = True
            parser.i += 1
        token = parser.peek()
        if token is None:
            break
        if token.kind == "delim" and token.value in ">+~":
            combinator = token.value
            parser.i += 1
            while (token := parser.peek()) is not None and token.kind == "ws":
                parser.i += 1
        elif saw_ws:
            combinator = " "
        else:
            raise UnsupportedSelector(f"unexpected {token.kind} {token.value!r}")
        if parser.peek() is None:
            raise UnsupportedSelector("selector ends in a combinator")
    # Left to right, to find matches under a node.
    path = "descendant-or-self::" + steps[0][1]
    down = {
        " ": "/descendant::",
        ">": "/",
        "+": "/following-sibling::*[1]/self::",
        "~": "/following-sibling::",
    }
    for comb, step in steps[1:]:
        path += down[comb or " "] + step
    # Right to left, to test one element: each step's condition on the one before.
    up = {
        " ": "ancestor::",
        ">": "parent::",
        "+": "preceding-sibling::*[1]/self::",
        "~": "preceding-sibling::",
    }
    condition = steps[0][1]
    for comb, step in steps[1:]:
        condition = f"{step}[{up[comb or ' ']}{condition}]"
    return CompiledSelector(
        xpath=path,
        specificity=(spec[0], spec[1], spec[2]),
        test="self::" + condition,
        key=keys[0] if keys else None,
    )


def compile_selector_list(selector: str) -> list[CompiledSelector]:
    """XPath and specificity of each selector of a comma-separated list.

    Raises :class:`UnsupportedSelector` when any of them is outside the subset.
    """
    return [_compile_complex(part) for part in _split_commas(list(tokenize(selector)))]


def element_test(selector: str) -> str:
    """XPath boolean expression true when the context element matches ``selector``,
    a single compound selector (no combinators, no list)."""
    parser = _SelectorParser([t for t in tokenize(selector) if t.kind != "ws"])
    tag, predicates, _ = parser.compound()
    if parser.peek() is not None or (tag == "*" and not predicates):
        raise UnsupportedSelector(f"not a single compound selector: {selector!r}")
    tests = ([f"self::{tag}"] if tag != "*" else []) + predicates
    return " and ".join(f"({t})" for t in tests)


class ElementIndex:
    """Elements of a tree by id and by class, so that a selector is tried only on
    the elements that carry its subject's id, class or tag, instead of by a
    scan of the whole tree per selector (seconds per rule on a page of half a
    million elements)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self._by_id: dict[str, list[etree._Element]] | None = None
        self._by_class: dict[str, list[etree._Element]] | None = None

    def _build(self) -> None:
        by_id: dict[str, list[etree._Element]] = {}
        by_class: dict[str, list[etree._Element]] = {}
        for element in self.root.xpath("descendant-or-self::*[@id or @class]"):
            ident = element.get("id")
            if ident:
                by_id.setdefault(ident, []).append(element)
            for name in set((element.get("class") or "").split()):
                by_class.setdefault(name, []).append(element)
        self._by_id, self._by_class = by_id, by_class

    def candidates(self, key: tuple[str, str]) -> Iterable[etree._Element]:
        """Elements with this id, class or tag, in document order."""
        kind, name = key
        if kind == "tag":
            return self.root.iter(name)
        if self._by_id is None:
            self._build()
        assert self._by_id is not None and self._by_class is not None
        return (self._by_id if kind == "id" else self._by_class).get(name, ())

    def matches(self, compiled: CompiledSelector) -> Iterator[etree._Element]:
        """Elements matching one compiled selector, in document order."""
        test = _test_xpath(compiled.test)
        # Every element is a candidate when the subject names no id, class or
        # tag: tested one by one, since a descendant path over the whole page
        # makes libxml2 merge node sets in quadratic time.
        candidates = self.candidates(compiled.key) if compiled.key else self.root.iter()
        for element in candidates:
            if test(element):
                yield element

    def first(self, selector: str) -> etree._Element | None:
        """First element in document order matching ``selector`` (a selector list too)."""
        firsts = [next(self.matches(c), None) for c in compile_selector_list(selector)]
        found = [el for el in firsts if el is not None]
        if len(found) <= 1:
            return found[0] if found else None
        order = {el: i for i, el in enumerate(self.root.iter())}
        return min(found, key=lambda el: order.get(el, 0))


@lru_cache(maxsize=4096)
def _test_xpath(test: str) -> etree.XPath:
    return etree.XPath(f"boolean({test})")


def select(root: etree._Element, selector: str) -> list[etree._Element]:
    """Elements under ``root`` (inclusive) matching ``selector``, in document order."""
    compiled = compile_selector_list(selector)
    index = ElementIndex(root)
    found = {el: None for item in compiled for el in index.matches(item)}
    if len(compiled) == 1:
        return list(found)
    order = {el: i for i, el in enumerate(root.iter())}
    return sorted(found, key=lambda el: order.get(el, 0))


def select_one(root: etree._Element, selector: str) -> etree._Element | None:
    """First element under ``root`` (inclusive) matching ``selector``, or None."""
    return ElementIndex(root).first(selector)


# --- what is hidden ------------------------------------------------------------

# Origin and importance levels of the cascade, lowest first.
_UA = 0
_AUTHOR = 1
_INLINE = 2
_AUTHOR_IMPORTANT = 3
_INLINE_IMPORTANT = 4


@dataclass
class Visibility:
    """Cascaded ``display`` / ``visibility`` per element (absent: not declared)."""

    display_none: set[etree._Element]
    visibility: dict[etree._Element, bool]  # True visible, False hidden


_VISIBILITY_VALUES = {
    "visible": True,
    "initial": True,
    "hidden": False,
    "collapse": False,
}


# Only text that can declare display or visibility is tokenized: most style
# attributes and many sheets cannot (a backslash may spell either in escapes).
_MAY_HIDE = re.compile(r"display|visibility|\\", re.IGNORECASE)
# Selectors whose subject has no id, class or tag (``[data-x]``, ``*``,
# ``:not(.a)``) are matched by a scan of the whole page each; a page cannot ask
# for more than this many scans. Past it such rules are ignored (their
# content stays), keeping a hostile sheet from costing minutes.
_MAX_FULL_SCANS = 10


def _style_applies(style: etree._Element) -> bool:
    # A sheet inside <noscript> applies only with scripts off, one inside
    # <template> never.
    if any(a.tag in ("noscript", "template") for a in style.iterancestors()):
        return False
    kind = (style.get("type") or "text/css").strip().lower()
    if kind not in ("text/css", ""):
        return False
    media = (style.get("media") or "").strip()
    if not media:
        return True
    return _media_applies_to_every_screen(list(tokenize(media)))


def cascade(root: etree._Element) -> Visibility:
    """``display: none`` elements and the declared visibility, from every source."""
    display: dict[etree._Element, tuple[tuple[int, int, int, int, int], bool]] = {}
    visibility: dict[etree._Element, tuple[tuple[int, int, int, int, int], bool]] = {}

    def declare(
        element: etree._Element,
        decl: Declaration,
        level: int,
        specificity: tuple[int, int, int],
        order: int,
    ) -> None:
        key = (level, *specificity, order)
        if decl.name == "display":
            if not re.fullmatch(r"-?[a-z][a-z-]*(?: -?[a-z][a-z-]*)*", decl.value):
                return  # not a display value: browsers drop the declaration
            target, value = display, decl.value == "none"
        elif decl.name == "visibility":
            if decl.value not in _VISIBILITY_VALUES:
                return  # inherit / unset / revert: no value of its own
            target, value = visibility, _VISIBILITY_VALUES[decl.value]
        else:
            return
        current = target.get(element)
        if current is None or current[0] <= key:
            target[element] = (key, value)

    order = 0
    index = ElementIndex(root)
    # One scan for the attributes that hide or style an element.
    attributed = root.xpath("descendant-or-self::*[@hidden or @style]")
    # The user-agent rules: [hidden], dialog:not([open]) { display: none };
    # author rules may override them.
    for element in attributed:
        if element.get("hidden") is not None:
            declare(element, Declaration("display", "none", False), _UA, (0, 1, 0), 0)
    for element in root.iter("dialog"):
        if element.get("open") is None:
            declare(element, Declaration("display", "none", False), _UA, (0, 0, 1), 0)
    full_scans = 0
    for style in root.iter("style"):
        sheet = style.text or ""
        if not _style_applies(style) or not _MAY_HIDE.search(sheet):
            continue
        for rule in parse_stylesheet(sheet):
            relevant = [d for d in rule.declarations if d.name in ("display", "visibility")]
            if not relevant:
                continue
            try:
                compiled = compile_selector_list(rule.selector)
            except UnsupportedSelector:
                continue
            for item in compiled:
                order += 1
                if item.key is None:
                    full_scans += 1
                    if full_scans > _MAX_FULL_SCANS:
                        continue
                try:
                    matches = list(index.matches(item))
                except etree.XPathError:
                    continue
                for element in matches:
                    for decl in relevant:
                        level = _AUTHOR_IMPORTANT if decl.important else _AUTHOR
                        declare(element, decl, level, item.specificity, order)
    for element in attributed:
        style_text = element.get("style")
        if style_text is None or not _MAY_HIDE.search(style_text):
            continue
        declarations = parse_declarations(list(tokenize(element.get("style") or "")))
        for decl in declarations:
            if decl.name in ("display", "visibility"):
                order += 1
                level = _INLINE_IMPORTANT if decl.important else _INLINE
                declare(element, decl, level, (0, 0, 0), order)
    return Visibility(
        display_none={el for el, (_, none) in display.items() if none},
        visibility={el: visible for el, (_, visible) in visibility.items()},
    )

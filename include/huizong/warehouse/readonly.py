"""``huizong sql``: one read-only statement over the analyst views, and nothing else.

Three layers, each enough to stop the attacks it is meant for, so that a gap in
one is caught by the next:

1. **The statement policy** (:func:`check_statement`), an allowlist checked on
   the statement's tokens as ``sqlparse`` reads them: exactly one statement;
   it starts with ``SELECT``, ``WITH``, ``VALUES`` or ``EXPLAIN`` (never
   ``EXPLAIN ANALYZE``, which runs the statement); no keyword that writes,
   locks, copies, signals or changes the session anywhere in it (``INSERT``,
   ``INTO``, ``FOR UPDATE``, ``SET``, ``RESET``, ``COPY``, ``DO``, ``CALL``,
   ``COMMIT``/``ROLLBACK``, ``LOCK``, ``LISTEN``/``NOTIFY``, ``ATTACH``,
   ``PRAGMA`` …); every relation named after ``FROM``/``JOIN`` is a ``v_*``
   view (or a ``WITH`` name that shadows no warehouse table); every function
   called is on :data:`ALLOWED_FUNCTIONS` (pure computations: no
   ``pg_read_file``, ``lo_*``, ``dblink``, ``set_config``, ``nextval``,
   ``pg_terminate_backend``, ``pg_sleep``, ``query_to_xml`` …). ``sqlparse``
   is not PostgreSQL's own lexer, so the few places where the two could read
   the same text differently are refused outright: backslashes (``E'\\''``
   ends a string for one and not the other), ``$`` (dollar quotes, and ``$``
   inside identifiers), block comments (PostgreSQL nests them, sqlparse does
   not) and ``U&`` escapes.
2. **The database session**. PostgreSQL: the statement runs as the group role
   ``huizong_analyst`` (SELECT on the ``v_*`` views only, ``sql/roles/``),
   inside a READ ONLY transaction of a session whose default is read-only,
   with ``statement_timeout`` and ``lock_timeout``, sent as a *prepared*
   statement so that the server itself refuses a second command in the text.
   SQLite: the file is opened ``mode=ro`` with ``query_only``, and an
   authorizer callback (:func:`sqlite_authorizer`) allows reading only
   through the ``v_*`` views, only allowlisted functions, and nothing else
   (no ``ATTACH``, ``PRAGMA``, writes or transaction control); a progress
   handler enforces the timeout.
3. **The login**. ``SET ROLE huizong_analyst`` narrows what the session may
   do, but SQL can widen it again: ``RESET ROLE``, ``SET ROLE <login>`` and
   ``set_config('role', …)`` all return to the login's own rights, and ``SET
   SESSION AUTHORIZATION`` cannot help (it needs a superuser login, and a
   superuser can undo it the same way). So on a login with more rights than
   the analyst role, layer 1 is what keeps the role in place — it refuses
   ``SET``, ``RESET`` and ``set_config``. The robust setup is a separate
   login that *is* an analyst and has nothing to go back to:
   ``HUIZONG_ANALYST_URL`` (docker-compose sets it to the ``analyst``
   login); then ``SET ROLE`` is only a second fence.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlparse
from sqlalchemy.engine import make_url
from sqlparse import tokens as T

ANALYST_ROLE = "huizong_analyst"
ANALYST_URL_ENV = "HUIZONG_ANALYST_URL"
VIEW_PREFIX = "v_"
DEFAULT_TIMEOUT_S = 60.0

ALLOWED_FIRST_WORDS = frozenset({"SELECT", "WITH", "VALUES", "EXPLAIN"})

# Anywhere in the statement (as a keyword or bare name, not inside a string or
# a quoted identifier) these mean it writes, locks, copies, signals, changes the
# session or runs the statement as a side effect. A view column with one of
# these names is written quoted: "set".
FORBIDDEN_WORDS = frozenset(
    {
        # writes and DDL (also data-modifying WITH, SELECT … INTO)
        "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE INTO", "INTO",
        "CREATE", "DROP", "ALTER", "TRUNCATE", "GRANT", "REVOKE", "COMMENT",
        "REFRESH", "REINDEX", "CLUSTER", "VACUUM", "ANALYZE", "ANALYSE",
        "SECURITY", "IMPORT",
        # session and transaction control
        "SET", "RESET", "BEGIN", "START", "COMMIT", "END TRANSACTION", "ROLLBACK",
        "ABORT", "SAVEPOINT", "RELEASE", "PREPARE", "EXECUTE", "DEALLOCATE",
        "DECLARE", "DISCARD", "LOAD", "CHECKPOINT", "AUTHORIZATION",
        # side doors
        "COPY", "PROGRAM", "DO", "CALL", "LOCK", "SHARE", "NOWAIT", "LISTEN",
        "UNLISTEN", "NOTIFY", "ATTACH", "DETACH", "PRAGMA", "TABLESAMPLE",
    }
)

# Functions an analyst may call: pure computations over the values read.
# Everything else is refused, including whatever a later PostgreSQL or an
# installed extension adds. Names only, never schema-qualified.
ALLOWED_FUNCTIONS = frozenset(
    {
        # aggregates
        "count", "sum", "avg", "min", "max", "total", "string_agg", "array_agg",
        "group_concat", "bool_and", "bool_or", "every", "stddev", "stddev_pop",
        "stddev_samp", "variance", "var_pop", "var_samp", "percentile_cont",
        "percentile_disc", "mode", "corr", "covar_pop", "covar_samp",
        "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
        "json_group_array", "json_group_object",
        # window functions
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
        "lag", "lead", "first_value", "last_value", "nth_value",
        # conditionals
        "coalesce", "nullif", "greatest", "least", "ifnull", "iif",
        # numbers
        "abs", "round", "trunc", "ceil", "ceiling", "floor", "sign", "mod",
        "power", "pow", "sqrt", "exp", "ln", "log", "log10", "div", "width_bucket",
        # text
        "length", "char_length", "character_length", "octet_length", "lower",
        "upper", "initcap", "trim", "btrim", "ltrim", "rtrim", "lpad", "rpad",
        "substr", "substring", "left", "right", "replace", "position", "strpos",
        "instr", "split_part", "concat", "concat_ws", "reverse", "repeat",
        "starts_with", "translate", "regexp_replace", "regexp_match",
        "regexp_matches", "regexp_split_to_array", "to_char", "to_number",
        "overlay", "printf", "format", "unicode", "char", "typeof",
        # dates and times
        "date_trunc", "date_part", "extract", "age", "make_date", "make_interval",
        "date_bin", "to_date", "to_timestamp", "now", "date", "time", "datetime",
        "julianday", "strftime", "unixepoch", "justify_days", "justify_hours",
        # JSON and arrays
        "json_build_object", "jsonb_build_object", "json_build_array",
        "jsonb_build_array", "to_json", "to_jsonb", "row_to_json",
        "json_extract", "json_object", "json_array", "array_length",
        "cardinality", "unnest", "array_to_string", "string_to_array",
        "array_position", "generate_series",
        # casts and type modifiers: CAST(x AS numeric(10, 2)), x::varchar(3)
        "cast", "numeric", "decimal", "dec", "varchar", "character", "timestamp",
        "timestamptz", "interval", "float", "bit", "varbit",
    }
)

# Keywords that may stand before a parenthesis without being a function call.
_STRUCTURAL_WORDS = frozenset(
    {
        "IN", "EXISTS", "ANY", "ALL", "SOME", "ARRAY", "ROW", "VALUES", "AS",
        "OVER", "FILTER", "USING", "ON", "AND", "OR", "NOT", "WHERE", "SELECT",
        "FROM", "LATERAL", "CASE", "WHEN", "THEN", "ELSE", "BY", "HAVING",
        "GROUP", "IS", "LIKE", "ILIKE", "BETWEEN", "DISTINCT", "MATERIALIZED",
        "UNION", "UNION ALL", "INTERSECT", "EXCEPT", "LIMIT", "OFFSET",
        "RECURSIVE", "EXPLAIN", "QUERY PLAN", "PLAN", "WITHIN", "ORDER BY",
        "GROUP BY", "PARTITION BY", "WITH", "SIMILAR", "ESCAPE", "JOIN",
    }
)



def _structural(word: str) -> bool:
    return word in _STRUCTURAL_WORDS or word.endswith("JOIN")


# Keywords after which the FROM list ends (until the next FROM/JOIN).
_CLAUSE_ENDS = frozenset(
    {
        "WHERE", "GROUP BY", "HAVING", "WINDOW", "ORDER BY", "LIMIT", "OFFSET",
        "UNION", "UNION ALL", "INTERSECT", "EXCEPT", "FETCH", "SELECT", "VALUES",
        "ON", "USING",
    }
)

# Characters and sequences sqlparse and PostgreSQL could read differently.
_LEXER_TRAPS = (
    ("\\", "backslashes are not accepted (write E'' strings without them)"),
    ("$", "'$' is not accepted (no dollar quoting, no $ in names)"),
    ("/*", "block comments are not accepted (use -- comments)"),
)
_UNICODE_ESCAPE = re.compile(r"[uU]&['\"]")
_BARE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Refused(ValueError):
    """The statement is not one read-only SELECT over the analyst views; says why."""


class Timeout(RuntimeError):
    """The statement ran past its time limit and was cancelled."""


class AnalystRoleUnavailable(RuntimeError):
    """The login cannot act as ``huizong_analyst``; says what to do."""


@dataclass(frozen=True)
class Warehouse:
    """What the policy needs to know about the warehouse's relations (lower case)."""

    views: frozenset[str]  # the analyst views, v_*
    relations: frozenset[str]  # every table and view, to stop WITH names shadowing them


@dataclass
class _Tok:
    kind: str  # "word" (keyword or bare name), "quoted", "punct", "other"
    value: str  # words upper-cased; quoted names without quotes
    raw: str


def _tokens(statement: Any) -> list[_Tok]:
    out: list[_Tok] = []
    for tok in statement.flatten():
        if tok.is_whitespace or tok.ttype in T.Comment:
            continue
        ttype, raw = tok.ttype, tok.value
        if ttype in T.Keyword or ttype in T.Name:
            out.append(_Tok("word", " ".join(raw.upper().split()), raw))
        elif ttype in T.Literal.String.Symbol:
            out.append(_Tok("quoted", raw[1:-1].replace('""', '"'), raw))
        elif ttype in T.Punctuation:
            out.append(_Tok("punct", raw, raw))
        else:
            out.append(_Tok("other", raw, raw))
    return out


def _significant(statement: Any) -> bool:
    return any(not t.is_whitespace and t.ttype not in T.Comment for t in statement.flatten())


def _matching_parens(toks: list[_Tok]) -> dict[int, int]:
    stack: list[int] = []
    match: dict[int, int] = {}
    for i, tok in enumerate(toks):
        if tok.kind == "punct" and tok.value == "(":
            stack.append(i)
        elif tok.kind == "punct" and tok.value == ")":
            if not stack:
                raise Refused("unbalanced parentheses")
            match[stack.pop()] = i
    if stack:
        raise Refused("unbalanced parentheses")
    return match


def _name_of(tok: _Tok) -> str | None:
    if tok.kind == "word" and _BARE_NAME.match(tok.raw):
        return tok.raw.lower()
    if tok.kind == "quoted":
        return tok.value  # case-sensitive, as the database reads it
    return None


def _with_names(toks: list[_Tok], match: dict[int, int]) -> set[str]:
    """Names defined as ``name [(cols)] AS [NOT] [MATERIALIZED] (`` — WITH items."""
    closing = {v: k for k, v in match.items()}
    names: set[str] = set()
    for i, tok in enumerate(toks):
        if tok.kind != "word" or tok.value != "AS":
            continue
        j = i + 1
        while j < len(toks) and toks[j].kind == "word" and toks[j].value in {
            "NOT", "MATERIALIZED"
        }:
            j += 1
        if not (j < len(toks) and toks[j].kind == "punct" and toks[j].value == "("):
            continue
        k = i - 1
        if k >= 0 and toks[k].kind == "punct" and toks[k].value == ")":
            k = closing[k] - 1
        name = _name_of(toks[k]) if k >= 0 else None
        if name is not None:
            names.add(name)
    return names


def check_statement(text: str, warehouse: Warehouse) -> str:
    """The statement to run, if it is one read-only query over the views; else :class:`Refused`."""
    for trap, why in _LEXER_TRAPS:
        if trap in text:
            raise Refused(why)
    if _UNICODE_ESCAPE.search(text):
        raise Refused("U& escapes are not accepted")
    statements = [s for s in sqlparse.parse(text) if _significant(s)]
    if not statements:
        raise Refused("no statement given")
    if len(statements) > 1:
        raise Refused(f"one statement per call, got {len(statements)}")
    toks = _tokens(statements[0])
    if toks and toks[-1].kind == "punct" and toks[-1].value == ";":
        toks.pop()
    if any(t.kind == "punct" and t.value == ";" for t in toks):
        raise Refused("one statement per call")
    first = toks[0]
    if not (first.kind == "word" and first.value in ALLOWED_FIRST_WORDS) and not (
        first.kind == "punct" and first.value == "("
    ):
        raise Refused(f"{first.raw.upper()} is not allowed")

    for tok in toks:
        if tok.kind == "word" and (
            tok.value in FORBIDDEN_WORDS or tok.value.split(" ")[0] in FORBIDDEN_WORDS
        ):
            raise Refused(f"{tok.value} is not allowed")

    match = _matching_parens(toks)
    with_names = _with_names(toks, match)
    for name in with_names:
        if name.startswith(("pg_", "sqlite_")) or (
            name in warehouse.relations and name not in warehouse.views
        ):
            raise Refused(f"the WITH name {name} would shadow a catalog or warehouse table")
    _check_calls(toks, match)
    _check_relations(toks, match, warehouse, with_names)
    return text.strip().rstrip(";").rstrip()


def _check_calls(toks: list[_Tok], match: dict[int, int]) -> None:
    for i, tok in enumerate(toks[:-1]):
        nxt = toks[i + 1]
        if not (nxt.kind == "punct" and nxt.value == "("):
            continue
        if tok.kind not in ("word", "quoted"):
            continue
        prev = toks[i - 1] if i > 0 else None
        after = toks[match[i + 1] + 1] if match[i + 1] + 1 < len(toks) else None
        if prev is not None and prev.kind == "word" and prev.value == "AS":
            continue  # AS alias(col, …)
        if after is not None and after.kind == "word" and after.value == "AS":
            continue  # WITH name(col, …) AS (…)
        if prev is not None and prev.kind == "punct" and prev.value == ".":
            raise Refused("schema-qualified function calls are not allowed")
        if tok.kind == "quoted":
            raise Refused(f'the quoted function name "{tok.value}" is not allowed')
        if tok.kind == "word" and _structural(tok.value):
            continue
        if tok.raw.lower() not in ALLOWED_FUNCTIONS:
            raise Refused(f"the function {tok.raw.lower()}() is not allowed")


@dataclass
class _Frame:
    func_args: bool = False
    saw_select: bool = False
    mode: str | None = None  # "expect" a FROM item, "after" one, or None


def _check_relations(
    toks: list[_Tok], match: dict[int, int], warehouse: Warehouse, with_names: set[str]
) -> None:
    """Every FROM/JOIN item is a subquery, an allowed function or a ``v_*`` view."""
    frames = [_Frame()]
    i = 0
    while i < len(toks):
        tok, frame = toks[i], frames[-1]
        prev = toks[i - 1] if i > 0 else None
        if tok.kind == "punct" and tok.value == "(":
            is_call = prev is not None and prev.kind in ("word", "quoted") and not (
                prev.kind == "word" and _structural(prev.value)
            )
            if frame.mode == "expect":
                frame.mode = "after"  # a subquery or a parenthesised join as a FROM item
            frames.append(_Frame(func_args=is_call))
            i += 1
            continue
        if tok.kind == "punct" and tok.value == ")":
            frames.pop()
            i += 1
            continue
        if tok.kind == "word" and tok.value == "SELECT":
            frame.saw_select = True
        if frame.mode == "expect":
            if tok.kind == "word" and tok.value == "LATERAL":
                i += 1
                continue
            if tok.kind == "word" and tok.value == "ONLY":
                raise Refused("FROM ONLY is not allowed")
            name = _name_of(tok)
            if name is None:
                raise Refused(f"cannot read the FROM item at {tok.raw!r}")
            j = i
            parts = [name]
            while (
                j + 2 < len(toks)
                and toks[j + 1].kind == "punct"
                and toks[j + 1].value == "."
            ):
                part = _name_of(toks[j + 2])
                if part is None:
                    raise Refused(f"cannot read the FROM item at {toks[j + 2].raw!r}")
                parts.append(part)
                j += 2
            is_function = j + 1 < len(toks) and toks[j + 1].kind == "punct" and (
                toks[j + 1].value == "("
            )
            if not is_function:
                _check_relation(parts, warehouse, with_names)
            frame.mode = "after"
            i = j + 1
            continue
        if tok.kind == "word" and tok.value == "FROM":
            in_call = frame.func_args and not frame.saw_select
            after_distinct = prev is not None and prev.kind == "word" and prev.value == "DISTINCT"
            if not in_call and not after_distinct:
                frame.mode = "expect"
        elif (tok.kind == "word" and tok.value.endswith("JOIN")) or (
            frame.mode == "after" and tok.kind == "punct" and tok.value == ","
        ):
            frame.mode = "expect"  # the next FROM item
        elif tok.kind == "word" and tok.value in _CLAUSE_ENDS:
            frame.mode = None
        i += 1


def _check_relation(parts: list[str], warehouse: Warehouse, with_names: set[str]) -> None:
    shown = ".".join(parts)
    if len(parts) > 1:
        raise Refused(f"{shown}: write the view name without a schema")
    name = parts[0]
    if name in with_names:
        return
    if name in warehouse.views:
        return
    raise Refused(
        f"{name} is not an analyst view; read the v_* views "
        f"({', '.join(sorted(warehouse.views)) or 'none found: run huizong db migrate'})"
    )


# --- SQLite ------------------------------------------------------------------


def sqlite_authorizer(views: Iterable[str]) -> Callable[..., int]:
    """An authorizer that lets a statement read the ``v_*`` views and do nothing else.

    SQLite reports every column a statement reads, naming the view it reads
    through (``source``) when it reads inside a view's definition. Reads at the
    top level (``source`` None) must be of an analyst view; reads inside a view
    are what that view (written by us) does. A table mentioned with no column
    read (``column == ''``, e.g. ``count(*)``) is reported at the top level even
    for a view's inner tables, so it is allowed here and refused by the statement
    policy when the statement names a table itself.
    """
    allowed_views = frozenset(v.lower() for v in views)

    def authorize(action: int, arg1, arg2, _db, source) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            if source is not None or arg2 == "" or (arg1 or "").lower() in allowed_views:
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            name = (arg2 or "").lower()
            if source is not None or name in ALLOWED_FUNCTIONS or name in ("like", "glob"):
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_DENY  # PRAGMA, ATTACH, writes, DDL, transactions, …

    return authorize


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("huizong sql needs a file-backed SQLite warehouse")
    path = Path(database)
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {database}; run `huizong db migrate` first")
    return path.resolve()


def _run_sqlite(url: str, statement: str, timeout_s: float):
    path = _sqlite_path(url)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute("PRAGMA query_only = ON")
        names = conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')")
        rows = [(str(n).lower(), str(t)) for n, t in names]
        warehouse = Warehouse(
            views=frozenset(n for n, t in rows if t == "view" and n.startswith(VIEW_PREFIX)),
            relations=frozenset(n for n, _ in rows),
        )
        text = check_statement(statement, warehouse)
        conn.set_authorizer(sqlite_authorizer(warehouse.views))
        deadline = time.monotonic() + timeout_s
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            cursor = conn.execute(text)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            return columns, [tuple(r) for r in cursor.fetchall()] if columns else []
        except sqlite3.DatabaseError as exc:
            if "interrupted" in str(exc) and time.monotonic() > deadline:
                raise Timeout(f"cancelled after {timeout_s:g} s (statement timeout)") from exc
            if "not authorized" in str(exc) or "prohibited" in str(exc):
                raise Refused(f"the warehouse refused it: {exc}") from exc
            raise
    finally:
        conn.close()


# --- PostgreSQL ----------------------------------------------------------------


def _libpq_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _run_postgres(url: str, statement: str, timeout_s: float):
    import psycopg

    timeout_ms = max(1, int(timeout_s * 1000))
    with psycopg.connect(_libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        try:
            # Session level (autocommit), so no ROLLBACK in the statement can undo it.
            conn.execute(f"SET ROLE {ANALYST_ROLE}")
        except psycopg.Error as exc:
            login = make_url(url).username or "(default)"
            raise AnalystRoleUnavailable(
                f"the login {login} cannot act as {ANALYST_ROLE} ({_first_line(exc)}); "
                f"run `huizong db migrate`, or set {ANALYST_URL_ENV} to an analyst login"
            ) from exc
        conn.execute("SET default_transaction_read_only = on")
        conn.execute(f"SET statement_timeout = {timeout_ms}")
        conn.execute(f"SET lock_timeout = {timeout_ms}")
        with conn.cursor() as cur:
            views = {
                str(name)
                for (name,) in cur.execute(
                    "SELECT c.relname FROM pg_catalog.pg_class AS c "
                    "WHERE c.relnamespace = pg_catalog.to_regnamespace(current_schema()) "
                    "AND c.relkind = 'v' AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
                    "AND pg_catalog.left(c.relname, 2) = 'v_'"
                )
            }
            relations = {
                str(name)
                for (name,) in cur.execute(
                    "SELECT c.relname FROM pg_catalog.pg_class AS c "
                    "WHERE c.relnamespace = pg_catalog.to_regnamespace(current_schema()) "
                    "AND c.relkind IN ('r', 'v', 'm', 'p', 'f')"
                )
            }
        text = check_statement(statement, Warehouse(frozenset(views), frozenset(relations)))
        conn.autocommit = False
        try:
            with conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                try:
                    # Prepared (extended protocol): the server refuses a second command.
                    cur.execute(text, prepare=True)
                except psycopg.errors.QueryCanceled as exc:
                    raise Timeout(f"cancelled after {timeout_s:g} s (statement timeout)") from exc
                except psycopg.errors.InsufficientPrivilege as exc:
                    raise Refused(f"the warehouse refused it: {_first_line(exc)}") from exc
                except psycopg.errors.ReadOnlySqlTransaction as exc:
                    raise Refused(f"the warehouse refused it: {_first_line(exc)}") from exc
                if cur.description is None:
                    return [], []
                columns = [d.name for d in cur.description]
                return columns, [tuple(r) for r in cur.fetchall()]
        finally:
            conn.rollback()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_analyst_query(
    url: str, statement: str, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of one read-only statement over the analyst views.

    Raises :class:`Refused` (the policy or the database said no),
    :class:`Timeout`, :class:`AnalystRoleUnavailable`, or the driver's error for
    a statement that is allowed but wrong (a typo, an unknown column).
    """
    from huizong.secret_check import check_url_password

    check_url_password("the analyst URL", url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _run_sqlite(url, statement, timeout_s)
    if backend == "postgresql":
        return _run_postgres(url, statement, timeout_s)
    raise ValueError(f"huizong sql supports SQLite and PostgreSQL warehouses, not {backend}")

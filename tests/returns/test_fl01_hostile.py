"""Files that must be refused with a clear ReturnFileError, never a crash."""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fl01_builders import SheetSpec, compound_file, standard_sheet_rows, xlsx_bytes
from huizong.returns import parse as parse_module
from huizong.returns.parse import ReturnFileError, parse_return


def _good_xlsx() -> bytes:
    return xlsx_bytes(SheetSpec("Sheet1", standard_sheet_rows()))


def _refused(data: bytes, name: str, fragment: str) -> ReturnFileError:
    with pytest.raises(ReturnFileError) as caught:
        parse_return(data, filename=name)
    assert fragment in caught.value.message
    assert caught.value.path == name
    assert name in str(caught.value)
    return caught.value


def test_not_a_workbook() -> None:
    _refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "r.xlsx", "PDF")
    _refused(b"\x00\x01\x02\x03binary\x00junk" * 50, "r.xlsx", "binary")
    _refused(b"<html><body><table><tr><td>1</td></tr></table></body></html>", "r.xls", "web page")
    _refused(b"", "r.xlsx", "empty")
    _refused("这是一封邮件，不是表格。".encode(), "r.xlsx", "not a workbook")


def test_text_without_a_return_table() -> None:
    _refused(b"a,b,c\n1,2,3\n", "r.csv", "no sheet holds the FL-01 table")


def test_a_word_document_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    _refused(buffer.getvalue(), "r.xlsx", "Word document")


def test_truncated_workbook() -> None:
    data = _good_xlsx()
    for cut in (len(data) // 2, len(data) - 30, 100):
        _refused(data[:cut], "r.xlsx", "truncated")


def test_damaged_sheet_xml_inside_a_valid_zip() -> None:
    source = zipfile.ZipFile(io.BytesIO(_good_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(info, content)
    _refused(buffer.getvalue(), "r.xlsx", "cannot be read")


def test_encrypted_workbook_in_an_ole_container() -> None:
    data = compound_file(
        {"EncryptionInfo": b"\x04\x00\x04\x00" * 64, "EncryptedPackage": b"\x9a" * 6000}
    )
    _refused(data, "r.xlsx", "password")


def test_ole_container_without_a_workbook() -> None:
    _refused(compound_file({"WordDocument": b"x" * 5000}), "r.xls", "no Excel workbook")
    _refused(compound_file({"Workbook": b"garbage" * 1000}), "r.xls", "truncated or damaged")


def test_zip_bomb_is_refused_before_decompression() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100_000
    _refused(buffer.getvalue(), "r.xlsx", "zip bomb")


def test_too_many_members_and_too_large_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_ZIP_MEMBERS", 5)
    _refused(_good_xlsx(), "r.xlsx", "archive members")
    monkeypatch.setattr(parse_module, "MAX_ZIP_MEMBERS", 1000)
    monkeypatch.setattr(parse_module, "MAX_TOTAL_UNCOMPRESSED", 1000)
    _refused(_good_xlsx(), "r.xlsx", "unpacks to")


def test_oversized_file_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(_good_xlsx())
    monkeypatch.setattr(parse_module, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ReturnFileError, match="larger than a return"):
        parse_return(path)


def _with_member(member: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_good_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = content if info.filename == member else source.read(info.filename)
            target.writestr(info, data)
    return buffer.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""


@pytest.mark.parametrize(
    "member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"]
)
def test_billion_laughs_inside_an_xlsx_is_refused(member: str) -> None:
    _refused(_with_member(member, BILLION_LAUGHS), "r.xlsx", "entities")


def test_entity_declaration_in_utf16_or_after_padding_is_refused() -> None:
    padded = b'<?xml version="1.0"?>' + b"<!-- " + b"x" * 200_000 + b" -->" + BILLION_LAUGHS[21:]
    _refused(_with_member("xl/styles.xml", padded), "r.xlsx", "entities")
    utf16 = BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', "").encode("utf-16-le")
    _refused(_with_member("xl/styles.xml", utf16), "r.xlsx", "entities")


def test_external_entity_probe_is_refused() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    _refused(_with_member("xl/workbook.xml", xxe), "r.xlsx", "entities")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReturnFileError, match="cannot read"):
        parse_return(tmp_path / "nope.xlsx")


@pytest.mark.parametrize("seed", range(40))
def test_random_corruption_never_crashes(seed: int) -> None:
    import random

    rng = random.Random(seed)
    data = bytearray(_good_xlsx())
    for _ in range(rng.randint(1, 20)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    with contextlib.suppress(ReturnFileError):
        parse_return(bytes(data), filename="r.xlsx")


def test_member_replacement_helper_hits_real_members() -> None:
    names = zipfile.ZipFile(io.BytesIO(_good_xlsx())).namelist()
    assert {"xl/styles.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= set(names)


def _patched_sheet(transform: Callable[[str], str]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_good_xlsx()))
    xml = source.read("xl/worksheets/sheet1.xml").decode()
    return _with_member("xl/worksheets/sheet1.xml", transform(xml).encode())


def test_sheet_wide_merge_and_wrong_dimension_stay_bounded() -> None:
    def transform(xml: str) -> str:
        import re

        xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:A1"/>', xml)
        merge = '<mergeCells count="1"><mergeCell ref="H1:XFD1048576"/></mergeCells>'
        if "<mergeCells" in xml:
            return re.sub(r"<mergeCells.*?</mergeCells>", merge, xml)
        return xml.replace("</sheetData>", "</sheetData>" + merge)

    parsed = parse_return(_patched_sheet(transform), filename="r.xlsx")
    assert parsed.period == "2024Q4"
    assert parsed.rows["24"] == {"current": 24, "ytd": 240, "last_year": 124}


def test_tens_of_thousands_of_filler_rows_are_read_only_to_the_limit() -> None:
    def transform(xml: str) -> str:
        filler = "".join(
            f'<row r="{r}"><c r="A{r}" t="n"><v>1</v></c></row>' for r in range(40, 60_000)
        )
        return xml.replace("</sheetData>", filler + "</sheetData>")

    data = _patched_sheet(transform)
    parsed = parse_return(data, filename="r.xlsx")
    assert parsed.rows["01"]["current"] == 1

"""Catalogue files from a hostile sender: every limit holds, every failure is a problem report."""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.broker.catalogue.file_formats import ImportCancelled, ImportLimits, export, parse

HEADER = "code,name,description,key_field,share_type,item_name,item_type,item_sensitivity\n"
ROW = "gat.e{n},条目{n},户籍登记信息的说明,id_number,unconditional,id_number,string,general\n"
SMALL = ImportLimits(
    max_file_bytes=1 << 20,
    max_unpacked_bytes=1 << 20,
    max_rows=100,
    max_cell_chars=1000,
    max_problems=50,
)

OOXML = "http://schemas.openxmlformats.org"
SHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    f'<?xml version="1.0"?><Types xmlns="{OOXML}/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SHEETML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEETML}.worksheet+xml"/>'
    "</Types>"
)
RELS = f'<?xml version="1.0"?><Relationships xmlns="{OOXML}/package/2006/relationships">'
ROOT_RELS = (
    f'{RELS}<Relationship Id="rId1" Type="{OOXML}/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
BOOK_RELS = (
    f'{RELS}<Relationship Id="rId1" Type="{OOXML}/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEETS = f'<sheets><sheet name="catalogue" sheetId="1" r:id="rId1" xmlns:r="{REL}"/></sheets>'


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _header_row() -> str:
    return '<row r="1">' + _inline("A1", "code") + _inline("B1", "item_name") + "</row>"


def _xlsx(sheet_body: str, *, sheets: str = SHEETS, prolog: str = "") -> bytes:
    """A workbook written part by part, so every part can lie."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr(
            "xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{MAIN}">{sheets}</workbook>'
        )
        z.writestr("xl/_rels/workbook.xml.rels", BOOK_RELS)
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0"?>{prolog}<worksheet xmlns="{MAIN}">{sheet_body}</worksheet>',
        )
    return buffer.getvalue()


def _csv(rows: int) -> bytes:
    return (HEADER + "".join(ROW.format(n=n) for n in range(rows))).encode()


def test_a_workbook_claiming_the_largest_sheet_is_refused_at_once():
    body = (
        '<dimension ref="A1:XFD1048576"/><sheetData>'
        + _header_row()
        + '<row r="1048576">'
        + _inline("XFD1048576", "x")
        + "</row></sheetData>"
    )
    content = _xlsx(body)
    assert len(content) < 5000
    start = time.perf_counter()
    entries, problems = parse(content, "xlsx")
    elapsed = time.perf_counter() - start
    assert entries == []
    assert [(p.line, p.problem) for p in problems] == [
        (1_000_001, "more than 1000000 rows: reading stopped here")
    ]
    print(f"dimension A1:XFD1048576 workbook refused in {elapsed:.2f} s")
    assert elapsed < 10, elapsed  # about 0.8 s on an idle core


def test_a_workbook_dimension_is_not_trusted_for_its_real_rows():
    body = (
        '<dimension ref="A1:XFD1048576"/><sheetData>'
        + _header_row()
        + '<row r="2">'
        + _inline("A2", "gat.a")
        + _inline("B2", "k")
        + "</row></sheetData>"
    )
    entries, problems = parse(_xlsx(body), "xlsx", limits=SMALL)
    assert problems == []
    assert [e.entry["code"] for e in entries] == ["gat.a"]


def test_damaged_workbooks_are_problem_reports():
    good = export([{"code": "a", "name": "甲", "data_items": [{"name": "x"}]}], "xlsx")
    truncated = parse(good[: len(good) // 2], "xlsx", limits=SMALL)
    assert truncated[0] == [] and "not an XLSX workbook" in truncated[1][0].problem
    cut_xml = _xlsx("<sheetData>" + _header_row() + '<row r="2"><c r="A2" t="inl')
    entries, problems = parse(cut_xml, "xlsx", limits=SMALL)
    assert entries == [] and len(problems) == 1
    assert "ParseError" in problems[0].problem
    no_sheets = parse(_xlsx("<sheetData/>", sheets="<sheets/>"), "xlsx", limits=SMALL)
    assert no_sheets[0] == [] and len(no_sheets[1]) == 1
    assert "sheets" in no_sheets[1][0].problem or "readable" in no_sheets[1][0].problem
    garbage = parse(b"PK\x03\x04" + b"\x00" * 100, "xlsx", limits=SMALL)
    assert garbage[0] == [] and garbage[1][0].line == 1


def test_entities_in_a_workbook_are_refused_not_expanded():
    prolog = (
        '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    )
    body = (
        "<sheetData>" + _header_row() + '<row r="2">' + _inline("A2", "&c;") + "</row></sheetData>"
    )
    entries, problems = parse(_xlsx(body, prolog=prolog), "xlsx", limits=SMALL)
    assert entries == [] and len(problems) == 1
    assert "EntitiesForbidden" in problems[0].problem


def test_a_compressed_bomb_is_refused_before_it_is_unpacked():
    body = "<sheetData>" + _header_row() + "</sheetData>" + " " * (2 << 20)
    entries, problems = parse(_xlsx(body), "xlsx", limits=SMALL)
    assert entries == [] and "unpacks to more than" in problems[0].problem


def test_a_csv_cell_beyond_the_csv_module_limit_names_row_and_column():
    content = (
        HEADER + "gat.a,甲," + "x" * 131_073 + ",k,unconditional,k,string,general\n"
    ).encode()
    entries, problems = parse(content, "csv")
    assert [(p.line, p.column) for p in problems] == [(2, "description")]
    assert "longer than 32767 characters" in problems[0].problem
    assert entries[0].entry["description"] == ""


def test_nul_and_control_characters_name_row_and_column():
    content = (HEADER + "gat.a,甲\x00乙,,k,unconditional,k\x07,string,general\n").encode()
    _, problems = parse(content, "csv", limits=SMALL)
    assert {(p.line, p.column) for p in problems} == {(2, "name"), (2, "item_name")}
    blob = json.dumps([{"code": "a", "name": "x\u0000", "data_items": [{"name": "k\u001b"}]}])
    _, problems = parse(blob.encode(), "json", limits=SMALL)
    assert {(p.line, p.column) for p in problems} == {(1, "name"), (1, "data_items[1].name")}
    # XML cannot carry them at all: such a workbook is unreadable, said so on line 1
    body = "<sheetData>" + _header_row() + '<row r="2">' + _inline("A2", "k&#0;") + "</row>"
    entries, problems = parse(_xlsx(body + "</sheetData>"), "xlsx", limits=SMALL)
    assert entries == [] and [(p.line, p.column) for p in problems] == [(1, "")]
    assert "ParseError" in problems[0].problem


def test_json_nested_a_hundred_thousand_deep_is_a_problem_report():
    entries, problems = parse(b"[" * 100_000 + b"]" * 100_000, "json")
    assert entries == [] and "nested deeper" in problems[0].problem
    blob = json.dumps([{"code": "a", "data_items": [{"name": {"deep": [1]}}]}]).encode()
    _, problems = parse(blob, "json", limits=SMALL)
    assert [(p.line, p.column) for p in problems] == [(1, "data_items[1].name")]


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_reading_stops_at_the_row_limit(fmt):
    contents = [{"code": f"e{n}", "name": "甲", "data_items": [{"name": "k"}]} for n in range(200)]
    entries, problems = parse(export(contents, fmt), fmt, limits=SMALL)
    assert entries == []
    assert problems[-1].problem == "more than 100 rows: reading stopped here"


def test_a_file_over_the_size_limit_is_refused_unread():
    entries, problems = parse(b"x" * (SMALL.max_file_bytes + 1), "csv", limits=SMALL)
    assert entries == [] and problems[0].problem == f"file is larger than {1 << 20} bytes"


def test_problems_stop_at_the_limit():
    content = (HEADER + ",甲,,k,unconditional,k,string,general\n" * 90).encode()
    _, problems = parse(content, "csv", limits=SMALL)
    assert len(problems) == SMALL.max_problems + 1
    assert problems[-1].problem == "more than 50 problems: stopped"


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_reading_stops_when_the_deadline_passes(fmt):
    contents = [{"code": f"e{n}", "name": "甲", "data_items": [{"name": "k"}]} for n in range(3000)]
    asked = []

    def expired() -> bool:
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(ImportCancelled):
        parse(export(contents, fmt), fmt, expired=expired)
    assert len(asked) == 2  # asked every thousand rows, abandoned at the second


def _peak(content: bytes, fmt: str) -> int:
    tracemalloc.start()
    try:
        entries, problems = parse(content, fmt)
        assert problems == [] and entries
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MEMORY_BOUND = {"csv": 8, "json": 8, "xlsx": 25}
"""Peak memory a parse may take, per byte of file (stated in docs/catalogue.md)."""


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_memory_stays_within_a_bound_of_the_file_size(fmt):
    contents = [
        {
            "code": f"gat.e{n}",
            "name": f"户籍登记信息{n}",
            "description": "公民户籍登记的基本信息，供核验身份使用",
            "tags": ["population", "identity"],
            "data_items": [
                {"name": f"item_{k}", "type": "string", "description": "信息项的说明文字"}
                for k in range(8)
            ],
        }
        for n in range(400 if fmt == "xlsx" else 2500)  # openpyxl is slow under tracemalloc
    ]
    content = export(contents, fmt)
    peak = _peak(content, fmt)
    ratio = peak / len(content)
    print(f"{fmt}: {len(content) / 1e6:.2f} MB file, peak {peak / 1e6:.1f} MB, {ratio:.1f}x")
    assert ratio < MEMORY_BOUND[fmt], ratio


FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_exports_neutralise_formula_cells_and_read_them_back():
    contents = [
        {
            "code": "gat.f",
            "name": FORMULAS[0],
            "description": "+cmd|' /C calc'!A0",
            "tags": ["=1+1"],
            "data_items": [{"name": "k", "description": f} for f in FORMULAS[1:]]
            + [{"name": "plain", "description": "a=b"}],
        }
    ]
    text = export(contents, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows[1:] for c in row]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert '\'=HYPERLINK("http://x","y")' in cells and "a=b" in cells
    book = openpyxl.load_workbook(io.BytesIO(export(contents, "xlsx")), read_only=True)
    values = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
    book.close()
    assert all(not str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in values if v)
    for fmt in ("csv", "xlsx"):
        contents[0]["data_items"] = [{"name": "k", "description": "-2+3"}]
        entries, problems = parse(export(contents, fmt), fmt)
        assert problems == []
        back = entries[0].entry
        assert back["name"] == FORMULAS[0] and back["tags"] == ["=1+1"]
        assert back["data_items"][0]["description"] == "-2+3"


SAMPLE = [
    {
        "code": "gat.s",
        "name": "户籍",
        "tags": ["population"],
        "data_items": [{"name": "k", "description": "说明"}, {"name": "v"}],
    }
]
FILES = {fmt: export(SAMPLE, fmt) for fmt in ("csv", "json", "xlsx")}


@settings(max_examples=150, deadline=None)
@given(
    fmt=st.sampled_from(["csv", "json", "xlsx"]),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(["flip", "cut", "insert"]),
            st.binary(min_size=1, max_size=8),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_any_damaged_file_is_a_problem_report_never_an_exception(fmt, edits):
    data = bytearray(FILES[fmt])
    for where, how, blob in edits:
        at = int(where * (len(data) - 1))
        if how == "flip":
            data[at] ^= blob[0] or 1
        elif how == "cut":
            del data[at:]
        else:
            data[at:at] = blob
        if not data:
            data = bytearray(b"\x00")
    _, problems = parse(bytes(data), fmt, limits=SMALL)  # never raises
    assert all(isinstance(p.line, int) and p.problem for p in problems)

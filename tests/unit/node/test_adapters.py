"""Data sources: CSV (in-memory index) and any SQLAlchemy URL + table (parameterised SELECTs)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert

from tests.unit.node.world import HEADER, PEOPLE, write_csv
from tongdao.node.adapters import CsvSource, SourceError, SqlSource, normalise_key, open_source
from tongdao.policies.i18n import render


@pytest.mark.parametrize(
    ("raw", "casefold", "expected"),
    [
        ("  230102 ", False, "230102"),
        ("２３０１０２Ｘ", False, "230102X"),  # full-width → half-width (NFKC)
        ("23010219900101123x", True, "23010219900101123x"),
        ("23010219900101123X", True, "23010219900101123x"),
        ("23010219900101123X", False, "23010219900101123X"),
    ],
)
def test_normalise_key(raw, casefold, expected):
    assert normalise_key(raw, casefold=casefold) == expected


# ---------------------------------------------------------------- CSV


def test_csv_lookup_count_rows_and_columns(tmp_path):
    source = CsvSource(write_csv(tmp_path / "p.csv"), "id_number", casefold=True)
    assert list(source.columns) == list(HEADER)
    assert source.count() == len(PEOPLE)
    row = source.lookup(normalise_key(PEOPLE[0][0].lower(), casefold=True))
    assert row == dict(zip(HEADER, PEOPLE[0], strict=True))
    assert source.lookup("230102000000000000") is None
    assert sorted(r["name"] for r in source.rows()) == sorted(p[1] for p in PEOPLE)


def test_csv_with_a_byte_order_mark_and_short_rows(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid_number,name\r\nA1,甲\r\nA2\r\n".encode())
    source = CsvSource(path, "id_number")
    assert source.lookup("A1") == {"id_number": "A1", "name": "甲"}
    assert source.lookup("A2") == {"id_number": "A2", "name": ""}


def test_csv_errors_name_the_file_and_problem(tmp_path):
    with pytest.raises(SourceError, match="no such file") as missing:
        CsvSource(tmp_path / "missing.csv", "id_number")
    # the operator reads it in their language at start-up
    assert render(missing.value.args[0], "zh-CN").endswith("missing.csv：文件不存在")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id_number,name\n1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        CsvSource(latin, "id_number")
    with pytest.raises(SourceError, match="no column 'passport'"):
        CsvSource(write_csv(tmp_path / "p.csv"), "passport")


def test_csv_refuses_repeated_and_empty_keys_naming_lines_not_values(tmp_path):
    repeated = write_csv(tmp_path / "r.csv", (PEOPLE[0], PEOPLE[1], PEOPLE[0]))
    with pytest.raises(SourceError, match="line 4 repeats the 'id_number' of line 2") as err:
        CsvSource(repeated, "id_number")
    assert PEOPLE[0][0] not in str(err.value)
    # repeated only once case is folded: the entry says x and X are the same key
    folded = (PEOPLE[0], (PEOPLE[0][0].lower(), *PEOPLE[0][1:]))
    CsvSource(write_csv(tmp_path / "f.csv", folded), "id_number")
    with pytest.raises(SourceError, match="repeats"):
        CsvSource(write_csv(tmp_path / "g.csv", folded), "id_number", casefold=True)
    blank = write_csv(tmp_path / "b.csv", (PEOPLE[0], (" ", "无名", "男", "", "")))
    with pytest.raises(SourceError, match="line 3 has an empty 'id_number'"):
        CsvSource(blank, "id_number")


# ---------------------------------------------------------------- SQL


@pytest.fixture
def sqlite_url(database_url):
    """A registry table on SQLite, and on PostgreSQL when TONGDAO_TEST_PG_URL answers."""
    url = database_url
    engine = create_engine(url)
    table = Table("population", MetaData(), *(Column(name, String) for name in HEADER))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [dict(zip(HEADER, p, strict=True)) for p in PEOPLE])
        conn.execute(
            insert(table),
            [{"id_number": "110101200001011111", "name": None, "gender": "女"}],
        )
    engine.dispose()
    return url


def test_sql_lookup_count_rows_and_columns(sqlite_url):
    source = SqlSource(sqlite_url, "population", "id_number")
    assert list(source.columns) == list(HEADER)
    assert source.count() == len(PEOPLE) + 1
    assert source.lookup(PEOPLE[1][0]) == dict(zip(HEADER, PEOPLE[1], strict=True))
    assert source.lookup("230102000000000000") is None
    # NULL is served as the empty string, like an empty CSV cell
    assert source.lookup("110101200001011111")["name"] == ""
    assert len(list(source.rows())) == len(PEOPLE) + 1


def test_sql_lookup_folds_case_when_configured(sqlite_url):
    key = normalise_key(PEOPLE[0][0].lower(), casefold=True)
    assert SqlSource(sqlite_url, "population", "id_number").lookup(key) is None
    folded = SqlSource(sqlite_url, "population", "id_number", casefold=True)
    assert folded.lookup(key)["name"] == PEOPLE[0][1]


@pytest.mark.parametrize(
    "hostile", ["' OR '1'='1", "x'; DROP TABLE population; --", '" OR 1=1 --', "%", "_"]
)
def test_sql_lookup_is_parameterised(sqlite_url, hostile):
    source = SqlSource(sqlite_url, "population", "id_number")
    assert source.lookup(hostile) is None
    assert source.count() == len(PEOPLE) + 1  # the table is still there


def test_sql_errors_name_the_table_or_column(sqlite_url):
    with pytest.raises(SourceError, match="'nowhere'"):
        SqlSource(sqlite_url, "nowhere", "id_number")
    with pytest.raises(SourceError, match="no column 'passport'"):
        SqlSource(sqlite_url, "population", "passport")


# ---------------------------------------------------------------- the source spec


def test_open_source_spec(tmp_path, sqlite_url):
    write_csv(tmp_path / "p.csv")
    assert isinstance(open_source("csv:p.csv", "id_number", base=tmp_path), CsvSource)
    absolute = open_source(f"csv:{tmp_path / 'p.csv'}", "id_number", base=tmp_path / "elsewhere")
    assert absolute.count() == len(PEOPLE)
    sql = open_source(f"sql:{sqlite_url}#population", "id_number", base=tmp_path)
    assert isinstance(sql, SqlSource)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("population.csv", "csv: or sql:"),
        ("sql:sqlite:///x.db", "sql:<sqlalchemy url>#<table>"),
        ("sql:#population", "sql:<sqlalchemy url>#<table>"),
        ("sql:sqlite:///x.db#", "sql:<sqlalchemy url>#<table>"),
    ],
)
def test_open_source_refuses_bad_specs(tmp_path, spec, needle):
    with pytest.raises(SourceError) as err:
        open_source(spec, "id_number", base=tmp_path)
    assert needle in str(err.value)


def test_a_missing_sqlite_source_is_reported_not_created(tmp_path):
    missing = tmp_path / "registry.db"
    with pytest.raises(SourceError, match="no SQLite database at"):
        SqlSource(f"sqlite:///{missing}", "people", "id_number")
    assert not missing.exists()


def test_a_csv_correction_rewrites_the_file_and_a_failed_one_changes_nothing(tmp_path):
    import os

    from tongdao.node.adapters import CorrectionRefused, CsvSource

    path = tmp_path / "people.csv"
    path.write_text("id,name,city\n1,甲,哈尔滨\n2,乙,大庆\n", encoding="utf-8")
    source = CsvSource(path, "id")
    before, after = source.correct("2", {"name": "丙"})
    assert before == {"id": "2", "name": "乙", "city": "大庆"}
    assert after == {"id": "2", "name": "丙", "city": "大庆"}
    assert path.read_text(encoding="utf-8").splitlines() == [
        "id,name,city",
        "1,甲,哈尔滨",
        "2,丙,大庆",
    ]
    assert CsvSource(path, "id").lookup("2") == after
    with pytest.raises(CorrectionRefused, match="no record"):
        source.correct("3", {"name": "丁"})
    os.chmod(tmp_path, 0o500)  # the directory refuses the temporary file (root ignores this)
    try:
        if not os.access(tmp_path, os.W_OK):
            with pytest.raises(CorrectionRefused):
                source.correct("1", {"name": "丁"})
            assert source.lookup("1")["name"] == "甲"
    finally:
        os.chmod(tmp_path, 0o700)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    with pytest.raises(CorrectionRefused, match="read-only"):
        CsvSource(path, "id", read_only=True).correct("1", {"name": "丁"})


def test_a_sql_correction_is_one_update_and_a_source_refusing_it_changes_nothing(tmp_path):
    import sqlite3

    from tongdao.node.adapters import CorrectionRefused, SqlSource

    db = tmp_path / "p.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE p (id TEXT PRIMARY KEY, name TEXT, age INTEGER)")
        conn.execute("INSERT INTO p VALUES ('1', '甲', 30), ('2', '乙', 40)")
    source = SqlSource(f"sqlite:///{db}", "p", "id")
    before, after = source.correct("1", {"name": "丙"})
    assert (before["name"], after["name"], after["age"]) == ("甲", "丙", "30")
    assert source.lookup("2")["name"] == "乙"
    with pytest.raises(CorrectionRefused, match="no record"):
        source.correct("9", {"name": "丁"})
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE VIEW v AS SELECT * FROM p")
    with pytest.raises(CorrectionRefused, match="refused the update"):
        SqlSource(f"sqlite:///{db}", "v", "id").correct("2", {"name": "丁"})
    with pytest.raises(CorrectionRefused, match="read-only"):
        SqlSource(f"sqlite:///{db}", "p", "id", read_only=True).correct("2", {"name": "丁"})
    assert source.lookup("2")["name"] == "乙"


def test_sql_correction_on_every_store_changes_one_record(sqlite_url):
    from tongdao.node.adapters import CorrectionRefused

    source = SqlSource(sqlite_url, "population", "id_number")
    key = PEOPLE[1][0]
    before, after = source.correct(key, {"name": "更正后"})
    assert before == dict(zip(HEADER, PEOPLE[1], strict=True))
    assert after == {**before, "name": "更正后"}
    assert source.lookup(key) == after
    assert source.lookup(PEOPLE[0][0])["name"] == PEOPLE[0][1]
    with pytest.raises(CorrectionRefused, match="no record"):
        source.correct("230102000000000000", {"name": "x"})
    hostile = "x'; DROP TABLE population; --"
    source.correct(key, {"name": hostile})  # a value is a parameter, never SQL
    assert source.lookup(key)["name"] == hostile and source.count() == len(PEOPLE) + 1

"""Catalogue at provincial scale: bulk import and search latency on SQLite and PostgreSQL.

Generates realistic synthetic entries (Chinese names and descriptions, 5–60 data items each,
spread over a province's departments, cities and counties), imports them through the broker's
own bulk import (JSON files of 5,000 entries, one transaction each, as published — what the
authority does when it moves an existing catalogue onto the platform), then times a mix of
searches: three-character and longer terms, two-character terms (婚姻, 户号), two terms, terms
with filters, and browse-by-filter, plus a matching query. Reports import time, p50 / p95 / p99
latency per kind of query, CPU time (the benchmark's process; on PostgreSQL also the server
backend's, read from /proc, as the machine is shared), peak memory, the store's size and the
load average, so that a run on a busy machine can be recognised. Writes catalogue-bench.json,
catalogue-bench.md and the plots to ``--out`` in the benchmarks' one report format.

Run:  python -m tongdao.benchmarks.catalogue_bench [--entries 100000] [--pg-url URL] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tongdao.benchmarks import report as common

DEPARTMENTS = [
    ("gat", "公安", ["人口基本信息", "户籍登记", "居住证办理", "机动车登记", "驾驶证信息"]),
    ("mzt", "民政", ["婚姻登记信息", "社会组织登记", "最低生活保障", "殡葬服务", "养老机构备案"]),
    ("rst", "人力资源和社会保障", ["社会保险参保", "就业登记", "职业资格证书", "工伤认定"]),
    ("scjg", "市场监督管理", ["营业执照", "企业年报", "行政处罚", "食品经营许可"]),
    ("zrzy", "自然资源", ["不动产登记", "土地利用现状", "矿业权登记", "地理信息数据"]),
    ("zjt", "住房和城乡建设", ["建筑企业资质", "商品房预售许可", "住房公积金缴存"]),
    ("wjw", "卫生健康", ["出生医学证明", "医疗机构执业许可", "医师执业注册", "预防接种记录"]),
    ("jyt", "教育", ["学籍信息", "学历证书", "教师资格证", "学校基本信息"]),
    ("sw", "税务", ["纳税信用等级", "税务登记", "个人所得税缴纳"]),
    ("jtt", "交通运输", ["道路运输经营许可", "从业人员资格证", "营运车辆信息"]),
]
ITEMS = {
    "id_number": "公民身份号码",
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "address": "住址",
    "marital_status": "婚姻状况",
    "registration_date": "登记日期",
    "credit_code": "统一社会信用代码",
    "company": "企业名称",
    "legal_rep": "法定代表人",
    "capital": "注册资本",
    "founded": "成立日期",
    "business_scope": "经营范围",
    "unit_number": "不动产单元号",
    "holder": "权利人",
    "location": "坐落",
    "area": "面积",
    "land_use": "用途",
    "insured_status": "参保状态",
    "contribution_base": "缴费基数",
    "licence_number": "许可证编号",
    "valid_until": "有效期至",
    "issuer": "发证机关",
    "school": "学校名称",
    "degree": "学历层次",
    "major": "专业",
    "vehicle_plate": "号牌号码",
    "vehicle_type": "车辆类型",
    "tax_grade": "纳税信用等级",
    "tax_amount": "应纳税额",
    "phone": "联系电话",
    "household_id": "户号",
    "relation": "与户主关系",
    "spouse_name": "配偶姓名",
    "spouse_id": "配偶身份号码",
    "penalty": "处罚决定",
    "penalty_date": "处罚日期",
    "hospital": "医疗机构名称",
    "practice_scope": "执业范围",
    "vaccine": "疫苗名称",
    "dose_date": "接种日期",
    "pension": "养老金领取状态",
    "employer": "工作单位",
    "occupation": "职业",
    "education": "文化程度",
    "death_date": "死亡日期",
    "certificate_no": "证书编号",
    "mineral": "矿种",
    "parcel": "宗地代码",
}
GRADES = ["general", "general", "general", "personal", "sensitive_personal"]
CITIES = [
    ("230100", "哈尔滨市"),
    ("230200", "齐齐哈尔市"),
    ("230300", "鸡西市"),
    ("230400", "鹤岗市"),
    ("230500", "双鸭山市"),
    ("230600", "大庆市"),
    ("230700", "伊春市"),
    ("230800", "佳木斯市"),
    ("231000", "牡丹江市"),
]
CHUNK = 5_000  # entries per import file (about 25 MB of JSON; the rule file allows 32 MiB)
SUFFIX = ["", "（历史）", "（年度）", "统计", "明细", "台账", "变更记录", "核验"]

QUERIES_LONG = [
    "婚姻登记",
    "不动产",
    "营业执照",
    "社会保险",
    "统一社会信用代码",
    "出生医学证明",
    "纳税信用",
    "学籍信息",
    "道路运输",
    "预防接种",
]
QUERIES_SHORT = ["婚姻", "学籍", "税务", "车辆", "矿种", "户号"]
QUERIES_TWO = ["婚姻 哈尔滨", "不动产 面积", "营业执照 法定代表人", "学历 专业"]


def departments() -> list[dict[str, Any]]:
    """Province departments plus city and county ones (code, name, region, level)."""
    out = []
    for code, name, _ in DEPARTMENTS:
        out.append(
            {
                "code": f"hlj.{code}",
                "name": f"黑龙江省{name}厅",
                "region": "230000",
                "level": "province",
            }
        )
        for region, city in CITIES:
            out.append(
                {
                    "code": f"c{region}.{code}",
                    "name": f"{city}{name}局",
                    "region": region,
                    "level": "city",
                }
            )
            county = str(int(region) + 2)
            out.append(
                {
                    "code": f"x{county}.{code}",
                    "name": f"{city}辖区{name}局",
                    "region": county,
                    "level": "county",
                }
            )
    return out


def entries(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` synthetic catalogue entries (stored-content shape, as ``tongdao catalogue import``)."""
    return list(iter_entries(n, seed))


def iter_entries(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The entries of :func:`entries`, one at a time (a 100,000-entry run never holds them all)."""
    rnd = random.Random(seed)
    depts = departments()
    subjects = {code: subj for code, _, subj in DEPARTMENTS}
    names = [n for n in ITEMS if n not in ("id_number", "name", "credit_code")]
    # Each department's entries draw on its own domain's items (marriage items at 民政, …),
    # plus the common identifiers, as real catalogues do.
    pools = {code: names[k * 5 : k * 5 + 12] for k, (code, _, _) in enumerate(DEPARTMENTS)}
    for i in range(n):
        dept = depts[i % len(depts)]
        kind = dept["code"].rsplit(".", 1)[1]
        subject = rnd.choice(subjects[kind])
        count = rnd.randint(5, 60)
        pool = pools[kind] or names[:12]
        common = ["id_number", "name"] if kind not in ("scjg", "sw") else ["credit_code", "company"]
        chosen = common + rnd.sample(pool, min(count - 2, len(pool)))
        items = [
            {
                "name": f,
                "type": "string",
                "description": ITEMS[f],
                "sensitivity": rnd.choice(GRADES),
                "classification": "",
            }
            for f in chosen
        ]
        for extra in range(count - len(chosen)):
            items.append(
                {
                    "name": f"ext_{extra}",
                    "type": "string",
                    "description": f"{subject}扩展信息项{extra}",
                    "sensitivity": "general",
                    "classification": "",
                }
            )
        share = rnd.choice(["unconditional", "conditional", "not_shared"])
        open_type = rnd.choice(["not_open", "not_open", "conditional_open"])
        yield (
            {
                "code": f"e{i:06d}.{kind}",
                "name": f"{dept['name']}{subject}{rnd.choice(SUFFIX)}",
                "description": f"{dept['name']}在履职过程中产生的{subject}数据，"
                f"按{rnd.choice(['日', '周', '月', '季度'])}更新，用于跨部门共享核验。",
                "provider": dept["code"],
                "key_field": items[0]["name"],
                "data_format": "数据库表",
                "update_frequency": rnd.choice(["实时", "每日", "每月"]),
                "share_type": share,
                "share_scope_departments": [],
                "share_scope_levels": ["province", "city"] if share == "conditional" else [],
                "share_scope_regions": [],
                "permitted_purposes": ["政务服务"] if share == "conditional" else [],
                "legal_basis": "《中华人民共和国个人信息保护法》第十三条"
                if share == "not_shared"
                else "",
                "open_type": open_type,
                "open_conditions": "依申请向科研机构开放"
                if open_type == "conditional_open"
                else "涉及个人信息",
                "classification": ("基础库", "主题库", "业务库")[i % 3],
                "grade": ("general", "important", "core")[i % 3],
                "aggregation_mode": rnd.choice(["logical", "physical"]),
                "tags": rnd.choice([[], [], ["thematic"], ["population"], ["legal_entity"]]),
                "subject_consent": False,
                "contains_trade_secret": False,
                "data_items": items,
            }
        )


def json_files(n: int) -> Iterator[bytes]:
    """The ``n`` entries as import files of ``CHUNK`` entries (generated as they are needed)."""
    generated = iter_entries(n)
    for start in range(0, n, CHUNK):
        chunk = [next(generated) for _ in range(min(CHUNK, n - start))]
        yield json.dumps({"entries": chunk}, ensure_ascii=False).encode()


def progress_bar(label: str):  # type: ignore[no-untyped-def]
    """The progress display of long operations (tongdao.progress), on standard error."""
    from tongdao.progress import Progress

    return Progress(label, stream=sys.stderr)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "n": len(values),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class _BackendClock:
    """CPU seconds of the PostgreSQL server process serving a session (same machine, /proc).

    ``/proc/PID/schedstat`` counts nanoseconds on a CPU (``stat``'s ticks are 10 ms, too coarse
    for one query). With the client's own CPU time this is what a query costs on an idle core,
    which the wall-clock latency on a shared machine is not.
    """

    def seconds(self, session: Any) -> float:
        """The backend's CPU seconds so far (0 when not readable, or not PostgreSQL)."""
        if session.get_bind().dialect.name != "postgresql":
            return 0.0
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0


def search_cases() -> list[tuple[str, str, Any]]:
    """The query mix: (kind, query, filters)."""
    from tongdao.broker.catalogue.search_ranking import SearchFilters

    cases: list[tuple[str, str, Any]] = []
    for q in QUERIES_LONG:
        cases.append(("3+ chars", q, SearchFilters()))
    for q in QUERIES_SHORT:
        cases.append(("2 chars", q, SearchFilters()))
    for q in QUERIES_TWO:
        cases.append(("two terms", q, SearchFilters()))
    for q in QUERIES_LONG[:5]:
        cases.append(
            ("3+ chars + filters", q, SearchFilters(region="230100", share_type="conditional"))
        )
    for q in QUERIES_SHORT[:3]:
        cases.append(("2 chars + provider", q, SearchFilters(provider="c230100.mzt")))
    cases.append(("browse by tag", "", SearchFilters(tag="population")))
    return cases


def run_store(url: str, label: str, n: int, rounds: int) -> dict[str, Any]:
    """Import ``n`` generated entries into a fresh store at ``url`` and time searches."""
    from tongdao.broker.app import build_services
    from tongdao.broker.catalogue.search_ranking import SearchFilters
    from tongdao.broker.directory.service import DepartmentData
    from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
    from tongdao.broker.ledger.chain import Ledger
    from tongdao.crypto.enrolment import certify
    from tongdao.crypto.envelope import EncryptionKeyPair
    from tongdao.crypto.pki import Authority, create_authority
    from tongdao.crypto.signing import SigningKey
    from tongdao.policies.calendar import WorkingDayCalendar
    from tongdao.policies.loader import load_policy

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    key = SigningKey.generate()
    made = create_authority()
    ca = Authority.load(made.certificate_pem, made.private_key_pem)
    services = build_services(
        policy=load_policy("heilongjiang-2025"),
        calendar=WorkingDayCalendar.default(),
        signing_key=key,
        ledger=Ledger(key),
        authority_ca_pem=ca.certificate_pem,
    )
    with sessions.begin() as s:
        for d in departments():  # each enrolled through a CA, as the directory requires
            certificate = certify(
                ca,
                d["code"],
                role="department",
                signing_key=SigningKey.generate(),
                encryption_public_key=EncryptionKeyPair.generate().public_key,
                profile={"name": d["name"], "region": d["region"], "level": d["level"]},
            ).client_pem
            services.directory.register_certified_department(
                s, "authority", certificate, DepartmentData(d["code"], "", "", "", "", b"", b"")
            )
    backend = _BackendClock()
    bar = progress_bar(f"import {label}")
    load_before = _load()
    import_wall = import_cpu = import_server_cpu = 0.0
    imported = 0
    # One file (and one transaction) per 5,000 entries; generating and encoding the file is
    # not counted, reading it is (the import parses and validates every row).
    for k, chunk in enumerate(json_files(n)):
        start, cpu = time.perf_counter(), time.process_time()
        with sessions.begin() as s:
            server = backend.seconds(s)
            result = services.catalogue.import_entries(
                s,
                "authority",
                chunk,
                "json",
                publish=True,
                progress=lambda done, _total, k=k: bar.update(k * CHUNK + done, n),
            )
            import_server_cpu += backend.seconds(s) - server
        import_wall += time.perf_counter() - start
        import_cpu += time.process_time() - cpu
        assert not result.problems, result.problems[:5]
        imported += result.imported
    bar.close()
    assert imported == n
    load_after_import = _load()
    if engine.dialect.name == "postgresql":
        # What autovacuum does within a minute of a bulk load (statistics, visibility map,
        # hint bits), done now so the figures do not depend on when it wakes up.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    by_kind: dict[str, list[float]] = {}
    cpu_by_kind: dict[str, list[float]] = {}
    all_ms: list[float] = []
    found: dict[str, int] = {}
    server_search_cpu = 0.0
    cases = search_cases()
    for _ in range(rounds):
        for kind, q, f in cases:
            with sessions.begin() as s:
                server = backend.seconds(s)
                t0, c0 = time.perf_counter(), time.process_time()
                hits, _more = services.catalogue.search_catalogue(s, "authority", q, f, limit=20)
                ms = (time.perf_counter() - t0) * 1000
                cpu_ms = (time.process_time() - c0) * 1000
                server_cpu = backend.seconds(s) - server
                server_search_cpu += server_cpu
                cpu_ms += server_cpu * 1000
            by_kind.setdefault(kind, []).append(ms)
            cpu_by_kind.setdefault(kind, []).append(cpu_ms)
            all_ms.append(ms)
            found[f"{kind}: {q or '(browse)'}"] = len(hits)
    match_ms, match_cpu_ms = [], []
    for _ in range(rounds):
        with sessions.begin() as s:
            server = backend.seconds(s)
            t0, c0 = time.perf_counter(), time.process_time()
            services.catalogue.match_catalogue(
                s,
                "authority",
                "核查低保申请人的婚姻状况",
                ["婚姻状况", "配偶姓名"],
                SearchFilters(),
            )
            match_ms.append((time.perf_counter() - t0) * 1000)
            cpu = time.process_time() - c0 + backend.seconds(s) - server
            match_cpu_ms.append(cpu * 1000)
    load_after_search = _load()
    size = 0
    if engine.dialect.name == "sqlite":
        engine.dispose()
        base = Path(url.removeprefix("sqlite:///"))
        with sqlite3.connect(base) as conn:  # the WAL into the file: its size is the store's
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in base.parent.glob(base.name + "*"))
    else:
        with engine.connect() as conn:
            size = conn.execute(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                )
            ).scalar_one()
    engine.dispose()
    return {
        "store": label,
        "entries": n,
        "rounds": rounds,
        "import_seconds": round(import_wall, 1),
        "import_cpu_seconds": round(import_cpu, 1),
        "import_server_cpu_seconds": round(import_server_cpu, 1),
        "search_ms": _stats(all_ms),
        "search_cpu_ms": _stats([x for v in cpu_by_kind.values() for x in v]),
        "search_ms_by_kind": {k: _stats(v) for k, v in by_kind.items()},
        # CPU of the benchmark's process plus (PostgreSQL) the server backend, per query
        "search_cpu_ms_by_kind": {k: _stats(v) for k, v in cpu_by_kind.items()},
        "search_server_cpu_seconds": round(server_search_cpu, 2),
        "match_ms": _stats(match_ms),
        "match_cpu_ms": _stats(match_cpu_ms),
        "results_per_query": found,
        "store_mb": round(float(size or 0) / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": {
            "before_import": load_before,
            "after_import": load_after_import,
            "after_search": load_after_search,
        },
    }


def _pg_schema_drop(admin: Any, schema: str) -> None:
    """Drop the benchmark's schema, but never an extension other schemas may use.

    Migration 0005 creates pg_trgm where the search path points when the database has none;
    if that was our schema, the extension moves to ``public`` first, so dropping our schema
    cannot cascade into another schema's indexes.
    """
    with admin.begin() as conn:
        home = conn.execute(
            text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
            )
        ).scalar_one_or_none()
        if home == schema:
            conn.execute(text("ALTER EXTENSION pg_trgm SET SCHEMA public"))
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    return common.machine()


def _ms_row(section: str, name: str, stats: dict[str, float], note: str = "") -> common.Row:
    fmt = common.fmt
    spread = f"p95 {fmt(stats['p95'])}, p99 {fmt(stats['p99'])} ms" if "p99" in stats else ""
    return common.Row(
        section,
        name,
        "ms",
        stats["p50"],
        stats.get("min"),
        stats["max"],
        note="; ".join(x for x in (f"median of {stats['n']}", spread, note) if x),
    )


def report_rows(results: list[dict[str, Any]]) -> list[common.Row]:
    """The report's rows: per store, the import, the searches by kind, the match, the size."""
    out = []
    for r in results:
        section = f"{r['store']}, {r['entries']:,} entries"
        out.append(
            common.Row(
                section,
                "import (validate and publish)",
                "s",
                r["import_seconds"],
                note=f"{r['import_cpu_seconds']} CPU-s here, "
                f"{r['import_server_cpu_seconds']} CPU-s in the database server",
            )
        )
        out.append(_ms_row(section, "search, all queries", r["search_ms"]))
        for kind, stats in r["search_ms_by_kind"].items():
            cpu = r["search_cpu_ms_by_kind"][kind]
            out.append(
                _ms_row(section, f"search, {kind}", stats, f"CPU p50 {common.fmt(cpu['p50'])} ms")
            )
        out.append(
            _ms_row(section, "search CPU (client and server), all queries", r["search_cpu_ms"])
        )
        out.append(_ms_row(section, "matching query", r["match_ms"]))
        out.append(common.Row(section, "store size", "MB", r["store_mb"]))
        out.append(common.Row(section, "peak RSS of the benchmark", "MB", r["peak_rss_mb"]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a table and writes JSON to ``--out``."""
    parser = argparse.ArgumentParser(prog="tongdao bench catalogue")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="2,000 entries, 2 rounds (CI smoke)")
    parser.add_argument("--rounds", type=int, default=5, help="times each query is run")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TONGDAO_BENCH_PG_URL", ""),
        help="PostgreSQL URL (a private schema is created and dropped)",
    )
    parser.add_argument(
        "--only", choices=("sqlite", "postgresql"), help="run one store (e.g. to re-run it)"
    )
    parser.add_argument("--out", default="benchmarks/results", help="directory for the JSON")
    args = parser.parse_args(argv)
    n, rounds = (2000, 2) if args.quick else (args.entries, args.rounds)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load = {"start": _load()}
    results = []
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run_store(f"sqlite:///{tmp}/bench.db", "SQLite", n, rounds))
    pg_version = ""
    if args.pg_url and args.only != "sqlite":
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            pg_version = conn.execute(text("SHOW server_version")).scalar_one()
        sep = "&" if "?" in args.pg_url else "?"
        try:
            url = f"{args.pg_url}{sep}options=-csearch_path%3D{schema}"
            results.append(run_store(url, "PostgreSQL", n, rounds))
        finally:
            _pg_schema_drop(admin, schema)
            admin.dispose()
    versions = {**common.versions("sqlalchemy"), "sqlite": sqlite3.sqlite_version}
    if pg_version:
        versions["postgresql"] = pg_version
    report = common.Report(
        "catalogue",
        common.command("catalogue", argv),
        quick=args.quick,
        versions=versions,
        started_at=started,
        load_average=load,
        rows=report_rows(results),
    )
    report.detail = {"results": results}
    report.write(Path(args.out), "catalogue-bench")
    print(report.markdown())
    print(f"\nwrote {args.out}/catalogue-bench.json, catalogue-bench.md and the plots")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

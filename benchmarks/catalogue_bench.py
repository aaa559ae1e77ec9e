"""Catalogue search at provincial scale: synthetic entries, search latency on SQLite and PostgreSQL.

Run: ``tongdao bench catalogue [--entries 100000] [--postgres URL]``. Entries are loaded straight
into the store (one transaction per 5,000) — this measures search, not the bulk-import feature,
which does not exist yet.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

SUBJECTS = [
    "人口",
    "户籍",
    "婚姻",
    "低保",
    "社保",
    "医保",
    "住房",
    "公积金",
    "车辆",
    "驾驶证",
    "企业",
    "个体工商户",
    "税务",
    "发票",
    "土地",
    "不动产",
    "规划",
    "环境",
    "水质",
    "空气",
    "教育",
    "学籍",
    "卫生",
    "疫苗",
    "食品",
    "药品",
    "市场",
    "价格",
    "交通",
    "道路",
    "气象",
    "农业",
    "林业",
    "渔业",
    "旅游",
    "文物",
    "就业",
    "失业",
    "养老",
    "残疾人",
    "救助",
    "殡葬",
]
KINDS = [
    "登记信息",
    "基本信息",
    "变更记录",
    "许可信息",
    "审批结果",
    "监测数据",
    "统计数据",
    "名录",
    "证照信息",
    "缴纳记录",
    "补贴发放",
    "核验结果",
]
ITEMS = [
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "住址",
    "联系电话",
    "单位名称",
    "统一社会信用代码",
    "登记日期",
    "有效期",
    "金额",
    "状态",
    "所属区县",
    "经办机构",
    "备注",
    "类别",
    "编号",
    "面积",
    "数量",
    "等级",
]
QUERIES = ["婚姻", "户籍登记", "公积金 缴纳", "统一社会信用代码", "驾驶证", "低保 补贴发放",
           "不动产登记", "疫苗", "残疾人 救助", "空气 监测数据"]  # fmt: skip


def _entries(n: int, seed: int = 7) -> list[tuple[dict[str, Any], str]]:
    from broker.catalogue_search import search_fields

    rng = random.Random(seed)
    out = []
    for i in range(n):
        subject, kind = rng.choice(SUBJECTS), rng.choice(KINDS)
        items = [
            {
                "name": f"f{j}",
                "type": "string",
                "description": rng.choice(ITEMS),
                "sensitivity": "general",
            }
            for j in range(rng.randint(5, 60))
        ]
        content = {
            "code": f"bench.{i:06d}",
            "name": f"{subject}{kind}",
            "description": (
                f"{rng.choice(SUBJECTS)}{rng.choice(KINDS)}，{rng.choice(SUBJECTS)}相关数据"
            ),
            "provider": "bench.dept",
            "data_items": items,
            "classification": "主题库",
            "effective_share_type": rng.choice(["unconditional", "conditional"]),
            "open_type": "not_open",
        }
        out.append((content, search_fields(content, "基准测试部门")))
    return out


def _load(url: str, entries: list[tuple[dict[str, Any], str]], say: Callable[[str], None]) -> float:
    from broker.db import make_engine, upgrade
    from broker.models import CatalogueEntry, CatalogueEntryVersion, Department

    engine = make_engine(url)
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(Department),
            [
                {
                    "code": "bench.dept",
                    "name": "基准测试部门",
                    "region": "230000",
                    "level": "province",
                    "node_endpoint": "",
                    "encryption_public_key": bytes(32),
                    "signing_public_key": bytes(32),
                    "is_authority": False,
                    "registered_at": now,
                }
            ],
        )
    sqlite = url.startswith("sqlite")
    for chunk in range(0, len(entries), 5000):
        part = entries[chunk : chunk + 5000]
        with engine.begin() as conn:
            conn.execute(
                insert(CatalogueEntry),
                [
                    {
                        "code": c["code"],
                        "provider": "bench.dept",
                        "status": "published",
                        "current_version": 1,
                        "content": c,
                        "created_at": now,
                        "updated_at": now,
                        **t,
                    }
                    for c, t in part
                ],
            )
            conn.execute(
                insert(CatalogueEntryVersion),
                [
                    {
                        "entry_code": c["code"],
                        "version": 1,
                        "content": c,
                        "published_at": now,
                        "published_by": "authority",
                    }
                    for c, _ in part
                ],
            )
            if sqlite:
                conn.execute(
                    text("INSERT INTO catalogue_fts (code, search_text) VALUES (:c, :t)"),
                    [{"c": c["code"], "t": t["search_text"]} for c, t in part],
                )
        say(f"  loaded {min(chunk + 5000, len(entries)):,}")
    if not sqlite:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


def _latencies(url: str, repeats: int) -> dict[str, Any]:
    from broker.catalogue_search import search
    from broker.db import make_engine, session_factory

    engine = make_engine(url)
    sessions = session_factory(engine)
    times, counts = [], {}
    for _ in range(repeats):
        for q in QUERIES:
            with sessions() as session:
                start = time.perf_counter()
                hits = search(session, q, limit=20)
                times.append((time.perf_counter() - start) * 1000)
                counts[q] = len(hits)
    engine.dispose()
    qs = statistics.quantiles(times, n=100)
    return {
        "p50_ms": round(qs[49], 1),
        "p95_ms": round(qs[94], 1),
        "p99_ms": round(qs[98], 1),
        "queries": len(times),
        "results_per_query": counts,
    }


def run(
    out: Path, *, entries: int, postgres: str | None, say: Callable[[str], None] = print
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    say(f"generating {entries:,} entries")
    data = _entries(entries)
    results: dict[str, Any] = {"entries": entries, "stores": {}}
    targets = [("sqlite", f"sqlite:///{out / f'catalogue-bench-{uuid.uuid4().hex[:6]}.db'}")]
    schema = None
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(postgres)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in postgres else "?"
        targets.append(("postgresql", f"{postgres}{sep}options=-csearch_path%3D{schema},public"))
    try:
        for name, url in targets:
            say(f"{name}: loading")
            load_s = _load(url, data, say)
            say(f"{name}: searching")
            results["stores"][name] = {"load_seconds": round(load_s, 1), **_latencies(url, 5)}
            say(f"{name}: {results['stores'][name]}")
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        for path in out.glob("catalogue-bench-*.db*"):
            path.unlink()
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    (out / "catalogue-bench.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return results

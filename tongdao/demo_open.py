"""Open data of the demo world: two entries of 民政厅 (hlj.mzt) open to the public, and their
synthetic records — a register of elderly-care homes (unconditionally open) and the operating
subsidies paid to them (conditionally open)."""

from __future__ import annotations

import random
from typing import Any

PROVIDER = "hlj.mzt"
DISTRICTS = ("道里区", "南岗区", "道外区", "香坊区", "平房区", "松北区", "呼兰区")


def _item(name: str, type_: str, description: str, sensitivity: str) -> dict[str, str]:
    return {"name": name, "type": type_, "description": description, "sensitivity": sensitivity}


CARE_HOMES: dict[str, Any] = {
    "code": "mzt.care-homes",
    "name": "养老机构名录",
    "description": "全省备案养老机构：名称、所在区县、床位数、联系人",
    "provider": PROVIDER,
    "key_field": "home_id",
    "data_format": "structured",
    "update_frequency": "monthly",
    "share_type": "unconditional",
    "open_type": "unconditional_open",
    "open_conditions": "",
    "subject_consent": True,  # the contact persons agreed to be listed (Art.33)
    "classification": "主题库",
    "grade": "general",
    "data_items": [
        _item("home_id", "string", "机构备案编号", "general"),
        _item("home_name", "string", "机构名称", "general"),
        _item("district", "string", "所在区县", "general"),
        _item("beds", "integer", "核定床位数", "general"),
        _item("contact_person", "string", "联系人姓名", "personal"),
        _item("legal_rep_id", "string", "法定代表人公民身份号码", "sensitive_personal"),
    ],
}

CARE_SUBSIDIES: dict[str, Any] = {
    "code": "mzt.care-subsidies",
    "name": "养老机构运营补贴发放信息",
    "description": "各养老机构按年度获得的运营补贴金额",
    "provider": PROVIDER,
    "key_field": "home_id",
    "data_format": "structured",
    "update_frequency": "yearly",
    "share_type": "unconditional",
    "open_type": "conditional_open",
    "open_conditions": "用于养老服务研究或监督，申请时说明用途",
    "classification": "主题库",
    "grade": "general",
    "data_items": [
        _item("home_id", "string", "机构备案编号", "general"),
        _item("year", "string", "补贴年度", "general"),
        _item("subsidy_yuan", "decimal", "运营补贴金额（元）", "general"),
    ],
}

OPEN_ENTRIES = (CARE_HOMES, CARE_SUBSIDIES)


def care_homes(count: int, seed: int = 7) -> list[dict[str, str]]:
    """Synthetic care homes (names and ID numbers invented)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    surnames = "王李张刘陈杨赵黄周吴"
    return [
        {
            "home_id": f"YL{n:05d}",
            "home_name": f"{rng.choice(DISTRICTS)}第{n}养老院",
            "district": rng.choice(DISTRICTS),
            "beds": str(rng.randrange(20, 400)),
            "contact_person": rng.choice(surnames) + rng.choice("明华丽军芳强"),
            "legal_rep_id": f"230102{rng.randrange(1950, 1990)}0101{rng.randrange(1000, 9999)}",
        }
        for n in range(1, count + 1)
    ]


def care_subsidies(homes: list[dict[str, str]], seed: int = 8) -> list[dict[str, str]]:
    """One subsidy line per home for 2025."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    return [
        {"home_id": h["home_id"], "year": "2025", "subsidy_yuan": str(rng.randrange(1, 90) * 1000)}
        for h in homes
    ]

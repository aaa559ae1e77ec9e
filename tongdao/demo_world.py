"""The demo's world: its departments, the catalogue entries they publish, their grades."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tongdao import synthetic
from tongdao.home import DepartmentProfile, Home

GAT = DepartmentProfile("hlj.gat", "黑龙江省公安厅", "230000", "province")
MZT = DepartmentProfile("hlj.mzt", "黑龙江省民政厅", "230000", "province")
RSJ = DepartmentProfile("hrb.rsj", "哈尔滨市人力资源和社会保障局", "230100", "city")
SW = DepartmentProfile("hlj.sw", "国家税务总局黑龙江省税务局", "230000", "province")
CITY_MZJ = [
    DepartmentProfile(f"{abbr}.mzj", f"{city}民政局", region, "city")
    for region, (abbr, city) in synthetic.CITIES.items()
]

PURPOSE = "城乡最低生活保障资格审核"
SCENARIO = "哈尔滨市低保申请人身份与婚姻状况核验"
BASIS = "《社会救助暂行办法》第十一条"

ENTRY_DIR = Path(__file__).resolve().parent / "demo_entries"
ENTRIES: dict[str, dict[str, Any]] = {
    path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
    for path in sorted(ENTRY_DIR.glob("*.toml"))
}


def city_entry(profile: DepartmentProfile) -> dict[str, Any]:
    """The subsistence-allowance (低保) catalogue entry each city's civil-affairs bureau serves."""
    abbr = profile.code.split(".")[0]
    return {
        "code": f"mzj.{abbr}.dibao",
        "name": f"{profile.name[:-3]}城乡低保保障对象信息",
        "description": "城乡最低生活保障家庭：户编号、所在区县、家庭人口、月保障金额",
        "provider": profile.code,
        "key_field": "household_id",
        "data_format": "structured",
        "update_frequency": "monthly",
        "share_type": "unconditional",
        "open_type": "not_open",
        "open_conditions": "涉及困难群众个人信息，不予开放",
        "classification": "主题库",
        "grade": "important",
        "data_items": [
            {"name": "household_id", "type": "string", "description": "户编号",
             "sensitivity": "general"},
            {"name": "district", "type": "string", "description": "所在区县",
             "sensitivity": "general"},
            {"name": "members", "type": "integer", "description": "家庭人口",
             "sensitivity": "general"},
            {"name": "monthly_allowance", "type": "decimal", "description": "月保障金额（元）",
             "sensitivity": "personal"},
        ],
    }  # fmt: skip


for _profile in CITY_MZJ:
    ENTRIES[city_entry(_profile)["code"]] = city_entry(_profile)


def grades_of(code: str) -> dict[str, str]:
    """Data item → sensitivity grade of a demo entry."""
    return {i["name"]: i["sensitivity"] for i in ENTRIES[code]["data_items"]}


def node_config(
    home: Home,
    profile: DepartmentProfile,
    entry: str,
    csv_name: str,
    grades: dict[str, str],
    *,
    revocation_list: Path | None = None,
) -> str:
    """The node's configuration: its department's ``home`` and the CA's published revocation
    list (default: the one in that home)."""
    key = ENTRIES[entry]["key_field"]
    crl = revocation_list or home.ca_dir / "crl.pem"
    lines = [
        f'department = "{profile.code}"',
        f'home = "{home.root.resolve()}"',
        f'revocation_list = "{crl.resolve()}"',
        'listen = "127.0.0.1:0"',
        f'state_dir = "state-{profile.code}"',
        "",
        "[[entries]]",
        f'code = "{entry}"',
        f'source = "csv:{csv_name}"',
        f'key_field = "{key}"',
        "",
        "[entries.grades]",
        *[f'{name} = "{grade}"' for name, grade in grades.items()],
    ]
    return "\n".join(lines) + "\n"

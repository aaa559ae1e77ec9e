"""Synthetic registries for the demo and tests — generated, never real personal data.

ID numbers follow the GB 11643-1999 layout (region, birth date, sequence, ISO 7064 MOD 11-2
check digit) so validation code sees realistic input, but every record is made up from a seeded
pseudo-random generator.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅晶晨阳博文雪松海燕"
REGIONS = {
    "230102": "哈尔滨市道里区",
    "230103": "哈尔滨市南岗区",
    "230202": "齐齐哈尔市龙沙区",
    "230302": "鸡西市鸡冠区",
    "230402": "鹤岗市向阳区",
    "230602": "大庆市萨尔图区",
    "230702": "伊春市伊美区",
    "231002": "牡丹江市东安区",
}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


def make_id_number(rng: random.Random, region: str, birth: dt.date) -> str:
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_digit(first17)


def population(count: int, seed: int = 2025) -> list[dict[str, str]]:
    """Synthetic population registry rows (公安 人口基本信息)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    while len(rows) < count:
        region = rng.choice(list(REGIONS))
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
        idn = make_id_number(rng, region, birth)
        if idn in seen:
            continue
        seen.add(idn)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        gender = "男" if int(idn[16]) % 2 else "女"
        rows.append(
            {
                "id_number": idn,
                "name": name,
                "gender": gender,
                "birth_date": birth.isoformat(),
                "household_address": f"{REGIONS[region]}{rng.randrange(1, 300)}号",
                "region": region,
            }
        )
    return rows


def marriages(
    people: list[dict[str, str]], share: float = 0.8, seed: int = 2026
) -> list[dict[str, str]]:
    """Synthetic marriage registrations (民政 婚姻登记) for a share of ``people``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    rows = []
    for person in people:
        if rng.random() > share:
            continue
        born = dt.date.fromisoformat(person["birth_date"])
        status = rng.choice(("已婚", "已婚", "离婚", "丧偶", "未婚"))
        registered = born + dt.timedelta(days=365 * 22 + rng.randrange(365 * 15))
        rows.append(
            {
                "id_number": person["id_number"],
                "marital_status": status,
                "registration_date": "" if status == "未婚" else registered.isoformat(),
                "registration_office": f"{REGIONS[person['region']]}民政局婚姻登记处",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows with a header (UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


CITIES = {
    "230100": ("hrb", "哈尔滨市"),
    "230200": ("qqhr", "齐齐哈尔市"),
    "230300": ("jx", "鸡西市"),
    "230400": ("hg", "鹤岗市"),
    "230500": ("sys", "双鸭山市"),
    "230600": ("dq", "大庆市"),
    "230700": ("yc", "伊春市"),
    "231000": ("mdj", "牡丹江市"),
}


def incomes(
    people: list[dict[str, str]], share: float = 0.9, seed: int = 2027
) -> list[dict[str, str]]:
    """Synthetic annual taxable income records (税务) for a share of ``people``, in yuan."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    rows = []
    for person in people:
        if rng.random() > share:
            continue
        income = round(rng.lognormvariate(10.8, 0.6), 2)
        rows.append(
            {"id_number": person["id_number"], "annual_income": f"{income:.2f}", "tax_year": "2025"}
        )
    return rows


def subsistence_households(region: str, count: int, seed: int) -> list[dict[str, str]]:
    """Synthetic 城乡低保 households of one city: monthly allowance (yuan) and members."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    rows = []
    for i in range(count):
        members = rng.choice((1, 1, 2, 2, 3, 4))
        allowance = round(min(max(rng.gauss(420 * members**0.7, 90), 60), 2400), 2)
        rows.append(
            {
                "household_id": f"{region}-{i:06d}",
                "district": f"{region[:4]}{rng.randrange(1, 12):02d}",
                "members": str(members),
                "monthly_allowance": f"{allowance:.2f}",
            }
        )
    return rows

"""Every message id the console shows: literals in its templates and modules, and the ids it
builds from data (page titles, roles, share types)."""

from __future__ import annotations

import re
from pathlib import Path

from tongdao.console import pages, views

ROOT = Path(__file__).resolve().parents[3] / "console"
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
PYTHON_CALL = re.compile(
    r"""(?:\b_\(\s*(?:session|fresh),\s*|\btranslate\(\s*)"((?:[^"\\]|\\.)*)\""""
)
DYNAMIC = (
    *(page.title for page in pages.PAGES),
    "administrator",
    "operator",
    "auditor",
    *(views.share_type(value) for value in range(4)),
)


def message_ids() -> set[str]:
    ids: set[str] = set(DYNAMIC)
    for path in sorted((ROOT / "templates").glob("*.html")):
        for match in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            ids.add(match.group(1) if match.group(1) is not None else match.group(2))
    for path in sorted(ROOT.glob("*.py")):
        text = re.sub(r"\s*\n\s*", " ", path.read_text(encoding="utf-8"))
        for match in PYTHON_CALL.finditer(text):
            ids.add(match.group(1))
    return ids

"""The command's own output is in the reader's language: no line of words reaches the terminal
without the catalogue (a walk of the code), and commands that run without a broker speak
zh-CN or English as ``--locale`` says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tongdao.cli import main
from tongdao.i18n import forget

ROOT = Path(__file__).resolve().parents[2]
WORDS = re.compile(r"[A-Za-z]{2,}")
WRITERS = {"print", "write"}
"""``print(...)``, ``sys.stderr.write(...)``, ``console.print(...)`` and the like."""
NARRATORS = {"line", "check", "section"}
"""The demo's report (``report.line(...)``, ``report.check(...)``, ``report.section(...)``)."""

MACHINE_LINES = {
    # scripts, the demo and the tests parse these lines in any locale: "… listening on HOST:PORT"
    ("tongdao/commands/broker.py", "broker listening on "),
    ("tongdao/commands/console.py", "console listening on "),
    ("tongdao/commands/node.py", "node "),
    # a Merkle proof's hashes, one per line
    ("tongdao/commands/ledger.py", "  proof["),
}
"""Machine output: (module, how the line starts). Everything else with words is user text."""


def _literal_words(node: ast.expr) -> str:
    """The words of a literal string or f-string (or a sum of them) written in the code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_words(node.left) + _literal_words(node.right)
    return ""


def _start(node: ast.expr) -> str:
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        return first.value if isinstance(first, ast.Constant) else ""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def untranslated_lines(source: str, module: str) -> list[str]:
    """Where ``source`` writes a literal line of words that is not machine output."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in WRITERS and not (name in NARRATORS and isinstance(func, ast.Attribute)):
            continue
        text = _literal_words(node.args[0])
        if not WORDS.search(text):
            continue
        if any(module == m and _start(node.args[0]).startswith(s) for m, s in MACHINE_LINES):
            continue
        found.append(f"{module}:{node.lineno}: {ast.unparse(node.args[0])[:90]}")
    return found


def test_the_walk_finds_a_line_written_without_the_catalogue():
    code = 'print(f"created {n} entries")\nprint(tr("created {n} entries", n=n))\n'
    assert untranslated_lines(code, "x.py") == ["x.py:1: f'created {n} entries'"]
    assert untranslated_lines('report.line("started")\nprint(json.dumps(x))\n', "x.py") == [
        "x.py:1: 'started'"
    ]
    assert untranslated_lines('print("  proof[1] abc")', "tongdao/commands/ledger.py") == []


def test_every_line_of_words_the_command_writes_goes_through_the_catalogue():
    problems = []
    for path in sorted((ROOT / "tongdao").rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        problems += untranslated_lines(path.read_text(encoding="utf-8"), module)
    assert not problems, "write these through tr(...):\n" + "\n".join(problems)


@pytest.fixture
def run(monkeypatch, capsys, tmp_path):
    for key in ("TONGDAO_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(key, raising=False)

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        home = ["--home", str(tmp_path / "home")] if "calendar" in argv else []
        code = main([*argv, *home])
        out, err = capsys.readouterr()
        return code, out + err

    yield run
    forget()


RULES = str(ROOT / "policies" / "rules" / "heilongjiang-2025.toml")
ENGLISH_SENTENCE = re.compile(r"\b[a-z]{3,} [a-z]{2,} [a-z]{2,}\b")
"""Three English words in a row: a sentence (ids, paths and codes are single tokens)."""


def _english_sentences(text: str) -> list[str]:
    return [m.group(0) for m in ENGLISH_SENTENCE.finditer(text)]


def test_calendar_rules_in_chinese_and_in_english(run):
    code, zh = run("--locale", "zh-CN", "calendar", "rules", "2031")
    assert code == 0
    assert "节假日逢周末在随后的工作日补假" in zh and "2031 年暂定放假日：" in zh
    assert "1 天，公历 01-01" in zh and "  2031-01-01 周三  元旦" in zh
    # the rule's English title is a name the file gives; no sentence of Tongdao's is English
    assert _english_sentences(zh.replace("National Measures on Holidays for Festivals", "")) == []
    code, en = run("--locale", "en", "calendar", "rules", "2031")
    assert code == 0
    assert "weekend holidays made up on the following working day(s)" in en
    assert "provisional days off in 2031:" in en and "2031-01-01 Wed  New Year's Day" in en
    assert "暂定放假日" not in en


def test_policy_check_in_chinese_and_in_english(run, tmp_path):
    code, zh = run("--locale", "zh-CN", "policy", "check", RULES)
    assert code == 0 and zh.startswith("通过 ") and "项期限" in zh and "有效期" in zh
    assert _english_sentences(zh) == []
    code, en = run("--locale", "en", "policy", "check", RULES)
    assert code == 0 and en.startswith("OK ") and " deadlines, " in en and "项期限" not in en
    broken = tmp_path / "broken.toml"
    broken.write_text("[meta]\ntitle = 1\n", encoding="utf-8")
    code, zh = run("--locale", "zh-CN", "policy", "check", str(broken))
    assert code == 1 and zh.startswith("无效 ") and "  键：" in zh and "  问题：" in zh


def test_calendar_due_follows_lang_when_no_locale_is_given(run, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    code, en = run("calendar", "due", "2025-09-28", "5", "--explain")
    assert code == 0 and "due at the end of 2025-10-11" in en
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    code, zh = run("calendar", "due", "2025-09-28", "5", "--explain")
    assert code == 0 and "截止于 2025-10-11 当日结束" in zh and _english_sentences(zh) == []


def test_a_local_error_is_a_chinese_sentence_with_the_detail_as_a_field(run, tmp_path):
    schedule = tmp_path / "2031.toml"
    schedule.write_text("this is not toml", encoding="utf-8")
    code, zh = run("--locale", "zh-CN", "calendar", "load", str(schedule), "--check")
    assert code == 2 and zh.startswith("tongdao: error: ")
    sentence = zh.removeprefix("tongdao: error: ")
    assert re.match(r"[\u4e00-\u9fff]", sentence), sentence  # Tongdao's own words lead


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "zh-CN",
            "tongdao：警告：PSI：本机 CPU 不支持 crypto_mb 所需的 AVX-512 IFMA 指令；盲化改用",
        ),
        ("en", "tongdao: warning: PSI: this CPU lacks the AVX-512 IFMA instructions crypto_mb"),
    ],
)
def test_a_warning_of_the_catalogues_is_told_in_the_readers_language(locale, expected, capsys):
    import warnings

    from tongdao.cli import show_warning
    from tongdao.i18n import choose
    from tongdao.policies.i18n import msg

    reason = msg("this CPU lacks the AVX-512 IFMA instructions crypto_mb needs")
    warning = msg(
        "PSI: {reason}; blinding falls back to OpenSSL's X25519 (about 4× slower per core)",
        reason=reason,
    )
    choose(["--locale", locale], {})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show_warning
            warnings.warn(warning, RuntimeWarning, stacklevel=1)
    finally:
        forget()
    assert capsys.readouterr().err.startswith(expected)

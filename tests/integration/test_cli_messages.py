"""What the command line says, and how it exits, against an in-process broker and nodes.

Each message here once misled a user; the test pins the text that replaced it. The exit codes
are the documented ones (README "Exit codes"): 2 usage, 3 refused, 4 not found, 5 unavailable.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.cli import main

CONSUMER, OTHER, PROVIDER = "hrb.rsj", "hlj.sw", "hlj.gat"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("cli-messages"), records=20)
    yield s
    s.stop()


def run(stack, capsys, *argv: str, party: str = CONSUMER, broker: str = "") -> tuple[int, str, str]:
    capsys.readouterr()
    common = ["--home", str(stack.home.root), "--broker", broker or stack.broker.target]
    code = main([*argv, *common, "--as", party])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def grant(stack):
    """A grant of gat.population issued to hrb.rsj (unconditional: approved at once)."""
    client = stack.consumer(CONSUMER)
    req = client.file_share_request("gat.population", ["name"], ["fetch"], PURPOSE, SCENARIO, BASIS)
    assert req.status == "approved"
    return req.grant_id


def test_another_departments_grant_is_refused_as_not_theirs(stack, capsys, grant):
    key = stack.people[0]["id_number"]
    argv = ["consumer", "fetch", "--grant", grant, "--field", "name", "--purpose", PURPOSE]
    code, out, err = run(stack, capsys, *argv, "--key", key, party=OTHER)
    assert code == 3
    assert "only the data authority" not in err
    assert err.strip() == (
        f"tongdao: error: grant {grant} was not issued to {OTHER}: only the department a grant "
        "was issued to may query under it (check the id with `tongdao consumer status "
        "REQUEST_ID`)"
    )
    assert out == ""
    # its own department still fetches under it
    code, out, err = run(stack, capsys, *argv, "--key", key)
    assert code == 0, err


def test_a_missing_grant_exits_4(stack, capsys):
    code, _, err = run(stack, capsys, "consumer", "grant", "00000000-0000-4000-8000-000000000000")
    assert code == 4 and "NOT_FOUND" in err


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("zh-CN", "没有授权 '00000000-0000-4000-8000-000000000000'"),
        ("en", "no grant '00000000-0000-4000-8000-000000000000'"),
    ],
)
def test_the_brokers_answer_comes_in_the_commands_language(stack, capsys, locale, text):
    grant_id = "00000000-0000-4000-8000-000000000000"
    code, _, err = run(stack, capsys, "consumer", "grant", grant_id, "--locale", locale)
    assert code == 4 and text in err, err
    code, _, err = run(stack, capsys, "catalogue", "get", "no.such.entry", "--locale", locale)
    assert code == 4 and ("没有目录条目" in err) == (locale == "zh-CN"), err


def test_an_unreachable_broker_exits_5(stack, capsys):
    code, _, err = run(stack, capsys, "catalogue", "list", broker="127.0.0.1:1")
    assert code == 5 and "UNAVAILABLE" in err and "Traceback" not in err
    # it says where the address came from and what should run there, in the reader's language
    assert "nothing answers at 127.0.0.1:1: is the broker running there" in err
    assert "--broker or env TONGDAO_BROKER" in err
    code, _, err = run(
        stack, capsys, "catalogue", "list", "--locale", "zh-CN", broker="127.0.0.1:1"
    )
    assert code == 5 and "127.0.0.1:1 无应答：平台是否在该地址运行" in err
    # the consumer's commands (through the SDK) say the same
    code, _, err = run(stack, capsys, "consumer", "status", "r-1", broker="127.0.0.1:1")
    assert code == 5 and "nothing answers at 127.0.0.1:1" in err


def test_a_refusal_as_json_names_its_status(stack, capsys):
    code, out, _ = run(stack, capsys, "ledger", "show", "--json", party=CONSUMER)
    assert code == 3
    error = json.loads(out)["error"]
    assert error["status"] == "PERMISSION_DENIED" and error["exit_code"] == 3


def test_an_empty_open_catalogue_says_so(stack, capsys):
    code, out, _ = run(stack, capsys, "catalogue", "open-catalogue", "--provider", "hlj.none")
    assert code == 0
    assert out == "no entries in the open catalogue from hlj.none\n"
    code, out, _ = run(stack, capsys, "catalogue", "search", "无此数据资源之名")
    assert code == 0 and out == "no entries match\n"


def test_a_requester_sees_the_outcome_of_its_requests(stack, capsys):
    code, out, err = run(
        stack,
        capsys,
        "requests",
        "need",
        "--provider",
        PROVIDER,
        "--title",
        "流动人口信息",
        "--item",
        "id_number",
        "--item",
        "residence",
        "--scenario",
        "就业补贴",
        "--legal-basis",
        "《就业促进法》",
        "--json",
    )
    assert code == 0, err
    need = json.loads(out)
    code, out, _ = run(stack, capsys, "requests", "mine", "--id", need["id"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"data_need {need['id']}: pending — ")
    assert lines[1].startswith("    data items: ")
    assert lines[2].startswith(f"    awaiting {PROVIDER}: answer due by the end of ")
    code, _, err = run(
        stack,
        capsys,
        "requests",
        "decide",
        need["id"],
        "--refuse",
        "--reason",
        "不在职责范围",
        party=PROVIDER,
    )
    assert code == 0, err
    code, out, _ = run(stack, capsys, "requests", "mine", "--id", need["id"])
    assert code == 0
    first, _, third = out.splitlines()[:3]
    assert first.startswith(f"data_need {need['id']}: refused — ") and "流动人口信息" in first
    assert third.startswith("    decision: ") and "不在职责范围" in third
    code, out, _ = run(stack, capsys, "requests", "mine", "--json")
    assert [r["status"] for r in json.loads(out)["requests"] if r["id"] == need["id"]] == [
        "refused"
    ]
    # another department does not see it
    code, out, _ = run(stack, capsys, "requests", "mine", "--id", need["id"], party=OTHER)
    assert code == 4 and out == f"no request with id {need['id']}\n"


def test_ledger_show_pages_with_limit_and_offset(stack, capsys):
    code, out, _ = run(stack, capsys, "ledger", "show", "--json", "--limit", "3", party="authority")
    assert code == 0
    first = json.loads(out)["entries"]
    assert [e["sequence"] for e in first] == [1, 2, 3]
    argv = ["ledger", "show", "--json", "--limit", "2", "--offset", "2"]
    code, out, _ = run(stack, capsys, *argv, party="authority")
    assert [e["sequence"] for e in json.loads(out)["entries"]] == [3, 4]
    code, out, err = run(
        stack, capsys, "ledger", "show", "--from", "3", "--limit", "1", party="authority"
    )
    assert code == 0 and out.split()[0] == "3"
    assert "tongdao: note: --from is now --offset" in err
    code, out, _ = run(stack, capsys, "ledger", "show", "--offset", "100000", party="authority")
    assert code == 0 and out == "no ledger entries after sequence 100000\n"

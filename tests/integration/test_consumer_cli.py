"""`tongdao consumer` and `tongdao provider` against an in-process broker and nodes.

The whole conditional flow from the shell: the consumer files a request, the provider finds it
in its inbox and approves, the consumer reads the grant, fetches and verifies; refusals exit 3
(1 for a refused request, 2 for a malformed option) with the status and the problem on stderr.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.cli import main
from tongdao.policies.loader import load_policy
from tongdao.policies.masking import mask_value

CONSUMER, PROVIDER = "hrb.rsj", "hlj.mzt"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("cli-stack"), records=30)
    yield s
    s.stop()


def run(stack, capsys, *argv: str, party: str = CONSUMER) -> tuple[int, str, str]:
    capsys.readouterr()
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", party]
    code = main([*argv, *common])
    out, err = capsys.readouterr()
    return code, out, err


def test_conditional_request_inbox_decide_grant_fetch_verify(stack, capsys, tmp_path):
    code, out, _ = run(
        stack,
        capsys,
        "consumer",
        "request",
        "mzt.marriage",
        "--field",
        "marital_status,registration_office",
        "--method",
        "fetch,verify",
        "--purpose",
        PURPOSE,
        "--scenario",
        SCENARIO,
        "--legal-basis",
        BASIS,
        "--quota",
        "20",
        "--json",
    )
    assert code == 0
    filed = json.loads(out)
    assert filed["status"] == "pending_provider_review"

    code, out, _ = run(stack, capsys, "provider", "inbox", party=PROVIDER)
    assert code == 0 and filed["id"] in out and CONSUMER in out

    code, out, _ = run(
        stack, capsys, "provider", "decide", filed["id"], "--approve", party=PROVIDER
    )
    assert code == 0 and "approved" in out

    code, out, _ = run(stack, capsys, "consumer", "status", filed["id"], "--json")
    decided = json.loads(out)
    assert decided["status"] == "approved" and decided["grant_id"]
    grant = decided["grant_id"]

    code, out, _ = run(stack, capsys, "consumer", "grant", grant, "--token-only")
    assert code == 0 and out.startswith("tdg1.")

    married = stack.marriages[0]
    keys = [married["id_number"], "230102190001010000"]
    code, out, _ = run(
        stack,
        capsys,
        "consumer",
        "fetch",
        "--grant",
        grant,
        "--field",
        "registration_office",
        "--purpose",
        PURPOSE,
        "--key",
        ",".join(keys),
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{keys[0]}: registration_office={married['registration_office']}"
    assert lines[1] == f"{keys[1]}: not found"

    keys_file = tmp_path / "keys.csv"
    keys_file.write_text("\ufeff" + "\n".join(keys) + "\n", encoding="utf-8")
    code, out, _ = run(
        stack,
        capsys,
        "consumer",
        "fetch",
        "--grant",
        grant,
        "--field",
        "marital_status",
        "--purpose",
        PURPOSE,
        "--keys-file",
        str(keys_file),
        "--json",
    )
    rows = json.loads(out)
    assert [r["found"] for r in rows] == [True, False]
    # personal data leaves the node masked as the policy says
    policy = load_policy("heilongjiang-2025")
    masked = mask_value(policy, "personal", married["marital_status"], field_kind="marital_status")
    assert rows[0]["fields"] == {"marital_status": masked}
    assert masked != married["marital_status"]

    code, out, _ = run(
        stack,
        capsys,
        "consumer",
        "verify",
        "--grant",
        grant,
        "--key",
        married["id_number"],
        "--claim",
        f"marital_status={married['marital_status']}",
        "--claim",
        "registration_office=别处",
        "--purpose",
        PURPOSE,
    )
    assert code == 0
    assert out.splitlines() == ["marital_status: match", "registration_office: no match"]

    # refusals: wrong purpose, a field outside the grant, a malformed claim
    code, _, err = run(
        stack,
        capsys,
        "consumer",
        "fetch",
        "--grant",
        grant,
        "--field",
        "marital_status",
        "--purpose",
        "商业营销",
        "--key",
        keys[0],
    )
    assert code == 3 and "PERMISSION_DENIED" in err and "purpose" in err
    code, _, err = run(
        stack,
        capsys,
        "consumer",
        "fetch",
        "--grant",
        grant,
        "--field",
        "registration_date",
        "--purpose",
        PURPOSE,
        "--key",
        keys[0],
    )
    assert code == 3 and "PERMISSION_DENIED" in err and "registration_date" in err
    code, _, err = run(
        stack,
        capsys,
        "consumer",
        "verify",
        "--grant",
        grant,
        "--key",
        keys[0],
        "--claim",
        "marital_status",
        "--purpose",
        PURPOSE,
    )
    assert code == 2 and "FIELD=VALUE" in err


def test_not_shared_request_is_refused_citing_the_basis(stack, capsys):
    code, out, _ = run(
        stack,
        capsys,
        "consumer",
        "request",
        "gat.case-records",
        "--field",
        "case_number",
        "--purpose",
        PURPOSE,
        "--scenario",
        SCENARIO,
        "--legal-basis",
        BASIS,
    )
    assert code == 1
    assert "refused" in out and "Art." in out


def test_refusing_without_a_reason_is_an_error(stack, capsys):
    code, out, _ = run(
        stack,
        capsys,
        "consumer",
        "request",
        "mzt.marriage",
        "--field",
        "marital_status",
        "--purpose",
        PURPOSE,
        "--scenario",
        SCENARIO,
        "--legal-basis",
        BASIS,
        "--json",
    )
    request_id = json.loads(out)["id"]
    code, _, err = run(stack, capsys, "provider", "decide", request_id, "--refuse", party=PROVIDER)
    assert code == 2 and "reason" in err
    code, out, _ = run(
        stack,
        capsys,
        "provider",
        "decide",
        request_id,
        "--refuse",
        "--reason",
        "用途超出登记目的",
        party=PROVIDER,
    )
    assert code == 0 and "refused" in out


def test_a_decision_and_a_grant_read_as_summaries_in_the_readers_language(stack, capsys):
    filed = [
        "consumer", "request", "mzt.marriage", "--field", "marital_status",
        "--method", "fetch,verify", "--purpose", PURPOSE, "--scenario", SCENARIO,
        "--legal-basis", BASIS, "--quota", "7",
    ]  # fmt: skip
    code, out, _ = run(stack, capsys, *filed, "--locale", "zh-CN")
    request_id = out.split()[1].split("：")[0]
    assert code == 0 and out.startswith(f"共享申请 {request_id}：待提供部门审核")
    assert "以 fetch, verify 方式使用 mzt.marriage v" in out and "日终前作出决定" in out

    code, out, _ = run(stack, capsys, "provider", "decide", request_id, "--approve", party=PROVIDER)
    first, *rest = out.splitlines()
    assert code == 0 and first.startswith(f"request {request_id}: approved [Art.")
    assert f"(decided by {PROVIDER})" in rest[0]
    assert any(line.strip().startswith(f"{CONSUMER} asks for mzt.marriage v") for line in rest)
    grant_id = next(line.split()[-1] for line in rest if line.strip().startswith("grant: "))
    assert "QUERY_METHOD" not in out and "decides by" not in out  # decided: no deadline left

    code, out, _ = run(stack, capsys, "consumer", "status", request_id)
    assert code == 0 and f"grant: {grant_id}" in out

    code, out, _ = run(stack, capsys, "consumer", "grant", grant_id)
    lines = [line.strip() for line in out.splitlines()]
    assert code == 0 and lines[0] == f"grant {grant_id}: active"
    assert f"{PROVIDER} → {CONSUMER}: mzt.marriage v" in lines[1]
    assert lines[1].endswith("by fetch, verify; fields: marital_status")
    assert lines[2] == f"purpose: {PURPOSE}" and lines[3].startswith("0 of 7 queries used;")
    assert f"share request: {request_id}" in lines and lines[-1].startswith("token: tdg1.")

    code, out, _ = run(stack, capsys, "consumer", "grant", grant_id, "--locale", "zh-CN")
    assert code == 0 and out.startswith(f"授权 {grant_id}：有效") and "已用 0 / 7 次查询" in out
    assert " UTC 到期" in out  # the expiry to the minute, not a raw timestamp

    # the consumer's own list: this request with its grant; filtered by state
    code, out, _ = run(stack, capsys, "consumer", "requests")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(request_id))
    assert code == 0 and "approved" in lines[at] and "fetch, verify" in lines[at]
    assert f"grant: {grant_id}" in lines[at + 2]
    code, out, _ = run(stack, capsys, "consumer", "requests", "--status", "refused")
    assert code == 0 and request_id not in out
    with pytest.raises(SystemExit) as usage:
        run(stack, capsys, "consumer", "requests", "--status", "nonsense")
    assert usage.value.code == 2 and "--status" in capsys.readouterr().err


def test_acting_as_nobody_is_an_error(stack, capsys):
    capsys.readouterr()
    code = main(
        ["consumer", "grant", "g", "--home", str(stack.home.root), "--broker", "x:1", "--as", ""]
    )
    assert code == 2 and "--as" in capsys.readouterr().err

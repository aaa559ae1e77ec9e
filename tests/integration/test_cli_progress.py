"""A long fetch from the shell shows its progress on stderr; ``--json`` output stays clean."""

from __future__ import annotations

import json

import pytest

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.cli import main


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("progress-stack"), records=30)
    yield s
    s.stop()


def test_fetch_of_many_keys_reports_progress_on_stderr_only(stack, capsys, tmp_path):
    with stack.consumer() as client:
        req = client.file_share_request(
            "mzt.marriage", ["marital_status"], ["fetch"], PURPOSE, SCENARIO, BASIS
        )
        if req.status == "pending_provider_review":
            with stack.consumer("hlj.mzt") as provider:
                req = provider.decide_share_request(req.id, True, "ok")
        assert req.status == "approved", req.decision.reason
        grant = req.grant_id
    keys = [stack.marriages[0]["id_number"]] + [f"2301021990{i:08d}" for i in range(1000)]
    keys_file = tmp_path / "keys.csv"
    keys_file.write_text("\n".join(keys) + "\n", encoding="utf-8")
    capsys.readouterr()
    argv = ["consumer", "fetch", "--grant", grant, "--field", "marital_status"]
    argv += ["--purpose", PURPOSE, "--keys-file", str(keys_file), "--json"]
    argv += ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", "hrb.rsj"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)  # nothing but the answer on stdout
    assert len(rows) == 1001 and rows[0]["found"]
    assert "fetch 1,001 keys 1,001/1,001 (100%)" in err
    assert "\r" not in err and "\x1b" not in err  # not a terminal: plain lines

"""What the CLI's short summaries say about share requests, departments and catalogue entries
(the words a reader gets instead of a field tree; ``--json`` keeps every field)."""

import pytest

from tongdao import i18n
from tongdao.commands._summaries import (
    classification_label,
    in_words,
    level_label,
    moment,
    print_catalogue_entry,
    print_department,
    print_share_request,
)
from tongdao.v1 import catalogue_pb2, common_pb2, directory_pb2, sharing_pb2


def _refused_at_filing() -> sharing_pb2.ShareRequest:
    return sharing_pb2.ShareRequest(
        id="r1",
        consumer="hlj.gat",
        entry_code="mzt.marriage",
        entry_version=1,
        fields=["marital_status"],
        status="refused",
        purpose="户籍核验",
        decision=common_pb2.Decision(
            outcome="refused",
            articles=["Art.22(2)"],
            reason="purpose not permitted",
            rule="sharing.conditional_purpose",
            department="hlj.gat",  # the consumer's own call was refused, by the rule file
        ),
    )


def test_a_request_refused_by_the_rules_as_filed_names_the_rule_not_the_consumer(capsys):
    print_share_request(_refused_at_filing())
    out = capsys.readouterr().out
    assert "purpose not permitted (rule sharing.conditional_purpose)" in out
    assert "decided by" not in out


def test_a_providers_refusal_names_who_decided(capsys):
    r = _refused_at_filing()
    r.decision.rule, r.decision.department, r.decision.person = "", "hlj.mzt", "wang.wu"
    print_share_request(r)
    assert "purpose not permitted (decided by wang.wu)" in capsys.readouterr().out


def test_a_department_reads_as_who_it_is_where_its_node_is_and_its_key_fingerprints(capsys):
    d = directory_pb2.Department(
        code="hlj.gat",
        name="黑龙江省公安厅",
        region="230000",
        level="province",
        node_endpoint="10.1.2.3:7501",
        signing_public_key=bytes(range(32)),
        encryption_public_key=bytes(32),
    )
    print_department(d)
    out = capsys.readouterr().out
    assert (
        "department hlj.gat is in the directory: 黑龙江省公安厅 · region 230000 · province" in out
    )
    assert "node: 10.1.2.3:7501" in out
    assert f"Ed25519 public key {bytes(range(32)).hex()}" in out
    d.node_endpoint = ""
    print_department(d)
    assert "node: none (it does not provide data)" in capsys.readouterr().out


def test_an_entry_reads_its_classification_and_reviewer_in_words(capsys):
    e = catalogue_pb2.CatalogueEntry(
        code="mzt.marriage", version=0, status="submitted", name="婚姻", provider="hlj.mzt",
        grade="important", reviewer="authority",
    )  # fmt: skip
    print_catalogue_entry(e)
    out = capsys.readouterr().out
    assert "important data" in out and "waiting for the review of the data authority" in out


@pytest.mark.parametrize(
    ("label", "value", "zh"),
    [
        (level_label, "province", "省级"),
        (level_label, "county", "县级"),
        (classification_label, "core", "核心数据"),
        (classification_label, "general", "一般数据"),
        (in_words, "out_of_scope", "超出授权范围"),
        (in_words, "not_rectified", "未按期整改"),
        (in_words, "auditor", "安全审计员"),
    ],
)
def test_labels_are_in_the_readers_language(label, value, zh):
    i18n.choose(["--locale", "zh-CN"])
    try:
        assert label(value) == zh
    finally:
        i18n.forget()
    assert label("unheard-of") == "unheard-of"  # a value from a newer broker stays readable


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("2027-12-03T18:21:57.276657", "2027-12-03 18:21 UTC"),  # no zone: UTC
        ("2027-12-04T02:21:57+08:00", "2027-12-03 18:21 UTC"),
        ("", "-"),
        ("soon", "soon"),  # not a time: as sent
    ],
)
def test_times_read_to_the_minute_in_utc(sent, shown):
    assert moment(sent) == shown

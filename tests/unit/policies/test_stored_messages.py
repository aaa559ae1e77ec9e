"""A message stored with its template is shown later in each reader's language; an older row
(no template) or a template that no longer renders shows the English it was stored with."""

import json

from tongdao.policies.i18n import msg, render_stored, template_of

SAID = "{n} call(s) refused for asking beyond the grant"


def test_a_stored_message_renders_in_each_locale_after_a_json_round_trip():
    text = msg(SAID, n=3)
    stored = json.loads(json.dumps(template_of(text)))
    assert render_stored(stored, str(text), "en") == "3 call(s) refused for asking beyond the grant"
    assert render_stored(stored, str(text), "zh-CN") == "3 次调用因超出授权范围被拒绝"


def test_plain_text_has_no_template_and_a_broken_one_falls_back_to_the_english():
    assert template_of("plain words") is None
    assert render_stored(None, "plain words", "zh-CN") == "plain words"
    assert render_stored({"msgid": SAID, "params": {}}, "kept", "zh-CN") == "kept"  # {n} missing
    assert render_stored({"params": {}}, "kept", "en") == "kept"

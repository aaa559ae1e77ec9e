"""Without a browser the console's browser tests fail in CI and are skipped, saying why,
elsewhere."""

from __future__ import annotations

import pytest

from tests.e2e import console_stack


def test_a_missing_browser_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(console_stack, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="browser tests need a browser in CI"):
        console_stack.browser_path()


def test_a_missing_browser_skips_with_the_reason_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(console_stack, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no chromium at .*apt-get install chromium"):
        console_stack.browser_path()

"""Opt-out and opt-in words."""

from __future__ import annotations

from horizon.worker.keywords import Keywords


def test_opt_out_words_match_whole_messages_only():
    keywords = Keywords()
    assert keywords.match(" baja ") == ("opt_out", "BAJA")
    assert keywords.match("STOP!") == ("opt_out", "STOP")
    assert keywords.match("Alta") == ("opt_in", "ALTA")
    assert keywords.match("no pares, stop") is None

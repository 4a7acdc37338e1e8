"""Log lines: one JSON object per event, phone numbers masked wherever they appear."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

from horizon.telemetry.logs import JsonLineFormatter, log_event

SID = "SM0123456789abcdef0123456789abcdef"


def logged(caplog, event: str, **fields: object) -> dict:
    with caplog.at_level(logging.INFO, logger="horizon"):
        log_event(event, **fields)
    return json.loads(JsonLineFormatter().format(caplog.records[-1]))


def test_phone_numbers_in_any_text_field_keep_only_their_last_4_digits(caplog):
    line = logged(
        caplog,
        "send_failed",
        sid=SID,
        error="twilio 400 (21211): Invalid 'To' Phone Number: whatsapp:+34600123456",
        detail="from +14155550100 to +34600123456, retry",
    )
    assert line["error"] == "twilio 400 (21211): Invalid 'To' Phone Number: whatsapp:+*******3456"
    assert line["detail"] == "from +*******0100 to +*******3456, retry"
    assert "34600123456" not in json.dumps(line)


def test_sids_ids_and_other_digit_runs_are_not_mangled(caplog):
    texts = {
        "sid": SID,
        "error": "response resp_000123456789 in conv_12345678901234567890 took 1234567 ms",
        "turn": "MM12345678901234567890123456789012",
        "amount": "+1234567890123456789 is no phone number (19 digits)",
    }
    line = logged(caplog, "turn_done", **texts, parts=12345678)
    assert {name: line[name] for name in texts} == texts
    assert line["parts"] == 12345678


def test_number_fields_are_masked_even_without_a_plus(caplog):
    line = logged(caplog, "inbound_stored", user="whatsapp:+34600123456", to="34910000101")
    assert (line["user"], line["to"]) == ("whatsapp:+*******3456", "*******0101")


def test_the_readme_lists_every_event_the_code_logs():
    root = Path(__file__).parents[2]
    events = set()
    for path in (root / "horizon").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "log_event"
                and isinstance(node.args[0], ast.Constant)
            ):
                events.add(node.args[0].value)
    readme = (root / "README.md").read_text(encoding="utf-8")

    assert len(events) > 15
    assert sorted(event for event in events if f"`{event}`" not in readme) == []

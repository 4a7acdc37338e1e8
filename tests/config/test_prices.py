"""The price table: families, snapshots, unknown models, and a user's override file."""

from __future__ import annotations

from pathlib import Path

import pytest

from horizon.config.prices import DEFAULT_PRICES, PriceFileError, load_prices
from horizon.store.records import Usage
from horizon.worker.limits import estimated_cost

DATA = Path(__file__).parent.parent / "data" / "prices"


def test_a_dated_snapshot_is_priced_as_its_family():
    assert DEFAULT_PRICES.model("gpt-5.4-mini-2026-03-17") == DEFAULT_PRICES.model("gpt-5.4-mini")
    assert DEFAULT_PRICES.tokens("gpt-5.4-mini", 1_000_000, 1_000_000) == pytest.approx(0.75 + 4.5)


def test_an_unknown_model_is_priced_as_the_dearest_standard_family():
    unknown = DEFAULT_PRICES.model("mystery")
    standard = [p for name, p in DEFAULT_PRICES.openai.items() if not name.endswith("-pro")]
    assert unknown.output >= max(price.output for price in standard)
    assert DEFAULT_PRICES.model(None) == unknown


def test_whatsapp_messages_cost_twilios_fee_and_no_meta_fee_inside_the_service_window():
    assert DEFAULT_PRICES.messages("whatsapp", 3, 2) == pytest.approx(5 * 0.005)
    assert DEFAULT_PRICES.messages("sms", 1, 1) == pytest.approx(2 * 0.0083)


def test_an_override_file_replaces_only_the_prices_it_gives_and_names_the_table():
    prices = load_prices(str(DATA / "override.yaml"))
    assert prices.name == "Agency prices of 2026-12-01"
    assert prices.tokens("gpt-5.4-mini", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert prices.model("gpt-5.4") == DEFAULT_PRICES.model("gpt-5.4")
    assert prices.messages("whatsapp", 10, 1) == pytest.approx(0.01)
    # The budget guard prices with the same table.
    assert estimated_cost([Usage("gpt-5.4-mini", 1_000_000, 0)], prices) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not-a-number.json", "not-a-number.json: openai.gpt-5.4-mini.input: Input should be"),
        ("unknown-field.yaml", "unknown-field.yaml: openai.gpt-5.4-mini.cached: Extra inputs"),
        ("broken.yaml", "broken.yaml: cannot read the price file: "),
        ("missing.yaml", "missing.yaml: cannot read the price file: No such file"),
    ],
)
def test_a_bad_price_file_is_one_line_naming_file_and_field(name, message):
    with pytest.raises(PriceFileError) as raised:
        load_prices(str(DATA / name))
    assert message in str(raised.value) and "\n" not in str(raised.value)

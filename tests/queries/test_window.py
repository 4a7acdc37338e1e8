from datetime import UTC, datetime

import pytest

from horizon.queries.window import Window, WindowError, month_bounds, month_of, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("30d", 2592000), ("2w", 1209600)],
)
def test_durations_read_as_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "30y", "-1h", "0h", "1 h x"])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(WindowError, match="duration"):
        parse_duration(text)


def test_december_ends_at_the_next_new_year():
    start, end = month_bounds("2026-12")
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    assert datetime.fromtimestamp(end, UTC) == datetime(2027, 1, 1, tzinfo=UTC)
    assert month_of(end - 1) == "2026-12" and month_of(end) == "2027-01"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "November"])
def test_bad_months_say_the_format(text):
    with pytest.raises(WindowError, match="YYYY-MM"):
        Window.month(text)


def test_since_ends_now():
    window = Window.since("1h", now=10_000.0)
    assert (window.start, window.end, window.label) == (6400.0, 10_000.0, "last 1h")

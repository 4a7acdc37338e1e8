"""Settings: read from the environment, and a bad or missing one is one line naming it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from horizon.cli import main
from horizon.settings import InvalidSetting, MissingSetting, Settings


def test_urls_are_checked_and_normalised() -> None:
    settings = Settings(_env_file=None, HORIZON_PUBLIC_URL="https://bots.example.com/")

    assert settings.public_url == "https://bots.example.com"


@pytest.mark.parametrize("url", ["not-a-url", "ftp://bots.example.com", "https://x.com/?a=1"])
def test_a_malformed_url_names_its_variable(url: str) -> None:
    with pytest.raises(InvalidSetting, match=r"^HORIZON_PUBLIC_URL: .* URL|must not have"):
        Settings(_env_file=None, HORIZON_PUBLIC_URL=url)


def test_require_names_the_missing_variable() -> None:
    settings = Settings(_env_file=None, OPENAI_API_KEY=None)

    with pytest.raises(MissingSetting, match="^OPENAI_API_KEY is not set; it is needed to talk"):
        settings.require("openai_api_key", "to talk to OpenAI")


def test_any_command_reports_a_bad_setting_in_one_line() -> None:
    runner = CliRunner(env={"HORIZON_PUBLIC_URL": "bots.example.com"})

    result = runner.invoke(main, ["serve", "--port", "0"])

    assert result.exit_code == 1
    assert result.output == (
        "Error: HORIZON_PUBLIC_URL: 'bots.example.com' is not an absolute http(s) URL\n"
    )


def test_serve_refuses_to_guess_its_public_url() -> None:
    result = CliRunner(env={"HORIZON_PUBLIC_URL": None}).invoke(main, ["serve", "--port", "0"])

    assert result.exit_code == 1
    assert "HORIZON_PUBLIC_URL is not set" in result.output

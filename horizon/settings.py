"""Process settings, read from the environment or a `.env` file in the working directory."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# How long a reply Twilio would not take keeps being tried, from its turn's start, before
# the user gets the fallback message instead. WhatsApp refuses free-form replies 24 hours
# after the user's last message (Twilio error 63016), so the deadline stays within that.
DEFAULT_REPLY_DEADLINE = 4 * 3600.0
MAX_REPLY_DEADLINE = 24 * 3600.0
_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")


class SettingError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class MissingSetting(SettingError):
    """A setting a command needs is not set."""

    def __init__(self, variable: str, purpose: str) -> None:
        self.variable = variable
        super().__init__(f"{variable} is not set; it is needed {purpose}")


class InvalidSetting(SettingError):
    """A setting is set to something unusable."""

    def __init__(self, variable: str, message: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {message}")


class Settings(BaseSettings):
    """Every setting of DESIGN.md's table; credentials stay optional until used."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    twilio_account_sid: str | None = Field(default=None, validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(
        default=None, validation_alias="TWILIO_AUTH_TOKEN", repr=False
    )
    # A Twilio API key (SK…) and its secret: REST calls use them instead of the auth token,
    # which then stays only where webhook signatures are checked.
    twilio_api_key: str | None = Field(default=None, validation_alias="TWILIO_API_KEY")
    twilio_api_secret: str | None = Field(
        default=None, validation_alias="TWILIO_API_SECRET", repr=False
    )
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY", repr=False)
    public_url: str | None = Field(default=None, validation_alias="HORIZON_PUBLIC_URL")
    clients_dir: str = Field(default="clients", validation_alias="HORIZON_CLIENTS_DIR")
    database_url: str = Field(
        default="sqlite:///horizon.db", validation_alias="HORIZON_DATABASE_URL"
    )
    twilio_api_base: str | None = Field(default=None, validation_alias="TWILIO_API_BASE")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    admin_token: str | None = Field(
        default=None, validation_alias="HORIZON_ADMIN_TOKEN", repr=False
    )
    # `horizon serve`'s connection limits (README: "Connection limits").
    max_connections: int = Field(default=2048, ge=1, validation_alias="HORIZON_MAX_CONNECTIONS")
    request_timeout: float = Field(default=10.0, gt=0, validation_alias="HORIZON_REQUEST_TIMEOUT")
    keep_alive_timeout: float = Field(
        default=5.0, gt=0, validation_alias="HORIZON_KEEP_ALIVE_TIMEOUT"
    )
    # A YAML or JSON file of prices in place of the built-in table (horizon/config/prices.py).
    prices_file: str | None = Field(default=None, validation_alias="HORIZON_PRICES_FILE")
    reply_deadline: float = Field(
        default=DEFAULT_REPLY_DEADLINE, validation_alias="HORIZON_REPLY_DEADLINE"
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            first = error.errors()[0]
            variable = ".".join(str(part) for part in first["loc"]) or "settings"
            raise InvalidSetting(variable, first["msg"].removeprefix("Value error, ")) from None

    @field_validator("public_url", "twilio_api_base", "openai_base_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} must not have a query or fragment")
        return value.rstrip("/")

    @field_validator("reply_deadline", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        """Seconds, from a number of seconds or a number with a unit: '90s', '30m', '4h'."""
        text = str(value).strip().lower()
        scale = _DURATION_UNITS.get(text[-1:])
        number = text[:-1] if scale else text
        try:
            seconds = float(number) * (scale or 1.0)
        except ValueError:
            raise ValueError(f"{value!r} is not a duration: seconds, or e.g. '30m', '4h'") from None
        if not 0 < seconds <= MAX_REPLY_DEADLINE:
            raise ValueError(
                f"{value!r} must be more than 0 and at most 24h: WhatsApp refuses "
                "free-form replies 24 hours after the user's last message"
            )
        return seconds

    @field_validator("twilio_api_key")
    @classmethod
    def _api_key_sid(cls, value: str | None) -> str | None:
        if not value:
            return None
        # The value is not echoed: a secret pasted into the wrong variable must not reach a log.
        if not _API_KEY_SID.fullmatch(value):
            raise ValueError("must be an API key SID: SK followed by 32 hexadecimal digits")
        return value

    def require(self, attribute: str, purpose: str) -> str:
        """Return a setting's value, or raise MissingSetting naming its variable."""
        value = getattr(self, attribute)
        if not value:
            field = type(self).model_fields[attribute]
            raise MissingSetting(str(field.validation_alias), purpose)
        return value

"""The price table every cost figure is estimated from: OpenAI tokens, Twilio and Meta messages.

`horizon stats`, `horizon clients`, `horizon usage` and the worker's monthly budget guard
all price with the same table, so a client's budget use reads the same everywhere. Each
figure names the table it used (`PriceTable.name`). A user replaces any of its prices with
a YAML or JSON file named by `HORIZON_PRICES_FILE` (README: "Prices"):

    name: "Agency prices of 2026-12-01"   # optional; cited under every figure
    openai:                               # USD per 1M tokens, by model family
      gpt-5.4-mini: {input: 0.75, output: 4.5}
    twilio:                               # USD per message, by channel
      whatsapp: {inbound: 0.005, outbound: 0.005}
    meta:
      service_message: 0

Every figure is an estimate: the vendors bill cached input, carrier surcharges, segments
and volume discounts that the store does not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from horizon.config.models import family_name

BUILT_IN_NAME = "Horizon prices of 2026-11-25"


@dataclass(frozen=True)
class TokenPrice:
    """USD per million input and output tokens (reasoning tokens bill as output)."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1e6


@dataclass(frozen=True)
class MessagePrice:
    """USD per message received from and sent to a user."""

    inbound: float
    outbound: float

    def cost(self, inbound: int, outbound: int) -> float:
        return inbound * self.inbound + outbound * self.outbound


# OpenAI's standard tier, USD per 1M tokens, by family (a dated snapshot such as
# gpt-5.4-mini-2026-03-17 is priced as its family). The pricing page itself
# (https://developers.openai.com/api/docs/pricing) could not be fetched from here; the
# figures are as pages quoting it give them:
# - [A] api-evangelist "OpenAI API Pricing: What Every Model Costs" (2026-11-06, page read
#   2026-11-05) and morphllm.com/openai-api-pricing (2026-06): gpt-5.5, gpt-5.4 family.
# - [B] deploybase.ai/articles/openai-pricing (2026-03): gpt-5, gpt-5.1, gpt-4.1, gpt-4o, o3.
# - [C] an OpenAI price table in SciCode/dataset-builder (show_pricing.py): gpt-5.2 (-pro).
# - [D] not confirmed by a second source: o3-pro and o1-pro, as OpenAI launched them.
OPENAI_PRICES: dict[str, TokenPrice] = {
    "gpt-5.5": TokenPrice(5.00, 30.00),  # [A]
    "gpt-5.5-pro": TokenPrice(30.00, 180.00),  # [A]
    "gpt-5.4": TokenPrice(2.50, 15.00),  # [A]
    "gpt-5.4-mini": TokenPrice(0.75, 4.50),  # [A]
    "gpt-5.4-nano": TokenPrice(0.20, 1.25),  # [A]
    "gpt-5.4-pro": TokenPrice(30.00, 180.00),  # [A]
    "gpt-5.2": TokenPrice(1.75, 14.00),  # [C]
    "gpt-5.2-pro": TokenPrice(21.00, 168.00),  # [C]
    "gpt-5.1": TokenPrice(1.25, 10.00),  # [B]
    "gpt-5.1-codex-max": TokenPrice(1.25, 10.00),  # [B] as gpt-5.1
    "gpt-5": TokenPrice(1.25, 10.00),  # [B]
    "gpt-5-codex": TokenPrice(1.25, 10.00),  # [B]
    "gpt-5-mini": TokenPrice(0.25, 2.00),  # [B]
    "gpt-5-nano": TokenPrice(0.05, 0.40),  # [B]
    "gpt-5-pro": TokenPrice(15.00, 120.00),  # [B]
    "gpt-4.1": TokenPrice(2.00, 8.00),  # [B]
    "gpt-4.1-mini": TokenPrice(0.40, 1.60),  # [B]
    "gpt-4o": TokenPrice(2.50, 10.00),  # [B]
    "gpt-4o-mini": TokenPrice(0.15, 0.60),  # [B]
    "o3": TokenPrice(2.00, 8.00),  # [B]
    "o3-pro": TokenPrice(20.00, 80.00),  # [D]
    "o1-pro": TokenPrice(150.00, 600.00),  # [D]
}
# A model missing from the table is priced as the dearest standard (non-pro) family, so
# the budget guard errs towards stopping early rather than overspending.
UNKNOWN_MODEL = TokenPrice(5.00, 30.00)

# Twilio's own fee per message, on top of Meta's. WhatsApp: "$0.005, inbound or outbound"
# (https://www.twilio.com/whatsapp/pricing, read 2026-11-25). SMS: US long code, $0.0083
# per segment both ways (twilio.com/en-us/sms/pricing/us as quoted by dev.to/preecha,
# 2026, and budgetforge.dev, 2026-07); other countries cost more, carrier fees are extra,
# and the store counts messages, not segments.
TWILIO_PRICES: dict[str, MessagePrice] = {
    "whatsapp": MessagePrice(0.005, 0.005),
    "sms": MessagePrice(0.0083, 0.0083),
}

# Meta's WhatsApp fee. Since 2025-07-01 Meta charges per template message, not per
# 24-hour conversation; free-form messages inside the customer service window (24 h
# after the user's last message) are free (https://www.twilio.com/whatsapp/pricing;
# help.twilio.com "How Much Does it Cost to Send and Receive WhatsApp Messages").
# Horizon sends only free-form replies within that window (it gives up on a reply after
# HORIZON_REPLY_DEADLINE, at most 24 h), so its Meta fee per message, and so per
# conversation, is 0; a user who sends templates elsewhere sets their own price here.
META_SERVICE_MESSAGE = 0.0


class PriceFileError(ValueError):
    """A price file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class PriceTable:
    """Prices by OpenAI model family and by channel, with the name every figure cites."""

    name: str = BUILT_IN_NAME
    openai: MappingProxyType = field(default_factory=lambda: MappingProxyType(OPENAI_PRICES))
    unknown_model: TokenPrice = UNKNOWN_MODEL
    twilio: MappingProxyType = field(default_factory=lambda: MappingProxyType(TWILIO_PRICES))
    meta_service_message: float = META_SERVICE_MESSAGE

    def model(self, model: str | None) -> TokenPrice:
        """The price of `model`'s tokens: its own, its family's, or the unknown price."""
        if not model:
            return self.unknown_model
        return self.openai.get(model) or self.openai.get(family_name(model)) or self.unknown_model

    def tokens(self, model: str | None, input_tokens: int, output_tokens: int) -> float:
        return self.model(model).cost(input_tokens, output_tokens)

    def messages(self, channel: str, inbound: int, outbound: int) -> float:
        """Twilio's and Meta's fees for messages on `channel` (unknown: priced as SMS)."""
        twilio = self.twilio.get(channel) or self.twilio["sms"]
        meta = outbound * self.meta_service_message if channel == "whatsapp" else 0.0
        return twilio.cost(inbound, outbound) + meta

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "openai_usd_per_1m_tokens": {
                name: {"input": p.input, "output": p.output} for name, p in self.openai.items()
            },
            "unknown_model": {
                "input": self.unknown_model.input,
                "output": self.unknown_model.output,
            },
            "twilio_usd_per_message": {
                name: {"inbound": p.inbound, "outbound": p.outbound}
                for name, p in self.twilio.items()
            },
            "meta_usd_per_service_message": self.meta_service_message,
        }


DEFAULT_PRICES = PriceTable()


class _Tokens(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)


class _Messages(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inbound: float = Field(ge=0)
    outbound: float = Field(ge=0)


class _Meta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_message: float = Field(ge=0)


class _PriceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    openai: dict[str, _Tokens] = {}
    unknown_model: _Tokens | None = None
    twilio: dict[str, _Messages] = {}
    meta: _Meta | None = None


def load_prices(path: str | None) -> PriceTable:
    """The built-in table, with the prices the file at `path` gives in place of its own."""
    if not path:
        return DEFAULT_PRICES
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))  # JSON is YAML
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = getattr(error, "strerror", None) or str(error).splitlines()[0]
        raise PriceFileError(f"{path}: cannot read the price file: {reason}") from None
    try:
        parsed = _PriceFile.model_validate(data if data is not None else {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise PriceFileError(f"{path}: {where}: {first['msg']}") from None
    return _merged(parsed, path)


def _merged(parsed: _PriceFile, path: str) -> PriceTable:
    table = DEFAULT_PRICES
    openai = {**table.openai} | {k: TokenPrice(v.input, v.output) for k, v in parsed.openai.items()}
    twilio = {**table.twilio} | {
        k: MessagePrice(v.inbound, v.outbound) for k, v in parsed.twilio.items()
    }
    unknown = parsed.unknown_model
    return replace(
        table,
        name=parsed.name or f"{table.name}, with {Path(path).name}",
        openai=MappingProxyType(openai),
        twilio=MappingProxyType(twilio),
        unknown_model=TokenPrice(unknown.input, unknown.output) if unknown else table.unknown_model,
        meta_service_message=parsed.meta.service_message if parsed.meta else META_SERVICE_MESSAGE,
    )

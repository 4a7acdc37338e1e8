"""The client file format: strict, frozen pydantic models that `schema.json` is generated from."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from horizon.config.knowledge import knowledge_file
from horizon.config.models import Effort

CLIENT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$"
CLIENT_ID_RE = re.compile(CLIENT_ID_PATTERN)
DEFAULT_MODEL = "gpt-5.4-mini"

# Twilio's Messaging v2 sender profile accepts exactly these verticals.
VERTICALS = (
    "Alcohol",
    "Automotive",
    "Beauty, Spa and Salon",
    "Clothing and Apparel",
    "Education",
    "Entertainment",
    "Event Planning and Service",
    "Finance and Banking",
    "Food and Grocery",
    "Hotel and Lodging",
    "Matrimony Service",
    "Medical and Health",
    "Non-profit",
    "Online Gambling",
    "OTC Drugs",
    "Other",
    "Physical Gambling",
    "Professional Services",
    "Public Service",
    "Restaurant",
    "Shopping and Retail",
    "Travel and Transportation",
)
Vertical = Literal[VERTICALS]  # type: ignore[valid-type]

# Files OpenAI's file_search can index.
KNOWLEDGE_SUFFIXES = frozenset(
    {".c", ".cpp", ".cs", ".css", ".doc", ".docx", ".go", ".html", ".java", ".js", ".json"}
    | {".md", ".pdf", ".php", ".pptx", ".py", ".rb", ".sh", ".tex", ".ts", ".txt"}
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_E164_RE = re.compile(E164_PATTERN)


def _e164(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            f"{value!r} is not in E.164 form: '+', the country code and the number, "
            "no spaces (e.g. '+34910000101')"
        ) from None
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not _E164_RE.match(value) or canonical != value:
        raise ValueError(f"{value!r} is not in E.164 form; write {canonical!r}")
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number for its country code")
    return value


def _email(value: str) -> str:
    if not _EMAIL_RE.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _url(value: str) -> str:
    if not _URL_RE.match(value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


MAX_ATTRIBUTE_CHARS = 512


def _knowledge_file(name: str, info: ValidationInfo) -> str:
    """A knowledge file must be indexable, and a plain file of the repository git tracks.

    The validation context carries `base_dir` (the client file's folder), `repo_root` (an
    already resolved path) and `checkout` (what git tracks there); without the first two
    only the file type and length are checked (see `horizon.config.knowledge`).
    """
    # Reconcile keeps the path as it is written here in the file's OpenAI attributes, whose
    # string values hold at most 512 characters (VectorStoreFileAttributes, OpenAI's spec).
    if len(name) > MAX_ATTRIBUTE_CHARS:
        raise ValueError(
            f"{name[:40]!r}… is {len(name)} characters long; OpenAI keeps at most "
            f"{MAX_ATTRIBUTE_CHARS} in the file attribute that holds a knowledge file's path"
        )
    if os.path.splitext(name)[1].lower() not in KNOWLEDGE_SUFFIXES:
        raise ValueError(f"{name!r}: file_search cannot index this file type")
    context = info.context or {}
    base, root = context.get("base_dir"), context.get("repo_root")
    if base is not None and root is not None:
        knowledge_file(name, base, root, context.get("checkout"))
    return name


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# A text a user receives as one WhatsApp message (1,600 characters at most).
Message = Annotated[Text, Field(max_length=1600)]

# The notices' defaults are in both of the example clients' languages; a client sets its own.
HOURLY_LIMIT_MESSAGE = (
    "Has enviado muchos mensajes; por favor, espera un poco y vuelve a escribir. / "
    "You have sent a lot of messages; please wait a while and write again."
)
MONTHLY_BUDGET_MESSAGE = (
    "Este número ha alcanzado su límite de respuestas de este mes; vuelve a escribir más "
    "adelante. / This number has reached its limit of answers for this month; please write "
    "again later."
)
KnowledgeFile = Annotated[Text, AfterValidator(_knowledge_file)]
# The pattern is for editors (schema.json); _e164 gives the errors, with a suggestion.
E164 = Annotated[str, Field(json_schema_extra={"pattern": E164_PATTERN}), AfterValidator(_e164)]
Email = Annotated[str, Field(max_length=128), AfterValidator(_email)]
Url = Annotated[str, Field(max_length=256), AfterValidator(_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Assistant(_Strict):
    """How the client's assistant answers: sent with every OpenAI Responses call."""

    model: Text = Field(
        default=DEFAULT_MODEL,
        description="OpenAI model that answers this client's users.",
        examples=[DEFAULT_MODEL],
    )
    instructions: Annotated[Text, Field(max_length=32_000)] = Field(
        description="System instructions; the first line is a good place for the persona.",
        examples=["You are the assistant of Pizzería Roma. Answer briefly and kindly."],
    )
    reasoning_effort: Effort | None = Field(
        default=None,
        description="How much a reasoning model thinks before it answers: none, minimal, low, "
        "medium or high, as the model accepts (see the model table). Unset: the model's default.",
    )
    temperature: float | None = Field(
        default=None,
        ge=0,
        le=2,
        description="Sampling temperature, 0 to 2; only on models that accept it "
        "(gpt-5.1 and later only with reasoning_effort none).",
    )
    max_output_tokens: int | None = Field(
        default=None,
        ge=16,
        le=128_000,
        description="Upper bound on each reply's tokens, reasoning tokens included.",
    )
    knowledge: tuple[KnowledgeFile, ...] = Field(
        default=(),
        strict=False,  # YAML gives lists; items stay strictly strings
        description="Files the assistant can search, relative to the client file; "
        "uploaded to an OpenAI vector store.",
        examples=[["pizzeria-roma/menu.md"]],
    )
    fallback_message: Message = Field(
        default="Sorry, I can't answer right now. Please try again in a few minutes.",
        description="Sent when the assistant cannot answer after retries, or when its reply "
        "could not be delivered before HORIZON_REPLY_DEADLINE.",
    )
    paused_message: Message = Field(
        default="This number is not answering messages at the moment.",
        description="Sent instead of an answer while `enabled` is false.",
    )
    hourly_limit_message: Message = Field(
        default=HOURLY_LIMIT_MESSAGE,
        description="Sent (at most once an hour) instead of an answer to a user who writes "
        "more than limits.user_messages_per_hour.",
    )
    monthly_budget_message: Message = Field(
        default=MONTHLY_BUDGET_MESSAGE,
        description="Sent (at most once an hour to each user) instead of an answer while the "
        "month's estimated spend is over limits.monthly_budget_usd.",
    )
    opt_out_message: Message | None = Field(
        default=None,
        description="Confirms an opt-out (STOP or BAJA). Unset: STOP is confirmed in English, "
        "BAJA in Spanish.",
        examples=["No recibirás más mensajes de este número. Envía ALTA para volver."],
    )
    opt_in_message: Message | None = Field(
        default=None,
        description="Confirms an opt-in (START or ALTA). Unset: START is confirmed in "
        "English, ALTA in Spanish.",
        examples=["¡Hola de nuevo! Volverás a recibir respuestas."],
    )
    memory_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Start a fresh conversation after this many days of silence.",
    )

    @field_validator("knowledge")
    @classmethod
    def _knowledge_listed_once(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return names


class Profile(_Strict):
    """The WhatsApp business profile shown to users (Twilio sender profile)."""

    about: Annotated[str, Field(max_length=139)] | None = Field(
        default=None, description="Short status line, at most 139 characters."
    )
    description: Annotated[str, Field(max_length=512)] | None = Field(
        default=None, description="Longer description of the business."
    )
    address: Annotated[str, Field(max_length=256)] | None = Field(
        default=None, description="Street address."
    )
    emails: tuple[Email, ...] = Field(
        default=(), strict=False, max_length=2, description="Contact emails."
    )
    websites: tuple[Url, ...] = Field(
        default=(), strict=False, max_length=2, description="Up to two http(s) websites."
    )
    vertical: Vertical | None = Field(
        default=None, description="Business category, as WhatsApp lists them."
    )


class Limits(_Strict):
    """Guards against abuse and runaway spend."""

    user_messages_per_hour: int = Field(
        default=30, ge=1, le=10_000, description="Messages one user may send per hour."
    )
    monthly_budget_usd: float = Field(
        default=50, ge=0, le=1_000_000, description="Estimated OpenAI spend cap per month."
    )


MetadataKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class ClientSpec(_Strict):
    """One client: the content of `clients/<id>.yaml` (the id is the file name)."""

    model_config = ConfigDict(
        title="Horizon client",
        json_schema_extra={
            "description": "One business served by Horizon. The file name (without .yaml) "
            "is the client id: lowercase letters, digits and '-', 3-48 characters."
        },
    )

    name: Annotated[Text, Field(max_length=100)] = Field(
        description="Business name, shown in plans and logs.", examples=["Pizzería Roma"]
    )
    number: E164 = Field(
        description="WhatsApp sender number in E.164 form; unique across clients.",
        examples=["+34910000101"],
    )
    channel: Literal["whatsapp", "sms"] = Field(
        default="whatsapp",
        description="whatsapp: a Twilio WhatsApp sender; sms: a Twilio phone number.",
    )
    enabled: bool = Field(
        default=True, description="false keeps resources but answers with paused_message."
    )
    assistant: Assistant
    profile: Profile = Field(default_factory=Profile)
    limits: Limits = Field(default_factory=Limits)
    metadata: dict[MetadataKey, Annotated[str, Field(max_length=512)]] = Field(
        default_factory=dict,
        description="Free-form strings for the agency (owner, plan, contact…).",
        examples=[{"owner": "ana@agency.example", "plan": "basic"}],
    )


class Client(ClientSpec):
    """A validated client with its id and the file it came from."""

    id: str
    path: Path

    @classmethod
    def from_spec(cls, spec: ClientSpec, client_id: str, path: Path) -> Client:
        fields = {name: getattr(spec, name) for name in ClientSpec.model_fields}
        return cls.model_construct(id=client_id, path=path, **fields)

    def knowledge_paths(self) -> list[Path]:
        """The knowledge files as paths on disk (`..` folded: validation refused links)."""
        return [
            Path(os.path.normpath(self.path.parent / name)) for name in self.assistant.knowledge
        ]

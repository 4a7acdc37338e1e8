"""Scaffold a new client file that validates and shows the format's comments."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from horizon.config.client import CLIENT_ID_RE, DEFAULT_MODEL
from horizon.config.loader import CLIENT_SUFFIXES, load_client, load_fleet


@dataclass(frozen=True)
class NewClient:
    client_id: str
    name: str
    number: str
    instructions: str
    model: str = DEFAULT_MODEL


class ScaffoldError(Exception):
    """The new client cannot be written; the message says why."""


def render_client_file(new: NewClient) -> str:
    """The YAML text of a new client file, with the `$schema` comment for editors."""
    instructions = "\n".join(f"    {line}".rstrip() for line in new.instructions.splitlines())
    return (
        "# yaml-language-server: $schema=../schema.json\n"
        f"name: {json.dumps(new.name, ensure_ascii=False)}\n"
        f'number: "{new.number}"        # E.164; the WhatsApp sender, unique across clients\n'
        "channel: whatsapp\n"
        "enabled: true\n"
        "assistant:\n"
        f"  model: {new.model}\n"
        "  instructions: |\n"
        f"{instructions}\n"
        "  memory_days: 7\n"
        "limits:\n"
        "  user_messages_per_hour: 30\n"
        "  monthly_budget_usd: 50\n"
        "metadata: {}\n"
    )


def create_client_file(clients_dir: Path, new: NewClient) -> Path:
    """Validate and write `clients/<id>.yaml`; raise ScaffoldError and write nothing if
    the id is taken or malformed, the number is in use, or the result does not validate."""
    if not CLIENT_ID_RE.match(new.client_id):
        raise ScaffoldError(
            f"client id {new.client_id!r} must be 3-48 lowercase letters, digits or '-'"
        )
    for suffix in CLIENT_SUFFIXES:
        existing = clients_dir / f"{new.client_id}{suffix}"
        if existing.exists():
            raise ScaffoldError(f"{existing} already exists; edit it instead")
    owner = load_fleet(clients_dir).fleet.route(new.number)
    if owner is not None:
        raise ScaffoldError(f"{new.number} is already the number of {owner.path}")
    target = clients_dir / f"{new.client_id}.yaml"
    text = render_client_file(new)
    _check(text, target)
    target.write_text(text, encoding="utf-8")
    return target


def _check(text: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        draft = Path(scratch) / target.name
        draft.write_text(text, encoding="utf-8")
        result = load_client(draft, Path(scratch))
    if result.errors:
        raise ScaffoldError("; ".join(f"{error.path}: {error.message}" for error in result.errors))

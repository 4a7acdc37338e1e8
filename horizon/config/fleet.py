"""The Fleet: every valid client, immutable, indexed by id and by number."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from horizon.config.client import Client


@dataclass(frozen=True)
class Fleet:
    """Clients sorted by id; built once, replaced whole on reload, never mutated."""

    clients: tuple[Client, ...] = ()
    by_id: Mapping[str, Client] = field(init=False, repr=False)
    by_number: Mapping[str, Client] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.clients, key=lambda client: client.id))
        object.__setattr__(self, "clients", ordered)
        object.__setattr__(self, "by_id", MappingProxyType({c.id: c for c in ordered}))
        object.__setattr__(self, "by_number", MappingProxyType({c.number: c for c in ordered}))

    def __iter__(self) -> Iterator[Client]:
        return iter(self.clients)

    def __len__(self) -> int:
        return len(self.clients)

    def route(self, number: str) -> Client | None:
        """The client answering on `number` (E.164, with or without `whatsapp:`)."""
        return self.by_number.get(number.removeprefix("whatsapp:"))

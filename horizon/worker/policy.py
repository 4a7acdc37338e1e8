"""The worker's rules that need no vendor: opt-out words, usage limits, cost estimates."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field

from horizon.store.records import Usage, WorkItem

HOUR = 3600.0

# USD per million (input, output) tokens: estimates for the monthly budget guard.
MODEL_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5.4-mini": (0.25, 2.0),
    "gpt-5.4-nano": (0.05, 0.4),
    "gpt-5.4": (1.25, 10.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4o-mini": (0.15, 0.6),
}
UNKNOWN_MODEL_PRICE = (1.25, 10.0)  # priced high, so an unknown model does not overspend


def estimated_cost(usages: list[Usage]) -> float:
    """Estimated USD spent for token `usages`."""
    total = 0.0
    for usage in usages:
        per_input, per_output = MODEL_PRICES.get(usage.model or "", UNKNOWN_MODEL_PRICE)
        total += usage.input_tokens * per_input / 1e6 + usage.output_tokens * per_output / 1e6
    return total


def month_start(now: float | None = None) -> float:
    """Epoch seconds of the first instant of the current UTC month."""
    year, month = time.gmtime(now)[:2]
    return float(calendar.timegm((year, month, 1, 0, 0, 0, 0, 0, 0)))


@dataclass(frozen=True)
class Keywords:
    """Words that opt a user out of a client or back in, with the confirmation each sends."""

    opt_out: dict[str, str] = field(
        default_factory=lambda: {
            "STOP": "You won't get more messages from this number. Send START to resume.",
            "BAJA": "No recibirás más mensajes de este número. Envía ALTA para volver.",
        }
    )
    opt_in: dict[str, str] = field(
        default_factory=lambda: {
            "START": "Welcome back! You will get answers again.",
            "ALTA": "¡Hola de nuevo! Volverás a recibir respuestas.",
        }
    )

    def match(self, body: str) -> tuple[str, str] | None:
        """('opt_out' | 'opt_in', keyword) when the whole message is one of the words."""
        word = body.strip().strip(".!¡").upper()
        if word in self.opt_out:
            return "opt_out", word
        if word in self.opt_in:
            return "opt_in", word
        return None

    def confirmation(self, kind: str, word: str) -> str:
        return (self.opt_out if kind == "opt_out" else self.opt_in)[word]


DEFAULT_LIMIT_MESSAGE = (
    "Has enviado muchos mensajes; por favor, espera un poco y vuelve a escribir. / "
    "You have sent a lot of messages; please wait a while and write again."
)


def next_batch(items: list[WorkItem], keywords: Keywords) -> list[WorkItem]:
    """The messages one turn answers: a keyword alone, or the run of messages before one.

    Messages already claimed by an unfinished turn (a restart) are that turn's batch.
    """
    if items[0].turn_id is not None:
        return [item for item in items if item.turn_id == items[0].turn_id]
    if keywords.match(items[0].body) and not items[0].media:
        return items[:1]
    batch = []
    for item in items:
        if item.turn_id is not None or (keywords.match(item.body) and not item.media):
            break
        batch.append(item)
    return batch

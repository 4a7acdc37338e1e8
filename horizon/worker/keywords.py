"""The words that opt a user out of a client, or back in, and what each one answers unless
the client sets its own confirmation (`assistant.opt_out_message`, `opt_in_message`)."""

from __future__ import annotations

from dataclasses import dataclass, field


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

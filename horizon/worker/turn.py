"""One turn: decide what a batch of a user's messages gets, save it, send it, mark it done.

The reply is saved before its first part is sent, and each part is recorded as it goes,
so a restart resumes a turn where it stopped instead of asking the model again. A reply
Twilio would not take waits in the outbox and is resumed the same way (`outbox.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from horizon.config.client import Client
from horizon.config.fleet import Fleet
from horizon.config.prices import DEFAULT_PRICES, PriceTable
from horizon.store.aio import AsyncStore
from horizon.store.records import Turn, Usage, WorkItem
from horizon.telemetry.logs import log_event
from horizon.telemetry.metrics import Metrics
from horizon.vendors.errors import VendorError
from horizon.worker.formatting import split_message, to_whatsapp
from horizon.worker.keywords import Keywords
from horizon.worker.limits import HOUR, estimated_cost
from horizon.worker.messenger import CLOCK_SKEW, Messenger, Part, address
from horizon.worker.model import AssistantModel, ModelReply, user_text
from horizon.worker.outbox import OutboxPolicy

# The final status of a turn's messages by the kind of its reply, for a turn resumed (after
# a crash, or from the outbox) once the decision that chose its status is gone. A silent
# turn sends nothing, so it is never left waiting.
STATUS_OF_KIND = {"fallback": "failed", "limit": "limited", "silent": "ignored"}


@dataclass(frozen=True)
class Decision:
    """What a turn sends (`text` None: nothing) and the status its messages end in."""

    kind: str
    text: str | None
    status: str = "answered"
    usage: Usage | None = None
    response_id: str | None = None
    error: str | None = None


class TurnRunner:
    """Runs turns for the worker; the fleet is read at each turn so reloads apply at once."""

    def __init__(
        self,
        store: AsyncStore,
        fleet: Callable[[], Fleet],
        model: AssistantModel,
        messenger: Messenger,
        metrics: Metrics,
        keywords: Keywords | None = None,
        outbox: OutboxPolicy | None = None,
        prices: PriceTable = DEFAULT_PRICES,
    ) -> None:
        self.store, self.fleet, self.model, self.messenger = store, fleet, model, messenger
        self.metrics, self.prices = metrics, prices
        self.keywords = keywords or Keywords()
        self.outbox = outbox or OutboxPolicy()

    async def run(self, batch: list[WorkItem], turn_id: int) -> None:
        """Answer `batch` (messages of one pair, in order) in turn `turn_id`, started or resumed."""
        first = batch[0]
        client_id, user = first.client_id, first.user_number
        resumed = first.turn_id is not None
        if not resumed:
            turn = Turn(turn_id, client_id, user, None, started_at=time.time())
        else:
            log_event("turn_resumed", client=client_id, sid=first.sid, turn=turn_id)
            turn = await self.store.replies.turn(turn_id)
        if turn.replied:
            status = STATUS_OF_KIND.get(turn.kind or "", "answered")
            await self._deliver(batch, turn, None, (status, turn.error), resumed)
            return
        decision = await self.decide(batch)
        parts = split_message(to_whatsapp(decision.text)) if decision.text else []
        await self.store.replies.save_reply(
            turn_id, decision.kind, parts, decision.usage, decision.response_id, decision.error
        )
        turn = replace(turn, kind=decision.kind, parts=tuple(parts), error=decision.error)
        self._count(client_id, decision)
        finish = (decision.status, decision.error)
        await self._deliver(batch, turn, decision.usage, finish, resumed)

    async def give_up(self, batch: list[WorkItem], turn_id: int, error: str) -> None:
        """End a turn that keeps failing unexpectedly: its messages failed, the user told so.

        The client's fallback_message is sent unless the turn already had a reply saved
        (then some of it may have gone out, and only what is left of it is sent).
        """
        first = batch[0]
        client = self.fleet().by_id.get(first.client_id)
        turn = await self.store.replies.turn(turn_id)
        if not turn.replied and client is not None:
            parts = (client.assistant.fallback_message,)
            await self.store.replies.save_reply(turn_id, "fallback", list(parts), error=error)
            turn = replace(turn, kind="fallback", parts=parts, error=error)
            self.metrics.replies.labels(first.client_id, "fallback").inc()
        log_event(
            "turn_abandoned",
            level=40,
            client=first.client_id,
            sid=batch[-1].sid,
            user=first.user_number,
            messages=len(batch),
            error=error,
        )
        await self._deliver(batch, turn, None, ("failed", error), resumed=True)

    async def _deliver(
        self,
        batch: list[WorkItem],
        turn: Turn,
        usage: Usage | None,
        finish: tuple[str, str | None],
        resumed: bool,
    ) -> None:
        """Send what the turn has not sent yet and finish it, or park it in the outbox.

        `finish` (status, error) is what its messages end in once the reply is out.
        """
        first = batch[0]
        if turn.parts_sent < len(turn.parts) and self.outbox.expired(turn, time.time()):
            turn, finish = await self._expire(turn, first, finish)
        failed = await self._send_parts(turn, first, usage, finish, resumed)
        if failed is not None:
            retry_at = self.outbox.next_try(turn, failed, time.time())
            if retry_at is not None:
                await self._park(turn, first, failed, retry_at)
                return
            finish = ("failed", str(failed))
        if failed is not None or turn.parts_sent >= len(turn.parts):
            # Nothing (more) was sent, or sending failed: the last part did not finish it.
            await self.store.replies.finish_turn(turn.id, *finish)
        self._log_done(batch, turn, finish, sent=failed is None)

    async def _park(self, turn: Turn, first: WorkItem, error: VendorError, at: float) -> None:
        """Keep the reply in the outbox, to be tried again at `at` by any worker."""
        failures = await self.store.outbox.park(turn.id, at, str(error))
        log_event(
            "outbox_queued",
            level=30,
            client=turn.client_id,
            sid=first.sid,
            user=turn.user_number,
            turn=turn.id,
            failures=failures,
            retry_in=round(at - time.time(), 1),
            error=str(error),
        )

    async def _expire(
        self, turn: Turn, first: WorkItem, finish: tuple[str, str | None]
    ) -> tuple[Turn, tuple[str, str | None]]:
        """Past its deadline, what is left of a reply gives way to the fallback message.

        The part last tried may have gone out with its answer lost: it is looked for first,
        so the store records what the user got. The client's fallback_message replaces the
        rest (none if the client is gone), and the messages end `failed`.
        """
        turn = await self._found_sent(turn, first)
        if turn.parts_sent >= len(turn.parts):
            return turn, finish  # it had all gone out after all
        client = self.fleet().by_id.get(turn.client_id)
        error = f"reply not sent within the {self.outbox.deadline:g} s deadline"
        log_event(
            "outbox_expired",
            level=40,
            client=turn.client_id,
            sid=first.sid,
            user=turn.user_number,
            turn=turn.id,
            failures=turn.send_failures,
            fallback=client is not None,
        )
        kind, parts = turn.kind or "fallback", turn.parts[: turn.parts_sent]
        if turn.kind == "fallback":
            parts = turn.parts  # the fallback itself was waiting: it gets this last try
        elif client is not None:
            kind, parts = "fallback", (*parts, client.assistant.fallback_message)
            self.metrics.replies.labels(turn.client_id, "fallback").inc()
        await self.store.replies.save_reply(turn.id, kind, list(parts), error=error)
        turn = replace(turn, kind=kind, parts=parts, error=error)
        return turn, ("failed", error)

    async def _found_sent(self, turn: Turn, first: WorkItem) -> Turn:
        """`turn` with its next part recorded sent if Twilio holds it, else as it was."""
        part = self._part(turn, first, turn.parts_sent + 1)
        try:
            found = await self.messenger.find_sent(part)
        except VendorError:
            return turn  # Twilio cannot tell: the part is taken as not sent
        if found is None:
            return turn
        sid, status = found
        sender = (first.client_number, first.user_number, first.channel)
        last = turn.parts_sent + 1
        await self.store.replies.record_part_sent(turn, last, sid, sender, status)
        log_event("part_found_sent", sid=sid, to=part.to)
        return replace(turn, parts_sent=last)

    def _log_done(
        self, batch: list[WorkItem], turn: Turn, finish: tuple[str, str | None], sent: bool
    ) -> None:
        first = batch[0]
        self.metrics.reply_seconds.labels(turn.client_id).observe(time.time() - first.received_at)
        if sent and turn.send_failures:
            log_event(
                "outbox_sent",
                client=turn.client_id,
                sid=first.sid,
                user=turn.user_number,
                turn=turn.id,
                failures=turn.send_failures,
                waited=round(time.time() - turn.started_at, 1),
            )
        log_event(
            "turn_done",
            client=turn.client_id,
            sid=batch[-1].sid,
            user=turn.user_number,
            kind=turn.kind,
            messages=len(batch),
            parts=len(turn.parts),
            status=finish[0],
            error=finish[1],
        )

    async def decide(self, batch: list[WorkItem]) -> Decision:
        """The reply the batch gets, by the rules in order; the model is asked last."""
        first = batch[0]
        client = self.fleet().by_id.get(first.client_id)
        if client is None:
            return Decision("silent", None, "ignored", error="client no longer configured")
        keyword = self.keywords.match(first.body) if len(batch) == 1 else None
        if keyword:
            kind, word = keyword
            await self.store.users.set_opt_out(
                client.id, first.user_number, kind == "opt_out", word
            )
            text = client.assistant.opt_out_message if kind == "opt_out" else None
            if kind == "opt_in":
                text = client.assistant.opt_in_message
            return Decision(kind, text or self.keywords.confirmation(kind, word))
        if await self.store.users.is_opted_out(client.id, first.user_number):
            return Decision("silent", None, "ignored", error="user opted out")
        if not client.enabled:
            return Decision("paused", client.assistant.paused_message)
        over = await self._over_limit(client, first.user_number)
        if over:
            return await self._limit_notice(client, first.user_number, over)
        return await self._ask_model(client, batch)

    async def _over_limit(self, client: Client, user: str) -> str | None:
        """The limit the turn is over, if any. The spend is read from the store every turn:
        every replica sees what the others spent, at once."""
        now = time.time()
        sent = await self.store.users.inbound_count_since(client.id, user, now - HOUR)
        if sent > client.limits.user_messages_per_hour:
            return "user_messages_per_hour"
        usage = await self.store.users.monthly_usage(client.id, now)
        spent = estimated_cost(usage, self.prices)
        if spent >= client.limits.monthly_budget_usd:
            return "monthly_budget_usd"
        return None

    async def _limit_notice(self, client: Client, user: str, limit: str) -> Decision:
        # One notice per hour: a user who keeps writing is not answered with a flood of them.
        last = await self.store.users.last_reply_of_kind(client.id, user, "limit")
        if last is not None and time.time() - last < HOUR:
            return Decision("silent", None, "limited", error=f"over {limit}")
        assistant = client.assistant
        text = (
            assistant.hourly_limit_message
            if limit == "user_messages_per_hour"
            else assistant.monthly_budget_message
        )
        return Decision("limit", text, "limited", error=f"over {limit}")

    async def _ask_model(self, client: Client, batch: list[WorkItem]) -> Decision:
        last = batch[-1]
        await self.messenger.typing(last.sid, last.channel)
        try:
            reply = await self.model.answer(client, last.user_number, user_text(batch))
        except VendorError as error:
            self.metrics.vendor_errors.labels(client.id, error.vendor).inc()
            log_event("model_failed", level=40, client=client.id, sid=last.sid, error=str(error))
            return Decision(
                "fallback", client.assistant.fallback_message, "failed", error=str(error)
            )
        if reply.unusable:
            return self._fallback_for_unusable(client, last, reply)
        return Decision("answer", reply.text, usage=reply.usage, response_id=reply.response_id)

    def _fallback_for_unusable(self, client: Client, last: WorkItem, reply: ModelReply) -> Decision:
        """A reply cut short or empty never reaches the user: the fallback message does.

        Its tokens were spent all the same, so they are recorded against the budget.
        """
        self.metrics.model_incomplete.labels(client.id, reply.unusable).inc()
        log_event(
            "model_incomplete",
            level=30,
            client=client.id,
            sid=last.sid,
            reason=reply.unusable,
            response=reply.response_id,
            output_tokens=reply.usage.output_tokens,
            reasoning_tokens=reply.reasoning_tokens,
        )
        return Decision(
            "fallback",
            client.assistant.fallback_message,
            "failed",
            usage=reply.usage,
            response_id=reply.response_id,
            error=f"model reply unusable: {reply.unusable}",
        )

    def _part(self, turn: Turn, first: WorkItem, number: int) -> Part:
        """Part `number` (1-based) of the turn's reply, ready to send or look for."""

        async def known() -> set[str]:
            return await self.store.replies.sent_sids(
                turn.client_id, turn.user_number, turn.started_at - CLOCK_SKEW
            )

        from_ = address(first.client_number, first.channel)
        to = address(first.user_number, first.channel)
        return Part(from_, to, turn.parts[number - 1], turn.started_at, known)

    async def _send_parts(
        self,
        turn: Turn,
        first: WorkItem,
        usage: Usage | None,
        finish: tuple[str, str | None],
        resumed: bool,
    ) -> VendorError | None:
        """Send the parts not sent yet, in order; the error if Twilio would not take one.

        Recording the last part also finishes the turn with `finish` (status, error). In a
        resumed turn the first part sent may have gone out before the crash (or before the
        answer was lost): it is looked for before it is sent.
        """
        sender = (first.client_number, first.user_number, first.channel)
        for part in range(turn.parts_sent + 1, len(turn.parts) + 1):
            doubt = resumed and part == turn.parts_sent + 1
            try:
                sid, status = await self.messenger.send(self._part(turn, first, part), doubt=doubt)
            except VendorError as error:
                self.metrics.vendor_errors.labels(turn.client_id, error.vendor).inc()
                log_event(
                    "send_failed",
                    level=40,
                    client=turn.client_id,
                    sid=first.sid,
                    part=part,
                    error=str(error),
                )
                return error
            part_usage = usage if part == 1 else None  # a reply's tokens go on its first part
            last = finish if part == len(turn.parts) else None
            await self.store.replies.record_part_sent(
                turn, part, sid, sender, status, part_usage, last
            )
            self.metrics.parts_sent.labels(turn.client_id).inc()
        return None

    def _count(self, client_id: str, decision: Decision) -> None:
        self.metrics.replies.labels(client_id, decision.kind).inc()
        if decision.usage:
            self.metrics.tokens.labels(client_id, "input").inc(decision.usage.input_tokens)
            self.metrics.tokens.labels(client_id, "output").inc(decision.usage.output_tokens)

"""The reply worker on its own thread and event loop, apart from the webhook's.

Twilio's acknowledgements then never queue behind the worker's callbacks: the webhook's
loop only validates, stores and hands the pair over (`notify`, thread-safe), while turns,
vendor calls and their HTTP clients live on the worker's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable

from horizon.worker.reply_worker import ReplyWorker


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # optional: the stock loop works, a little slower
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class WorkerThread:
    """Runs `worker` on a thread of its own; `start`/`stop` are awaited from any other loop.

    `on_stop` runs on the worker's loop after the worker stops: closing what was used
    there (aiohttp sessions are bound to the loop that opened them).
    """

    def __init__(
        self, worker: ReplyWorker, on_stop: list[Callable[[], Awaitable[None]]] | None = None
    ) -> None:
        self.worker = worker
        self.on_stop = on_stop or []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def start(self) -> int:
        """Start the thread and the worker on it; returns the pairs it resumed."""
        loop = self._loop = _new_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="horizon-worker", daemon=True)
        self._thread.start()
        return await self._run(self.worker.start())

    def notify(self, client_id: str, user_number: str) -> None:
        """Tell the worker a message for the pair was stored (from any thread)."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # stopped meanwhile: it waits in the store
            loop.call_soon_threadsafe(self.worker.notify, client_id, user_number)

    async def stop(self) -> None:
        """Stop the worker (turns under way get its grace), close its clients, end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            await self._run(self._shutdown())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join)
            loop.close()
            self._loop = self._thread = None

    async def _shutdown(self) -> None:
        await self.worker.stop()
        for close in self.on_stop:
            await close()

    async def _run(self, coroutine: Awaitable):
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

"""LocalStack stops when told to (emulator only).

LocalStack 4.12's hypercorn server (`localstack.runtime.server.hypercorn.HypercornRuntimeServer.shutdown`)
calls `loop.stop()` from its shutdown thread. asyncio's `stop` is not thread-safe: it only sets a flag that
the loop reads after its next wake-up, and an idle loop sleeps in `select` until some I/O arrives. So after
SIGTERM LocalStack sat idle for 8 to 40+ seconds (longer once Lambda environments had run) until the
contract fixture's stop timeout killed it. Waking the loop through `call_soon_threadsafe` (asyncio's
documented way to reach a loop from another thread) lets it stop at once.
"""

import atexit
import os
import sys

from localstack.runtime.server import hypercorn

_localstack_shutdown = hypercorn.HypercornRuntimeServer.shutdown


def _shutdown_and_wake(self):
    _localstack_shutdown(self)
    self.loop.call_soon_threadsafe(lambda: None)


hypercorn.HypercornRuntimeServer.shutdown = _shutdown_and_wake


def _exit_without_collecting() -> None:
    """Registered first, so it runs last among the exit hooks: LocalStack's own have run by then.

    What remains after them is the interpreter's final garbage collection of LocalStack's heap, several
    seconds of CPU that achieve nothing for a process that is about to go away.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


atexit.register(_exit_without_collecting)

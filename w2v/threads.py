"""Running compiled work on Python threads: each step releases the GIL, so the
threads run in parallel while Python keeps the errors."""
from __future__ import annotations

import threading
from typing import Callable, Iterable, List


def run_on_threads(work: Callable, args: Iterable) -> None:
    """``work(a)`` for every ``a`` in ``args``, each on a thread of its own (one runs on
    the calling thread). The first error is raised once all have ended; ``work`` can
    tell the others to stop before it raises."""
    args = list(args)
    if len(args) == 1:
        work(args[0])
        return
    errors: List[BaseException] = []

    def run(a):
        try:
            work(a)
        except BaseException as exc:  # re-raised on the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,), daemon=True) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]

"""Running test code in threads without losing what the threads raised."""

import threading
from collections.abc import Callable, Sequence


def run_in_threads(targets: Sequence[Callable[[], object]], *, together: bool = True) -> list[BaseException]:
    """Runs each target in its own thread and returns what they raised: a thread's exception is
    otherwise only printed, and the test would pass with a dead thread. With `together`, the
    targets start at the same moment, so they really race."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets)) if together and targets else None

    def collecting(target: Callable[[], object]) -> None:
        try:
            if start is not None:
                start.wait()
            target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=collecting, args=(target,)) for target in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors

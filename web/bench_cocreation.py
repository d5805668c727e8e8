"""Benchmarks of co-creation: proposals.rebuild."""

from collections.abc import Callable


def run(wanted: Callable[[str], bool], quick: bool) -> None:
    pass

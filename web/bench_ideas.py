"""Benchmarks of citizens' ideas: ideas.scaling and ideas.support."""

from collections.abc import Callable


def run(wanted: Callable[[str], bool], quick: bool) -> None:
    pass

"""Run an experiment's tasks serially or in a process pool, results in task order.

    from experiments.tools.pool import run_tasks
    for row in run_tasks(run_one, tasks, jobs):
        write(row)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

R = TypeVar("R")


def run_tasks(fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]], jobs: int) -> Iterator[R]:
    """``fn(*task)`` for every task, yielded in task order; in ``jobs`` processes when > 1."""
    if not tasks:
        return
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as ex:
            yield from ex.map(fn, *zip(*tasks, strict=True))
    else:
        for task in tasks:
            yield fn(*task)

"""Named random streams derived from one seed: the only place numpy Generators are created.

A stream's identity depends only on ``(seed, replication, name)``, never on the order streams are
requested, so adding a stream or an extra draw in one policy leaves every other stream unchanged
(common random numbers across policies). Names are hashed with CRC-32, which is stable across
processes and Python versions (unlike ``hash``).
"""

from __future__ import annotations

import zlib

import numpy as np


class RandomStreams:
    """Factory of independent, reproducible ``numpy.random.Generator`` objects keyed by name."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        self._root = np.random.SeedSequence(self.seed, spawn_key=(self.replication,))
        self._streams: dict[str, np.random.Generator] = {}

    def seed_sequence(self, name: str, *extra: int) -> np.random.SeedSequence:
        """SeedSequence for ``name`` (and optional integer sub-keys such as a step index)."""
        key = zlib.crc32(name.encode("utf-8"))
        return np.random.SeedSequence(
            self._root.entropy, spawn_key=(*self._root.spawn_key, key, *extra)
        )

    def __getitem__(self, name: str) -> np.random.Generator:
        """The stateful stream called ``name`` (created on first use)."""
        gen = self._streams.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.seed_sequence(name)))
            self._streams[name] = gen
        return gen

    def fresh(self, name: str, *extra: int) -> np.random.Generator:
        """A new generator for ``(name, *extra)``, independent of any stateful stream."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(name, *extra)))


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 63-bit seeds spawned from ``seed`` (replications of a sweep point)."""
    children = np.random.SeedSequence(int(seed)).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]

"""The one seeded random source behind every generated id and fake value.

Same seed, same sequence: a CI failure reproduces locally with the seed printed at start-up.
"""

from __future__ import annotations

import hashlib
import random
import uuid


class SeededRandom:
    def __init__(self, seed: int | None = None) -> None:
        self.seed = random.SystemRandom().randrange(2**32) if seed is None else int(seed)
        self.random = random.Random(self.seed)

    def reseed(self, seed: int | None = None) -> None:
        """Restart the sequence from the seed, or from a new ``seed`` (reset does this, so a
        re-run gives the same ids)."""
        if seed is not None:
            self.seed = int(seed)
        self.random = random.Random(self.seed)

    def derive(self, label: str) -> SeededRandom:
        """An independent sequence for ``label``, fixed by the seed: for values such as request
        ids that must not shift the main sequence (and so every later message id) when a client
        makes one more request."""
        digest = hashlib.sha256(f"{self.seed}:{label}".encode()).digest()
        return SeededRandom(int.from_bytes(digest[:8], "big"))

    def hex_id(self, length: int = 32) -> str:
        """Upper-case hex id, e.g. a Telesign ``reference_id``."""
        return f"{self.random.getrandbits(length * 4):0{length}X}"

    def uuid4(self) -> str:
        """A version-4 UUID drawn from the seeded sequence."""
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def choice(self, seq):
        return self.random.choice(seq)

    def randint(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

"""One page of a long list (the outbox, the messages needing attention, the audit log)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

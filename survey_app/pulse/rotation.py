"""Balanced rotation of the pool items: short pulses that still cover every item.

Each wave of a team asks one block of the pool, in turn: with 9 items and 3 per
pulse, waves 1, 2, 3 ask items 1-3, 4-6, 7-9 and wave 4 starts again, so every
item is asked in every team at least once every ceil(pool / per_pulse) waves.
When a block has more items than a pulse shows (the last block of an uneven
pool is topped up from the start), each person is shown a random subset, so the
wave's items are spread across respondents (planned missingness). Which items
a person saw is stored with their anonymous response, never with them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


def blocks(pool: Sequence[str], per_pulse: int) -> list[list[str]]:
    """The pool cut into ceil(len / per_pulse) blocks of ``per_pulse`` items each.

    The last block is topped up from the start of the pool, so no pulse is
    shorter than the others.
    """
    if per_pulse < 1 or not pool:
        return [list(pool)]
    count = math.ceil(len(pool) / per_pulse)
    cyclic = list(pool) * 2
    return [cyclic[index * per_pulse:(index + 1) * per_pulse] for index in range(count)]


def due_items(pool: Sequence[str], per_pulse: int, wave_number: int) -> list[str]:
    """The block asked by a team's ``wave_number``-th wave (0-based)."""
    all_blocks = blocks(pool, per_pulse)
    return all_blocks[wave_number % len(all_blocks)]


def pick_for_person(due: Sequence[str], per_pulse: int, rng: random.Random) -> list[str]:
    """The items one person is shown: all of ``due``, or a random ``per_pulse`` of them."""
    if len(due) <= per_pulse:
        return list(due)
    chosen = set(rng.sample(list(due), per_pulse))
    return [item for item in due if item in chosen]

"""Histograms as fixed-size decimal words, for a store whose only atomic update is addition.

DynamoDB can add to a number (``ADD``) but cannot edit a packed value in place, and one number
per histogram bin makes an aggregate item grow with every score value ever seen (up to 101
counters per metric, ~1,400 per item), so a benchmark read used to cost more the more
submissions were stored. Here each metric's histogram is a fixed number of *words*: word
``w`` holds bins ``w * PER_WORD .. w * PER_WORD + PER_WORD - 1``, each bin ``DIGITS``
decimal digits of one number (bin ``b`` adds ``10 ** (DIGITS * (b % PER_WORD))``). Adding
words adds every bin at once, so ``ADD`` stays exact and atomic, erasure subtracts the same
amount, and pre-summed bulk deltas pack the same way.

Every submission adds to *every* word of each of its metrics (0 to all but one), so an item
holds all its words from its first write: the number of attributes of an aggregate item is
constant (2 + words + months), whatever the number of submissions.

Capacity: a bin counts at most ``CAPACITY`` (999,999) submissions per aggregate item (the
global roll-up is split over ``GLOBAL_SHARDS`` items, each with this capacity). A word is at
most 36 digits, inside DynamoDB's 38 significant digits. ``decode_word`` logs an error for a
word out of range and a warning once a bin passes ``WARN_AT``, long before a carry could
corrupt the neighbouring bin.

Pure: no boto3, no I/O (tests/unit/test_packed.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from chalicelib.storage import metric_bins

logger = logging.getLogger(__name__)

DIGITS = 6  # decimal digits per bin
PER_WORD = 6  # bins per word: 36 digits <= DynamoDB's 38 significant digits
BASE = 10**DIGITS
CAPACITY = BASE - 1
WARN_AT = 900_000
WORD_LIMIT = BASE**PER_WORD  # every valid word is below this
PREFIX = "h#"


def word_count(metric: str) -> int:
    """Words of one metric: 17 for a 0..100 score, 2 for the phase, 1 for the pyramid level."""
    return -(-metric_bins(metric) // PER_WORD)


def word_name(metric: str, word: int) -> str:
    return f"{PREFIX}{metric}#{word}"


def pack_deltas(fields: Mapping[str, int]) -> dict[str, int]:
    """Counter deltas as ``Contribution.fields()`` names them (``count``, ``month#…``,
    ``m#<metric>#<bin>``) to stored deltas: ``count`` and months unchanged, every bin folded
    into its word, and every word of each metric present (zeros included)."""
    out: dict[str, int] = {}
    for name, delta in fields.items():
        if not name.startswith("m#"):
            out[name] = out.get(name, 0) + delta
            continue
        _, metric, b = name.split("#")
        value = int(b)
        if not 0 <= value < metric_bins(metric):
            raise ValueError(
                f"{metric}={value} is outside 0..{metric_bins(metric) - 1}"
            )
        first = word_name(metric, 0)
        if first not in out:
            for w in range(word_count(metric)):
                out[word_name(metric, w)] = 0
        w, position = divmod(value, PER_WORD)
        out[word_name(metric, w)] += delta * BASE**position
    return out


def is_word(name: str) -> bool:
    return name.startswith(PREFIX)


def decode_word(name: str, value: int) -> tuple[str, dict[int, int]]:
    """``(metric, {bin: count})`` of a stored word (bins with a count of 0 left out)."""
    _, metric, w = name.split("#")
    first = int(w) * PER_WORD
    if not 0 <= value < WORD_LIMIT:
        logger.error(
            "aggregate word %s=%d out of range: a bin exceeded %d or went negative",
            name,
            value,
            CAPACITY,
        )
    bins: dict[int, int] = {}
    for position in range(PER_WORD):
        value, count = divmod(value, BASE)
        if count:
            bins[first + position] = count
            if count >= WARN_AT:
                logger.warning(
                    "aggregate bin %s#%d holds %d of at most %d: raise GLOBAL_SHARDS "
                    "or widen DIGITS (chalicelib/storage/packed.py)",
                    metric,
                    first + position,
                    count,
                    CAPACITY,
                )
    return metric, bins

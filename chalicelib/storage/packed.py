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

from chalicelib.records import Deltas, metric_bins
from chalicelib.storage.codec import COUNT, MonthCounter, WordName

logger = logging.getLogger(__name__)

DIGITS = 6  # decimal digits per bin
PER_WORD = 6  # bins per word: 36 digits <= DynamoDB's 38 significant digits
BASE = 10**DIGITS
CAPACITY = BASE - 1
WARN_AT = 900_000
WORD_LIMIT = BASE**PER_WORD  # every valid word is below this


def word_count(metric: str) -> int:
    """Words of one metric: 17 for a 0..100 score, 2 for the phase, 1 for the pyramid level."""
    return -(-metric_bins(metric) // PER_WORD)


def word_name(metric: str, word: int) -> str:
    return WordName(metric, word).encode()


def pack_deltas(deltas: Deltas) -> dict[str, int]:
    """Typed deltas to stored deltas: ``count`` and ``month#…`` as they are, every bin folded
    into its word ``h#<metric>#<w>``, and every word of each metric present (zeros
    included)."""
    out: dict[str, int] = {COUNT: deltas.count}
    for month, d in deltas.months.items():
        out[MonthCounter(month).encode()] = d
    for metric, h in deltas.bins.items():
        size = metric_bins(metric)
        words = [0] * word_count(metric)
        for value, delta in h.items():
            if not 0 <= value < size:
                raise ValueError(f"{metric}={value} is outside 0..{size - 1}")
            w, position = divmod(value, PER_WORD)
            words[w] += delta * BASE**position
        for w, total in enumerate(words):
            out[word_name(metric, w)] = total
    return out


def is_word(name: str) -> bool:
    return WordName.matches(name)


def decode_word(name: str, value: int) -> tuple[str, dict[int, int]]:
    """``(metric, {bin: count})`` of a stored word (bins with a count of 0 left out)."""
    word = WordName.decode(name)
    metric, first = word.metric, word.word * PER_WORD
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

"""Histogram words (chalicelib/storage/packed.py): exact sums, constant size, capacity."""

from __future__ import annotations

import collections
import logging
import random

import pytest

from chalicelib.records import Aggregate, Contribution, Deltas, metric_bins
from chalicelib.storage import codec, packed


def contribution(metrics: dict[str, int], month: str = "2026-11") -> Contribution:
    return Contribution("real", "smm", "1.0.0", ("C#*#*",), metrics, month)


def apply(stored: dict[str, int], deltas: dict[str, int]) -> None:
    """What DynamoDB's ADD does: missing attributes start at 0."""
    for name, d in deltas.items():
        stored[name] = stored.get(name, 0) + d


def decode(stored: dict[str, int]) -> Aggregate:
    agg = Aggregate()
    rest = []
    for name, value in stored.items():
        if packed.is_word(name):
            agg.add_bins(*packed.decode_word(name, value))
        else:
            rest.append((name, value))
    agg.add_deltas(codec.deltas_from_counters(rest))
    return agg


def test_word_counts_cover_every_bin() -> None:
    assert packed.word_count("overall") == 17  # 101 bins, 6 per word
    assert packed.word_count("phase") == 2  # 0..7
    assert packed.word_count("pyramid_level") == 1  # 0..5
    for m in ("overall", "phase", "pyramid_level"):
        assert packed.word_count(m) * packed.PER_WORD >= metric_bins(m)
    # a word of six 6-digit bins fits DynamoDB's 38 significant digits
    assert len(str(packed.WORD_LIMIT - 1)) == 36


def test_sums_of_words_decode_to_exact_histograms() -> None:
    rng = random.Random(3)
    stored: dict[str, int] = {}
    scores = []
    for _ in range(500):
        s = {
            "overall": rng.randint(0, 100),
            "phase": rng.randint(0, 7),
            "pyramid_level": rng.randint(0, 5),
        }
        scores.append(s)
        apply(stored, packed.pack_deltas(contribution(s).deltas()))
    agg = decode(stored)
    assert agg.count == 500 and agg.months == {"2026-11": 500}
    for m in ("overall", "phase", "pyramid_level"):
        assert agg.histograms[m] == dict(collections.Counter(s[m] for s in scores))


def test_the_number_of_words_is_fixed_from_the_first_submission() -> None:
    one: dict[str, int] = {}
    apply(one, packed.pack_deltas(contribution({"overall": 50, "phase": 3}).deltas()))
    many = dict(one)
    for v in range(101):
        apply(
            many,
            packed.pack_deltas(contribution({"overall": v, "phase": v % 8}).deltas()),
        )
    assert set(one) == set(many)
    assert len([n for n in one if packed.is_word(n)]) == 17 + 2


def test_erasure_subtracts_exactly_what_was_added() -> None:
    stored: dict[str, int] = {}
    a = contribution({"overall": 99, "phase": 7})
    b = contribution({"overall": 100, "phase": 6})
    for c in (a, b):
        apply(stored, packed.pack_deltas(c.deltas()))
    apply(stored, packed.pack_deltas(a.deltas(-1)))
    agg = decode(stored)
    assert agg.count == 1
    assert agg.histograms == {"overall": {100: 1}, "phase": {6: 1}}


def test_pre_summed_bulk_deltas_pack_like_single_ones() -> None:
    total = Deltas()
    for v in (0, 0, 5, 100, 100, 100):
        total.add(contribution({"overall": v}).deltas())
    assert decode(packed.pack_deltas(total)).histograms == {
        "overall": {0: 2, 5: 1, 100: 3}
    }


def test_values_outside_the_metric_range_are_refused() -> None:
    with pytest.raises(ValueError, match="phase=8"):
        packed.pack_deltas(contribution({"phase": 8}).deltas())
    with pytest.raises(ValueError, match="overall=101"):
        packed.pack_deltas(contribution({"overall": 101}).deltas())


def test_a_bin_near_capacity_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    near = packed.WARN_AT * packed.BASE**2  # bin 2 of word 0
    with caplog.at_level(logging.WARNING, logger="chalicelib.storage.packed"):
        metric, bins = packed.decode_word("h#overall#0", near)
    assert (metric, bins) == ("overall", {2: packed.WARN_AT})
    assert "overall#2" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="chalicelib.storage.packed"):
        packed.decode_word("h#overall#0", -1)
    assert "out of range" in caplog.text

"""Histogram statistics are exact: they equal scipy/numpy on the raw scores."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from chalicelib import histograms
from chalicelib.cohorts import Cohort, contribution_keys, shard_of

scores = st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(scores, st.integers(min_value=0, max_value=100))
def test_percentile_rank_equals_scipy(raw: list[int], x: int) -> None:
    h = Counter(raw)
    expected = stats.percentileofscore(raw, x, kind="mean")
    assert (
        histograms.percentile_rank(h, x) == np.float64(expected)
        or abs(
            histograms.percentile_rank(h, x) - expected  # type: ignore[operator]
        )
        < 1e-9
    )


@settings(max_examples=200, deadline=None)
@given(scores, st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9]))
def test_quantile_equals_numpy_inverted_cdf(raw: list[int], q: float) -> None:
    h = Counter(raw)
    assert histograms.quantile(h, q) == int(np.quantile(raw, q, method="inverted_cdf"))


@settings(max_examples=100, deadline=None)
@given(scores)
def test_mean_and_count(raw: list[int]) -> None:
    h = Counter(raw)
    assert histograms.hist_count(h) == len(raw)
    assert abs(histograms.hist_mean(h) - float(np.mean(raw))) < 1e-9  # type: ignore[operator]


def test_empty_histogram() -> None:
    assert histograms.percentile_rank({}, 3) is None
    assert histograms.quantile({}, 0.5) is None
    assert histograms.hist_mean({}) is None


def test_banded_histogram_keeps_counts() -> None:
    h = {0: 1, 9: 2, 10: 3, 95: 4, 100: 5}
    b = histograms.banded(h, "overall")
    assert b["0-9"] == 3 and b["10-19"] == 3 and b["90-100"] == 9
    assert sum(b.values()) == 15
    assert histograms.banded({3: 2}, "phase") == {
        str(i): (2 if i == 3 else 0) for i in range(8)
    }


def test_roll_ups_and_shards() -> None:
    c = Cohort("C", "50-249", "dach")
    assert len(c.generalisations()) == 8
    keys = contribution_keys(c, "abc", 4)
    assert len(keys) == 8 and f"*#*#*#s{shard_of('abc', 4)}" in keys
    assert Cohort.from_key("C#*#dach") == Cohort("C", "*", "dach")


@settings(max_examples=200, deadline=None)
@given(scores, st.integers(min_value=-1, max_value=101))
def test_summary_and_rank_from_dense_counts_equal_numpy_and_scipy(
    raw: list[int], x: int
) -> None:
    """The request path computes from dense counts (constant cost); it must give the same
    values as the sparse helpers and as numpy/scipy on the raw scores."""
    h = Counter(raw)
    counts = histograms.dense(h)
    for form in (h, counts, list(counts) + [0] * (101 - len(counts))):
        s = histograms.summary(form, "overall")
        assert s["n"] == len(raw)
        assert s["mean"] == round(float(np.mean(raw)), 2)
        for name, q in histograms.QUANTILES:
            assert s[name] == int(np.quantile(raw, q, method="inverted_cdf")), name
            assert s[name] == histograms.quantile(h, q)
        assert s["histogram"] == histograms.banded(h, "overall")
        assert sum(s["histogram"].values()) == len(raw)  # type: ignore[attr-defined]
        rank = histograms.percentile_rank(form, x)
        assert rank is not None
        assert abs(rank - stats.percentileofscore(raw, x, kind="mean")) < 1e-9


def test_summary_of_an_empty_histogram() -> None:
    s = histograms.summary([], "phase")
    assert s["n"] == 0 and s["mean"] is None and s["median"] is None
    assert s["histogram"] == {str(b): 0 for b in range(8)}
    assert histograms.percentile_rank([0] * 101, 50) is None

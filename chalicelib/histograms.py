"""Pure histogram maths: exact statistics from score histograms.

Histograms are at score resolution (integers), so every statistic here equals the one
computed from the raw scores:
- ``percentile_rank`` equals ``scipy.stats.percentileofscore(raw, x, kind="mean")``;
- ``quantile`` equals ``numpy.quantile(raw, q, method="inverted_cdf")`` (nearest rank).
No numpy or scipy here: this runs on every benchmark request.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Mapping, Sequence

Histogram = Mapping[int, int]
Counts = Histogram | Sequence[int]


def dense(h: Counts) -> Sequence[int]:
    """A histogram as a dense sequence of counts (index = value)."""
    if isinstance(h, Mapping):
        out = [0] * (max(h, default=-1) + 1)
        for k, v in h.items():
            if v > 0 and k >= 0:
                out[k] = v
        return out
    return h


def hist_count(h: Counts) -> int:
    return sum(dense(h))


def hist_mean(h: Counts) -> float | None:
    counts = dense(h)
    n = sum(counts)
    if n == 0:
        return None
    total: int = sum(map(operator.mul, range(len(counts)), counts))
    return total / n


def quantiles(h: Counts, qs: Sequence[float]) -> list[int | None]:
    """Nearest-rank quantiles (numpy ``method="inverted_cdf"``): for each q, the smallest
    value whose cumulative count reaches q * n."""
    counts = dense(h)
    cum = list(itertools.accumulate(counts))
    n = cum[-1] if cum else 0
    if n == 0:
        return [None] * len(qs)
    return [min(bisect.bisect_left(cum, q * n - 1e-9), len(cum) - 1) for q in qs]


def quantile(h: Counts, q: float) -> int | None:
    return quantiles(h, (q,))[0]


def percentile_rank(h: Counts, x: int) -> float | None:
    """Percent of the cohort below x plus half of those equal to x (scipy kind="mean")."""
    counts = dense(h)
    n = sum(counts)
    if n == 0:
        return None
    below = sum(counts[: max(x, 0)])
    equal = counts[x] if 0 <= x < len(counts) else 0
    return 100.0 * (below + 0.5 * equal) / n


BAND = 10  # released histograms of 0..100 scores are grouped in bands of ten


def banded(h: Counts, metric: str) -> dict[str, int]:
    """The histogram as released: exact for small ordinal metrics (phase 0..7, pyramid level
    0..5), in bands of ten for 0..100 scores (``"40-49"``; the top band is ``"90-100"``).
    Statistics are computed from the exact bins; only the published shape is coarsened."""
    counts = dense(h)
    if metric in ("phase", "pyramid_level"):
        top = 7 if metric == "phase" else 5
        return {
            str(b): int(counts[b]) if b < len(counts) else 0 for b in range(top + 1)
        }
    return {
        f"{lo}-{lo + BAND - 1 if lo < 90 else 100}": int(
            sum(counts[lo : lo + BAND if lo < 90 else 101])
        )
        for lo in range(0, 100, BAND)
    }


QUANTILES = (
    ("p10", 0.10),
    ("p25", 0.25),
    ("median", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
)


def summary(h: Counts, metric: str) -> dict[str, object]:
    """n, mean, p10/p25/median/p75/p90 and the released histogram of one metric."""
    counts = dense(h)
    mean = hist_mean(counts)
    out: dict[str, object] = {
        "n": hist_count(counts),
        "mean": None if mean is None else round(mean, 2),
    }
    values = quantiles(counts, [q for _, q in QUANTILES])
    for (name, _), value in zip(QUANTILES, values, strict=True):
        out[name] = value
    out["histogram"] = banded(counts, metric)
    return out

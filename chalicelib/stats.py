"""Statistics for consultants, with scipy. Imported lazily (only by the consultant routes and
the CLI): importing scipy.stats costs most of a second and ~100 MB, so the scoring, submission
and plain benchmark paths never touch this module.

All inputs are histograms (value -> count), expanded to samples where a test needs them; the
histograms are exact at score resolution, so nothing is approximated by binning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

Histogram = Mapping[int, int]


def _sample(h: Histogram) -> Any:
    import numpy as np

    values = sorted(k for k, v in h.items() if v > 0)
    return np.repeat(np.array(values, dtype=float), [int(h[k]) for k in values])


def median_ci(
    h: Histogram, confidence: float = 0.95, resamples: int = 2000, seed: int = 7
) -> dict[str, Any]:
    """Percentile-bootstrap confidence interval for the cohort median (scipy.stats.bootstrap,
    fixed seed, so the same data give the same interval)."""
    import numpy as np
    from scipy import stats

    x = _sample(h)
    if len(x) < 2:
        return {
            "low": None,
            "high": None,
            "confidence": confidence,
            "method": "bootstrap",
        }
    res = stats.bootstrap(
        (x,),
        np.median,
        confidence_level=confidence,
        n_resamples=resamples,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return {
        "low": float(res.confidence_interval.low),
        "high": float(res.confidence_interval.high),
        "confidence": confidence,
        "method": f"percentile bootstrap, {resamples} resamples",
    }


def percentile_rank_ci(
    h: Histogram, value: int, confidence: float = 0.95
) -> dict[str, Any]:
    """Wilson score interval for a percentile rank, read as the proportion of the cohort
    below the value (ties counted half), with n the cohort size."""
    n = sum(v for v in h.values() if v > 0)
    if n == 0:
        return {"rank": None, "low": None, "high": None, "confidence": confidence}
    below = sum(v for k, v in h.items() if k < value and v > 0)
    equal = sum(v for k, v in h.items() if k == value and v > 0)
    return wilson_interval((below + 0.5 * equal) / n, n, confidence)


def wilson_interval(p: float, n: int, confidence: float = 0.95) -> dict[str, Any]:
    """The Wilson score interval of a proportion ``p`` observed in ``n``, in percent."""
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + confidence / 2))
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return {
        "rank": round(100 * p, 2),
        "low": round(100 * max(0.0, centre - half), 2),
        "high": round(100 * min(1.0, centre + half), 2),
        "confidence": confidence,
        "method": "Wilson score interval",
    }


def compare_cohorts(a: Histogram, b: Histogram) -> dict[str, Any]:
    """Mann-Whitney U (two-sided) between two cohorts with the rank-biserial correlation
    (effect size: +1 when every value of a exceeds every value of b) and the common-language
    effect size P(a > b) + P(a = b) / 2."""
    from scipy import stats

    x, y = _sample(a), _sample(b)
    if len(x) == 0 or len(y) == 0:
        return {
            "u": None,
            "p_value": None,
            "rank_biserial": None,
            "n_a": len(x),
            "n_b": len(y),
        }
    res = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    u = float(res.statistic)
    cles = u / (len(x) * len(y))
    return {
        "u": u,
        "p_value": float(res.pvalue),
        "rank_biserial": round(2 * cles - 1, 4),
        "common_language_effect": round(cles, 4),
        "n_a": len(x),
        "n_b": len(y),
        "method": "Mann-Whitney U, two-sided, asymptotic with tie correction",
    }


def cronbach_alpha(items: Sequence[Sequence[float | None]]) -> dict[str, Any]:
    """Cronbach's alpha of one dimension: ``items[i][j]`` is respondent i's score on item j
    (None = don't know). Respondents with any missing item are left out (listwise)."""
    import numpy as np

    rows = [r for r in items if r and all(v is not None for v in r)]
    k = len(rows[0]) if rows else 0
    if len(rows) < 3 or k < 2:
        return {"alpha": None, "items": k, "respondents": len(rows)}
    m = np.array(rows, dtype=float)
    item_var = m.var(axis=0, ddof=1).sum()
    total_var = m.sum(axis=1).var(ddof=1)
    alpha = None if total_var == 0 else float(k / (k - 1) * (1 - item_var / total_var))
    return {
        "alpha": None if alpha is None else round(alpha, 4),
        "items": k,
        "respondents": len(rows),
    }

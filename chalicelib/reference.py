"""The reference cohort: a synthetic, reproducible population calibrated to published figures.

It gives a fresh installation something to compare against. It is labelled "reference
(synthetic)" wherever it is used and lives under its own aggregate source, so it never mixes
with real submissions. Every figure used is listed in ``CALIBRATION`` with its seed file and in
docs/REFERENCE.md.

Model (pure, seeded ``random.Random``; no numpy):
- ``social_presence`` is drawn for everyone from the IDC figures (5% forbid, 52% do not use
  social media, 43% use it, about 15% of all in a structured way).
- Organisations that use social media get a latent maturity theta ~ N(0, 1); the top 15/43 of
  them by theta are the "structured" ones. Every answer is an ordinal cut of
  y = 0.6 * theta + 0.8 * e (e ~ N(0, 1)), so y ~ N(0, 1) for users and the cut points follow
  from the target shares with ``statistics.NormalDist``. Practitioner-survey figures (Social
  Media Examiner, Altimeter) apply to organisations that use social media, so they are
  calibrated and checked on that base.
- Questions without a published figure get cut points from their level on the ladder / in the
  pyramid (higher = harder) and 3% "don't know".
- Non-users answer "no" (85%) or "don't know" (15%).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from statistics import NormalDist

from chalicelib import benchmark, scoring
from chalicelib.questionnaire import TIER_ORDER, Question, Questionnaire
from chalicelib.storage import Contribution

GENERATOR_VERSION = "1"
DEFAULT_SEED = 20161123
DEFAULT_SIZE = 2400
LOADING = 0.6
_N = NormalDist()
USER_OPTIONS = ("ad_hoc", "structured")


@dataclass(frozen=True)
class Figure:
    """A published figure: the share of ``base`` organisations whose answer to ``question``
    is one of ``options``."""

    key: str
    question: str
    options: tuple[str, ...]
    share: float
    base: str  # "all" or "users" (organisations that use social media)
    source: str
    statement: str


CALIBRATION: tuple[Figure, ...] = (
    Figure(
        "forbid",
        "social_presence",
        ("forbidden",),
        0.05,
        "all",
        "004_4f4e8df35825fe44.txt",
        "IDC: 5% of German companies forbid employees to speak publicly",
    ),
    Figure(
        "no_use",
        "social_presence",
        ("none",),
        0.52,
        "all",
        "004_4f4e8df35825fe44.txt",
        "IDC: 52% of German companies do not use social media at all",
    ),
    Figure(
        "use",
        "social_presence",
        USER_OPTIONS,
        0.43,
        "all",
        "004_4f4e8df35825fe44.txt",
        "IDC: 43% use social media in some way",
    ),
    Figure(
        "structured",
        "social_presence",
        ("structured",),
        0.15,
        "all",
        "004_4f4e8df35825fe44.txt",
        "about 15% work with social networks in a structured way",
    ),
    Figure(
        "roi",
        "roi_measurement",
        ("yes",),
        0.41,
        "users",
        "000_f4ea0d3b453f5018.txt",
        "Social Media Examiner 2016: only 41% can measure ROI",
    ),
    Figure(
        "community",
        "own_community",
        ("yes",),
        0.14,
        "users",
        "000_f4ea0d3b453f5018.txt",
        "only 14% run their own customer community",
    ),
    Figure(
        "engagement",
        "engagement_rate",
        ("mostly", "yes"),
        0.80,
        "users",
        "000_f4ea0d3b453f5018.txt",
        "80% treat engagement rate as the key metric",
    ),
    Figure(
        "feedback",
        "feedback_process",
        ("no", "partly"),
        0.66,
        "users",
        "002_ca05925cc56a9037.txt",
        "Altimeter: 66% lack a process to act on social feedback",
    ),
    Figure(
        "crm",
        "crm_integration",
        ("no", "partly"),
        0.74,
        "users",
        "002_ca05925cc56a9037.txt",
        "Altimeter: 74% lack integration of social data into CRM",
    ),
    Figure(
        "measurement",
        "measurement_process",
        ("no", "partly"),
        0.75,
        "users",
        "002_ca05925cc56a9037.txt",
        "Altimeter: 75% lack a measurement process",
    ),
    Figure(
        "tools",
        "standard_tools",
        ("yes",),
        0.29,
        "users",
        "002_ca05925cc56a9037.txt",
        "Altimeter: only 29% have standardised internal tools",
    ),
    Figure(
        "goals",
        "goals_alignment",
        ("no",),
        0.33,
        "users",
        "002_ca05925cc56a9037.txt",
        "Altimeter: 33% report social activity not aligned with business goals",
    ),
)

# Shares of each scored option (worst to best) for calibrated questions. The published figure
# fixes one split; the rest of the mass is divided evenly (an assumption, see docs/REFERENCE.md).
CATEGORY_SHARES: dict[str, tuple[float, ...]] = {
    "roi_measurement": (0.295, 0.295, 0.41),
    "own_community": (0.86, 0.14),
    "engagement_rate": (0.10, 0.10, 0.40, 0.40),
    "feedback_process": (0.33, 0.33, 0.34),
    "crm_integration": (0.37, 0.37, 0.26),
    "measurement_process": (0.375, 0.375, 0.25),
    "standard_tools": (0.355, 0.355, 0.29),
    "goals_alignment": (0.33, 0.335, 0.335),
}

PRESENCE_SHARES = {"forbidden": 0.05, "none": 0.52, "ad_hoc": 0.28, "structured": 0.15}

# Context distributions (assumptions, documented): German business register-like industry
# mix, EU size classes tilted towards small firms, mostly DACH countries.
INDUSTRY_WEIGHTS = {
    "G": 18,
    "M": 13,
    "F": 11,
    "C": 8,
    "N": 6,
    "I": 6,
    "Q": 6,
    "S": 5,
    "J": 4,
    "L": 4,
    "H": 3,
    "K": 3,
    "P": 2,
    "R": 2,
    "A": 2,
    "E": 1,
    "D": 1,
    "B": 0.5,
    "O": 0.5,
    "T": 0.3,
    "U": 0.2,
}
SIZE_WEIGHTS = {"1-9": 40, "10-49": 30, "50-249": 17, "250-999": 9, "1000+": 4}
COUNTRY_WEIGHTS = {
    "DE": 62,
    "AT": 12,
    "CH": 10,
    "NL": 3,
    "FR": 2,
    "GB": 2,
    "IT": 2,
    "PL": 2,
    "SE": 1.5,
    "ES": 1.5,
    "US": 2,
}
MONTHS = tuple(f"2016-{m:02d}" for m in range(1, 13))  # vintage of the figures


@dataclass(frozen=True)
class Synthetic:
    id: str
    answers: dict[str, str]
    month: str
    user: bool


def _cuts(shares: tuple[float, ...]) -> list[float]:
    cum, out = 0.0, []
    for s in shares[:-1]:
        cum += s
        out.append(_N.inv_cdf(min(max(cum, 1e-9), 1 - 1e-9)))
    return out


def _level(x: Question) -> float:
    if x.phase is not None:
        return float(x.phase)
    if x.tier is not None:
        return 1.0 + 1.4 * TIER_ORDER.index(
            x.tier
        )  # foundation ~ phase 1 .. enlightenment ~ 6.6
    return 3.5


def _generic_cuts(x: Question, k: int) -> list[float]:
    b = -1.2 + 0.35 * _level(x)
    return [b + 0.6 * (j - (k - 2) / 2) for j in range(k - 1)]


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def generate(
    q: Questionnaire, n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED
) -> Iterator[Synthetic]:
    """Yield ``n`` synthetic organisations; the same (q, n, seed) always gives the same ones."""
    rng = random.Random(f"{seed}:{q.key}:{GENERATOR_VERSION}")
    scored = q.scored_questions
    plans: dict[str, tuple[list[str], list[float]]] = {}
    for x in scored:
        opts = [
            o.id
            for o in sorted(
                (o for o in x.options if o.score is not None),
                key=lambda o: o.score or 0.0,
            )
        ]
        shares = CATEGORY_SHARES.get(x.id)
        cuts = (
            _cuts(shares)
            if shares and len(shares) == len(opts)
            else _generic_cuts(x, len(opts))
        )
        plans[x.id] = (opts, cuts)
    structured_cut = _N.inv_cdf(1 - PRESENCE_SHARES["structured"] / 0.43)
    ctx = {r: q.context_question(r) for r in ("industry", "size", "country", "consent")}
    countries = {o.value or o.id for o in ctx["country"].options}
    cweights = {c: w for c, w in COUNTRY_WEIGHTS.items() if c in countries}
    # quota sampling of the IDC shares: exact marginals, shuffled reproducibly
    quota = ["forbidden"] * round(n * PRESENCE_SHARES["forbidden"])
    quota += ["none"] * round(n * PRESENCE_SHARES["none"])
    quota += ["user"] * (n - len(quota))
    rng.shuffle(quota)
    for i in range(n):
        presence = quota[i]
        answers: dict[str, str] = {}
        theta = rng.gauss(0.0, 1.0)
        user = presence == "user"
        if user:
            presence = "structured" if theta > structured_cut else "ad_hoc"
        for x in scored:
            if x.id == "social_presence":
                answers[x.id] = presence
                continue
            opts, cuts = plans[x.id]
            dont_know = next((o.id for o in x.options if o.score is None), None)
            if not user:
                answers[x.id] = (
                    dont_know if dont_know and rng.random() < 0.15 else opts[0]
                )
                continue
            if x.id not in CATEGORY_SHARES and dont_know and rng.random() < 0.03:
                answers[x.id] = dont_know
                continue
            y = LOADING * theta + (1 - LOADING**2) ** 0.5 * rng.gauss(0.0, 1.0)
            answers[x.id] = opts[sum(1 for c in cuts if y > c)]
        answers[ctx["industry"].id] = _weighted(rng, INDUSTRY_WEIGHTS)
        answers[ctx["size"].id] = _weighted(rng, SIZE_WEIGHTS)
        answers[ctx["country"].id] = _weighted(rng, cweights)
        answers[ctx["consent"].id] = "yes"
        yield Synthetic(f"ref-{seed}-{i:06d}", answers, MONTHS[i % len(MONTHS)], user)


def contributions(
    q: Questionnaire,
    population: list[Synthetic],
    shards: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[Contribution]:
    """Score each synthetic organisation and turn it into its benchmark contribution."""
    country = q.context_question("country")
    regions = {o.id: o.region or benchmark.ALL for o in country.options}
    out: list[Contribution] = []
    for i, s in enumerate(population, 1):
        result = scoring.score(q, s.answers)
        cohort = benchmark.Cohort(
            s.answers[q.context_question("industry").id],
            s.answers[q.context_question("size").id],
            regions[s.answers[country.id]],
        )
        out.append(
            Contribution(
                source="reference",
                questionnaire_id=q.id,
                version=q.version,
                cohorts=benchmark.contribution_keys(cohort, s.id, shards),
                metrics=result.metrics(),
                month=s.month,
            )
        )
        if progress and (i % 200 == 0 or i == len(population)):
            progress(i, len(population))
    return out


def observed_share(population: list[Synthetic], figure: Figure) -> tuple[float, int]:
    """The share the generated population shows for a figure, and the size of its base."""
    base = [s for s in population if figure.base == "all" or s.user]
    hits = sum(1 for s in base if s.answers.get(figure.question) in figure.options)
    return (hits / len(base) if base else 0.0), len(base)

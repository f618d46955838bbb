"""The reference cohort: a synthetic, reproducible population calibrated to published figures.

It gives a fresh installation something to compare against. It is labelled "reference
(synthetic)" wherever it is used and lives under its own aggregate source, so it never mixes
with real submissions. Every figure used is listed in ``CALIBRATION`` with its seed file and in
docs/REFERENCE.md.

Model (pure, seeded ``random.Random``; no numpy):
- The questionnaire's population question (``social_presence`` in smm 1.0.0) is drawn for
  everyone by quota from the IDC figures (5% forbid, 52% do not use social media, 43% use it,
  15% of all in a structured way); which options mean "uses social media" comes from the
  file (``Questionnaire.population``). Users count in the ``users`` and ``all`` populations,
  the others in ``all`` only.
- Everyone gets a latent maturity theta ~ N(0, 1); users get the user options by rank of
  theta. Every answer of a user is an ordinal cut of y = 0.6 * theta + 0.8 * e
  (e ~ N(0, 1)), so y ~ N(0, 1) and the cut points follow from the option shares with
  ``statistics.NormalDist``. Option shares come from the figures (``category_shares``);
  practitioner-survey figures (Social Media Examiner, Altimeter) describe organisations that
  use social media, so they are calibrated and checked on that base.
- Figures whose question or options a questionnaire version lacks are left out and reported
  (``skipped_figures``); ``calibration`` checks the rest (docs/REFERENCE.md).
- Questions without a published figure get cut points from their level on the ladder / in the
  pyramid (higher = harder) and 3% "don't know".
- Non-users answer "no" (85%) or "don't know" (15%).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from statistics import NormalDist

from chalicelib import cohorts, scoring
from chalicelib.questionnaire import TIER_ORDER, Question, Questionnaire
from chalicelib.records import POPULATION_ALL, POPULATION_USERS, Contribution

GENERATOR_VERSION = "2"
DEFAULT_SEED = 20161123
DEFAULT_SIZE = 2400
LOADING = 0.6
_N = NormalDist()
USER_OPTIONS = ("ad_hoc", "structured")  # smm 1.0.0 presence options of users


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

# The IDC share of companies that use social media in some way: the size of the ``users``
# population whenever the questionnaire's presence options do not carry the figure itself.
USER_SHARE = 0.43

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
    user: bool  # the questionnaire's population question says it uses social media


def skipped_figures(q: Questionnaire) -> list[tuple[Figure, str]]:
    """Figures this questionnaire version cannot carry (question or options missing), each
    with the reason; the generator leaves them out and ``seed-reference`` reports them."""
    out: list[tuple[Figure, str]] = []
    for f in CALIBRATION:
        x = q.question_index.get(f.question)
        if x is None or x.kind != "scored":
            out.append((f, f"no scored question {f.question!r}"))
            continue
        missing = [o for o in f.options if x.scored_options.get(o) is None]
        if missing:
            out.append((f, f"{f.question} has no scored option {', '.join(missing)}"))
    return out


def applicable_figures(q: Questionnaire) -> list[Figure]:
    skipped = {f.key for f, _ in skipped_figures(q)}
    return [f for f in CALIBRATION if f.key not in skipped]


def _scored_ids(x: Question) -> list[str]:
    """Scored options, worst to best."""
    return [
        o.id
        for o in sorted(
            (o for o in x.options if o.score is not None), key=lambda o: o.score or 0.0
        )
    ]


def category_shares(opts: list[str], figures: list[Figure]) -> dict[str, float]:
    """Shares of each option that reproduce ``figures`` (each fixes the total share of its
    options; nested figures, the narrower first). Mass a figure leaves open is divided evenly
    among its other options, the rest of the total evenly among options no figure names (an
    assumption, docs/REFERENCE.md)."""
    fixed: dict[str, float] = {}
    for f in sorted(figures, key=lambda f: len(f.options)):
        free = [o for o in f.options if o not in fixed]
        rest = f.share - sum(fixed.get(o, 0.0) for o in f.options)
        for o in free:
            fixed[o] = max(rest, 0.0) / len(free)
    free = [o for o in opts if o not in fixed]
    rest = max(1.0 - sum(fixed.values()), 0.0)
    for o in free:
        fixed[o] = rest / len(free)
    total = sum(fixed.values())
    return {o: fixed[o] / total for o in opts}


def _presence_shares(q: Questionnaire, figures: list[Figure]) -> dict[str, float]:
    """Shares of the population question's options among all organisations. Without a
    figure fixing the users' total (option ids changed), users get ``USER_SHARE``."""
    pq = q.question_index[q.population.question]
    opts = _scored_ids(pq)
    mine = [f for f in figures if f.question == pq.id and f.base == "all"]
    non_users = set(q.population.non_user_options)
    users = tuple(o for o in opts if o not in non_users)
    if users and not any(set(f.options) == set(users) for f in mine):
        mine.append(
            Figure(
                "users",
                pq.id,
                users,
                USER_SHARE,
                "all",
                "004_4f4e8df35825fe44.txt",
                "IDC: 43% use social media in some way",
            )
        )
    return category_shares(opts, mine)


def _quota(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Exact counts per option (largest remainder), summing to n."""
    raw = {o: n * s for o, s in shares.items()}
    counts = {o: int(v) for o, v in raw.items()}
    for o in sorted(raw, key=lambda o: raw[o] - counts[o], reverse=True)[
        : n - sum(counts.values())
    ]:
        counts[o] += 1
    return counts


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
    """Yield ``n`` synthetic organisations; the same (q, n, seed) always gives the same ones.

    Works for any questionnaire version: the population question and its non-user options
    come from the file, figures whose question or options it lacks are left out
    (``skipped_figures``)."""
    rng = random.Random(f"{seed}:{q.key}:{GENERATOR_VERSION}")
    figures = applicable_figures(q)
    pq = q.question_index[q.population.question]
    calibrated = {f.question for f in figures if f.base == "users"}
    plans: dict[str, tuple[list[str], list[float]]] = {}
    for x in q.scored_questions:
        opts = _scored_ids(x)
        mine = [f for f in figures if f.question == x.id and f.base == "users"]
        if mine:
            shares = category_shares(opts, mine)
            cuts = _cuts(tuple(shares[o] for o in opts))
        else:
            cuts = _generic_cuts(x, len(opts))
        plans[x.id] = (opts, cuts)
    # the population question by quota (exact shares), shuffled reproducibly; users get the
    # user options by rank of their latent maturity (higher theta, better option)
    presence = _quota(n, _presence_shares(q, figures))
    non_users = set(q.population.non_user_options)
    user_opts = [o for o in _scored_ids(pq) if o not in non_users]
    quota = [o for o in presence if o in non_users for _ in range(presence[o])]
    quota += [""] * (n - len(quota))
    rng.shuffle(quota)
    thetas = [rng.gauss(0.0, 1.0) for _ in range(n)]
    ranked = sorted((i for i in range(n) if not quota[i]), key=lambda i: thetas[i])
    pos = 0
    for o in user_opts:
        for i in ranked[pos : pos + presence[o]]:
            quota[i] = o
        pos += presence[o]
    ctx = {r: q.context_question(r) for r in ("industry", "size", "country", "consent")}
    countries = {o.value or o.id for o in ctx["country"].options}
    cweights = {c: w for c, w in COUNTRY_WEIGHTS.items() if c in countries}
    for i in range(n):
        answers: dict[str, str] = {}
        theta = thetas[i]
        user = quota[i] not in non_users
        for x in q.scored_questions:
            if x.id == pq.id:
                answers[x.id] = quota[i]
                continue
            opts, cuts = plans[x.id]
            dont_know = next((o.id for o in x.options if o.score is None), None)
            if not user:
                answers[x.id] = (
                    dont_know if dont_know and rng.random() < 0.15 else opts[0]
                )
                continue
            if x.id not in calibrated and dont_know and rng.random() < 0.03:
                answers[x.id] = dont_know
                continue
            y = LOADING * theta + (1 - LOADING**2) ** 0.5 * rng.gauss(0.0, 1.0)
            answers[x.id] = opts[sum(1 for c in cuts if y > c)]
        answers[ctx["industry"].id] = _weighted(rng, INDUSTRY_WEIGHTS)
        answers[ctx["size"].id] = _weighted(rng, SIZE_WEIGHTS)
        answers[ctx["country"].id] = _weighted(rng, cweights)
        answers[ctx["consent"].id] = "yes"
        yield Synthetic(
            f"ref-{seed}-{i:06d}",
            answers,
            MONTHS[i % len(MONTHS)],
            q.uses_social_media(answers) is True,
        )


def contributions(
    q: Questionnaire,
    population: list[Synthetic],
    shards: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[Contribution]:
    """Score each synthetic organisation and turn it into its benchmark contribution."""
    country = q.context_question("country")
    regions = {o.id: o.region or cohorts.ALL for o in country.options}
    out: list[Contribution] = []
    for i, s in enumerate(population, 1):
        result = scoring.score(q, s.answers)
        cohort = cohorts.Cohort(
            s.answers[q.context_question("industry").id],
            s.answers[q.context_question("size").id],
            regions[s.answers[country.id]],
        )
        out.append(
            Contribution(
                source="reference",
                questionnaire_id=q.id,
                version=q.version,
                cohorts=cohorts.contribution_keys(cohort, s.id, shards),
                metrics=result.metrics(),
                month=s.month,
                populations=(POPULATION_ALL, POPULATION_USERS)
                if s.user
                else (POPULATION_ALL,),
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


@dataclass(frozen=True)
class Check:
    """One figure against a generated population: target and observed share on the
    figure's base, the standard error of a share on that base, and whether it is met."""

    figure: Figure
    observed: float
    n: int
    se: float

    @property
    def z(self) -> float:
        return (self.observed - self.figure.share) / self.se if self.se else 0.0

    @property
    def met(self) -> bool:
        return abs(self.observed - self.figure.share) <= 3 * self.se


def calibration(q: Questionnaire, population: list[Synthetic]) -> list[Check]:
    """Every figure this questionnaire version carries, checked on its own base."""
    out = []
    for f in applicable_figures(q):
        observed, n = observed_share(population, f)
        se = (f.share * (1 - f.share) / n) ** 0.5 if n else 0.0
        out.append(Check(f, observed, n, se))
    return out


def calibration_markdown(q: Questionnaire, population: list[Synthetic]) -> str:
    """The calibration table of docs/REFERENCE.md (``python -m chalicelib.cli
    reference-calibration``)."""
    users = sum(s.user for s in population)
    head = f"Generator version {GENERATOR_VERSION}, {q.key}, {len(population)} organisations"
    lines = [
        f"{head} ({users} use social media).",
        "",
        "| figure | question (options) | base | target | observed | SE | z | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in calibration(q, population):
        f = c.figure
        base = "all" if f.base == "all" else "users"
        lines.append(
            f"| {f.key} | `{f.question}` ({', '.join(f.options)}) | {base} |"
            f" {f.share:.1%} | {c.observed:.1%} | {c.se:.1%} | {c.z:+.2f} | {c.n} |"
        )
    for f, why in skipped_figures(q):
        lines.append(f"| {f.key} | skipped: {why} | {f.base} | {f.share:.1%} | | | | |")
    return "\n".join(lines)

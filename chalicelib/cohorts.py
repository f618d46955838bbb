"""Pure cohort maths: cohorts, their generalisations (roll-ups) and shard keys."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from chalicelib.records import SHARD_MARK

ALL = "*"


@dataclass(frozen=True, order=True)
class Cohort:
    industry: str = ALL
    size: str = ALL
    region: str = ALL

    @property
    def key(self) -> str:
        return f"{self.industry}#{self.size}#{self.region}"

    @classmethod
    def from_key(cls, key: str) -> Cohort:
        industry, size, region = key.split("#")[:3]
        return cls(industry, size, region)

    @property
    def is_global(self) -> bool:
        return self == GLOBAL

    def generalisations(self) -> list[Cohort]:
        """Every roll-up containing this cohort, itself included (up to 8)."""
        options = [
            (self.industry, ALL) if self.industry != ALL else (ALL,),
            (self.size, ALL) if self.size != ALL else (ALL,),
            (self.region, ALL) if self.region != ALL else (ALL,),
        ]
        return [Cohort(i, s, r) for i, s, r in itertools.product(*options)]

    def label(self) -> str:
        parts = [
            f"industry {self.industry}" if self.industry != ALL else None,
            f"size {self.size}" if self.size != ALL else None,
            f"region {self.region}" if self.region != ALL else None,
        ]
        named = [p for p in parts if p]
        return ", ".join(named) if named else "all organisations"


GLOBAL = Cohort()


def shard_of(assessment_id: str, shards: int) -> int:
    """Stable shard for an assessment (erasure must hit the same shard as the submission)."""
    if shards <= 1:
        return 0
    return (
        int.from_bytes(hashlib.sha256(assessment_id.encode()).digest()[:4], "big")
        % shards
    )


def storage_key(cohort: Cohort, shard: int | None = None) -> str:
    """The aggregate item key of a cohort; the global roll-up is write-sharded."""
    if cohort.is_global and shard is not None:
        return f"{cohort.key}{SHARD_MARK}{shard}"
    return cohort.key


def contribution_keys(
    cohort: Cohort, assessment_id: str, shards: int
) -> tuple[str, ...]:
    """Aggregate items one submission adds to: all 8 roll-ups, the global one on its shard."""
    shard = shard_of(assessment_id, shards)
    return tuple(
        storage_key(c, shard if c.is_global else None) for c in cohort.generalisations()
    )


# --- exact statistics from histograms ---------------------------------------------------------
# A histogram is either sparse ({value: count}) or dense (a sequence, index = value): stored
# aggregates are dense (constant cost whatever the number of submissions), callers with raw
# counts pass dicts. Negative or empty bins of a dict are ignored.

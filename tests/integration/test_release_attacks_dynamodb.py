"""The four attacks of issue 15 (tests/api/test_release_attacks.py) against the public API on
DynamoDB Local: the same tests, the container on a ``DynamoStore`` whose stream the
aggregator has caught up with before every read of the exact aggregates (on AWS the stream
Lambda does that; here ``aggregate_pending`` polls the table's real stream)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.container import Container
from chalicelib.storage.dynamodb import DynamoStore
from tests.api.test_release_attacks import (  # noqa: F401 - collected here on DynamoDB
    test_attack_a_sibling_differencing,
    test_attack_b_metric_differencing,
    test_attack_c_time_differencing_and_erasure,
    test_attack_d_statistics_ranks_are_whole_and_only_from_released_shares,
)
from tests.cells import drain


class CaughtUp(DynamoStore):
    """The aggregator has applied every stream record before an exact read."""

    def read_grid(self, grid: Any) -> Any:
        drain(self)
        return super().read_grid(grid)


@pytest.fixture
def container(dynamodb_client, dynamo_table, catalog, settings, clock) -> Container:  # type: ignore[no-untyped-def]
    store = CaughtUp(dynamo_table, dynamodb_client, base_delay=0.001, max_delay=0.01)
    return Container(store=store, catalog=catalog, settings=settings, clock=clock)

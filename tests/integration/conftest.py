"""DynamoDB Local fixtures: one DynamoDB Local process per test session, and a fresh table
(built from infra/table.yaml, the template that deploys it) per test.

Missing Java or npm makes these fixtures FAIL, not skip: CI installs both, and a silently
skipped adapter would pass the contract suite without testing it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.storage.dynamodb import DynamoStore
from chalicelib.storage.dynamodb.schema import ensure_table_from_template
from tests import dynamodb_local as harness


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of a DynamoDB Local process shared by the session."""
    try:
        ctx = harness.dynamodb_local(tmp_path_factory.mktemp("dynamodb-local"))
        endpoint = ctx.__enter__()
    except harness.DynamoDBLocalError as exc:
        pytest.fail(f"DynamoDB Local is required for these tests: {exc}", pytrace=False)
    try:
        yield endpoint
    finally:
        ctx.__exit__(None, None, None)


@pytest.fixture(scope="session")
def dynamodb_client(dynamodb_local: str) -> Any:
    return harness.local_client(dynamodb_local, max_pool_connections=32)


@pytest.fixture
def dynamo_table(dynamodb_client: Any) -> Iterator[str]:
    name = f"smm-test-{uuid.uuid4().hex[:12]}"
    ensure_table_from_template(dynamodb_client, harness.TEMPLATE, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def dynamo_store(dynamodb_client: Any, dynamo_table: str) -> DynamoStore:
    """A DynamoStore on a fresh table, with millisecond retry delays."""
    return DynamoStore(dynamo_table, dynamodb_client, base_delay=0.001, max_delay=0.01)

"""Shared fixtures: the real questionnaire, a fresh SQLite store per test, the service and a
``chalice.test.Client`` bound to it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import chalice.local  # noqa: F401 - loaded before app.py, which then adapts the local gateway
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QUESTIONNAIRE_DIR", str(ROOT / "questionnaires"))

from chalicelib.assessments import AssessmentService
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.questionnaire import Questionnaire, get_catalog
from chalicelib.storage.sqlite import SqliteStore
from tests import orgs

SECRET = b"test-secret-not-for-production"


@pytest.fixture(scope="session")
def catalog():  # type: ignore[no-untyped-def]
    return get_catalog(str(ROOT / "questionnaires"))


@pytest.fixture(scope="session")
def questionnaire(catalog) -> Questionnaire:  # type: ignore[no-untyped-def]
    return catalog.get("smm")


@pytest.fixture
def settings() -> Settings:
    return Settings(secret=SECRET, k_min=5, global_shards=4)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(str(tmp_path / "test.sqlite3"))
    yield store
    store.close()


class FixedClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def container(sqlite_store, catalog, settings, clock) -> Container:  # type: ignore[no-untyped-def]
    """The app's services over this test's store, settings and clock."""
    return Container(
        store=sqlite_store, catalog=catalog, settings=settings, clock=clock
    )


@pytest.fixture
def service(container) -> AssessmentService:  # type: ignore[no-untyped-def]
    return container.assessments


@pytest.fixture
def client(container):  # type: ignore[no-untyped-def]
    from chalice.test import Client

    import app as app_module

    app_module.use_container(container)
    with Client(app_module.app, stage_name="local") as c:
        yield c
    app_module.use_container(None)


@pytest.fixture
def complete_answers(questionnaire) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return orgs.middling(questionnaire)


@pytest.fixture
def publish(container):  # type: ignore[no-untyped-def]
    """Publish a benchmark release of every grid now (the scheduled job's work): benchmark
    figures come from releases only, so a test that submits and then reads figures
    publishes in between. Returns the summary."""

    def run():  # type: ignore[no-untyped-def]
        return container.releases.publish()

    return run

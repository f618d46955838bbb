"""The composition root: every service of the app, wired in one place and built on first use.

``Container()`` reads the environment (``Settings.from_env``, ``store_from_env``, the installed
questionnaires) only when an attribute is first read; importing this module or creating a
container builds nothing. The app (``chalicelib/routes/common.py`` holds its one container),
the command line and the tests use it; tests and tools pass their own parts
(``Container(store=..., settings=..., clock=...)``) and get everything else wired over them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.assessments import AssessmentService
    from chalicelib.benchmarks import BenchmarkService, ConsultantStatistics
    from chalicelib.branding import BrandingService
    from chalicelib.config import Settings
    from chalicelib.exports import ExportService
    from chalicelib.listing import PartnerLists
    from chalicelib.organisation_roadmap import OrganisationRoadmaps
    from chalicelib.organisation_service import OrganisationService
    from chalicelib.partners import PartnerService
    from chalicelib.questionnaire import Catalog
    from chalicelib.ratelimit import RateLimiter
    from chalicelib.release_service import ReleaseService
    from chalicelib.storage import Store
    from chalicelib.webhooks import Sender, WebhookService

Clock = Callable[[], datetime]


class Container:
    """Lazily built, typed services over one store, catalog and settings. Each attribute is
    built once per container (``functools.cached_property``)."""

    def __init__(
        self,
        *,
        store: Store | None = None,
        catalog: Catalog | None = None,
        settings: Settings | None = None,
        clock: Clock | None = None,
        webhook_sender: Sender | None = None,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._settings = settings
        self._clock = clock
        self._webhook_sender = webhook_sender

    @classmethod
    def of(cls, assessments: AssessmentService) -> Container:
        """A container over the parts of an existing assessment service (tests, tools)."""
        return cls(
            store=assessments.store,
            catalog=assessments.catalog,
            settings=assessments.settings,
            clock=assessments.clock,
        )

    def built(self, name: str) -> bool:
        """Whether ``name`` (an attribute of this class) has been built already."""
        return name in vars(self)

    # --- the parts --------------------------------------------------------------------------
    @cached_property
    def store(self) -> Store:
        if self._store is not None:
            return self._store
        from chalicelib.storage import store_from_env

        return store_from_env()

    @cached_property
    def catalog(self) -> Catalog:
        if self._catalog is not None:
            return self._catalog
        from chalicelib.questionnaire import get_catalog

        return get_catalog()

    @cached_property
    def settings(self) -> Settings:
        if self._settings is not None:
            return self._settings
        from chalicelib.config import Settings

        return Settings.from_env()

    @cached_property
    def clock(self) -> Clock:
        if self._clock is not None:
            return self._clock
        from chalicelib.assessments import utcnow

        return utcnow

    # --- use cases --------------------------------------------------------------------------
    @cached_property
    def assessments(self) -> AssessmentService:
        """Questionnaires, scoring, submission, fetching, erasure, drafts."""
        from chalicelib.assessments import AssessmentService

        return AssessmentService(self.store, self.catalog, self.settings, self.clock)

    @cached_property
    def releases(self) -> ReleaseService:
        """Publishing benchmark releases and reading the latest (issue 15)."""
        from chalicelib.release_service import ReleaseService

        return ReleaseService(self.store, self.catalog, self.settings, self.clock)

    @cached_property
    def benchmarks(self) -> BenchmarkService:
        """Cohort statistics, comparison, progress, reference seeding (no scipy)."""
        from chalicelib.benchmarks import BenchmarkService

        return BenchmarkService(
            self.assessments, self.store, self.catalog, self.settings, self.releases
        )

    @cached_property
    def statistics(self) -> ConsultantStatistics:
        """Consultant statistics: scipy is imported by its methods, on first use."""
        from chalicelib.benchmarks import ConsultantStatistics

        return ConsultantStatistics(self.benchmarks)

    @cached_property
    def exports(self) -> ExportService:
        from chalicelib.exports import ExportService

        return ExportService(self.assessments, self.benchmarks, self.catalog)

    @cached_property
    def organisations(self) -> OrganisationService:
        """Organisation workspaces: respondents, combined result, rounds (issue 18)."""
        from typing import cast

        from chalicelib.organisation_service import OrganisationService
        from chalicelib.storage import OrganisationStore

        return OrganisationService(
            cast(OrganisationStore, self.store),
            self.assessments,
            self.settings.secret,
            self.clock,
        )

    @cached_property
    def organisation_roadmaps(self) -> OrganisationRoadmaps:
        """An organisation's target, roadmap, its exports and history (issue 18)."""
        from chalicelib.organisation_roadmap import OrganisationRoadmaps

        return OrganisationRoadmaps(self.organisations, self.exports)

    # --- partners ---------------------------------------------------------------------------
    @cached_property
    def partners(self) -> PartnerService:
        from chalicelib.partners import PartnerService

        return PartnerService(self.store)

    @cached_property
    def webhooks(self) -> WebhookService:
        from chalicelib.webhooks import WebhookService, http_post

        return WebhookService(
            self.store, self.settings.secret, self._webhook_sender or http_post
        )

    @cached_property
    def brandings(self) -> BrandingService:
        from chalicelib.branding import BrandingService

        return BrandingService(self.store)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from chalicelib.ratelimit import RateLimiter

        return RateLimiter(self.store, self.clock)

    @cached_property
    def lists(self) -> PartnerLists:
        """The partner's paged lists; cursors are bound to the installed questionnaires."""
        from chalicelib.listing import PartnerLists

        installed = {
            "questionnaire": {q.id for q in self.catalog.all()},
            "version": {q.version for q in self.catalog.all()},
        }
        return PartnerLists(self.store, self.settings.secret, installed)

"""Models shared by the functions: the HTTP contract (requests, responses) and the stored holder.

Requests forbid unknown fields and use strict types where a wrong type could slip through as a
coercion (a string ``"true"`` is not an attestation). Checks that need the registry or the date
(ID numbers, region codes, coherent dates) live in :mod:`healthcode.usecases.validation`, so every input
problem is reported in one format.

The models live in one module per part of the service, and this package imports a module only when one
of its names is first asked for (PEP 562): a cold start builds the classes its function uses, not all
hundred (verify makes 24 of them). ``from healthcode.models import Holder`` works as before; a new model
goes into its part's module and into :data:`_WHERE` (``tests/unit/test_models_package.py`` checks both).

Annotations in these modules are evaluated as the classes are made (no ``from __future__ import
annotations``): pydantic then reads types, not strings it must evaluate again. A class is defined after
the classes it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE: dict[str, str] = {
    "EntryFailure": "_base",
    "MAX_STAYS": "_base",
    "RegionCode": "_base",
    "Symptom": "_base",
    "Temperature": "_base",
    "WebhookEvent": "_base",
    "FieldProblem": "problems",
    "GatewayMessage": "problems",
    "Problem": "problems",
    "CodeStatus": "checkpoint",
    "VerificationRequest": "checkpoint",
    "VerificationView": "checkpoint",
    "CodeRecord": "records",
    "Delivery": "records",
    "LevelSnapshot": "records",
    "Notice": "records",
    "Partner": "records",
    "SECRET_OVERLAP": "records",
    "Task": "records",
    "Authority": "holder",
    "CauseKind": "holder",
    "ColorChange": "holder",
    "Holder": "holder",
    "QuarantineView": "holder",
    "ReasonView": "holder",
    "StoredCheckin": "holder",
    "StoredContact": "holder",
    "StoredEpisode": "holder",
    "StoredOverride": "holder",
    "StoredReport": "holder",
    "StoredState": "holder",
    "StoredStay": "holder",
    "ApplicationRequest": "resident",
    "CheckinRequest": "resident",
    "CodeView": "resident",
    "DeclaredContact": "resident",
    "DependantCode": "resident",
    "DependantsView": "resident",
    "TokenView": "resident",
    "TravelStay": "resident",
    "AreaRequest": "areas",
    "AreaView": "areas",
    "RulesetListing": "rulesets",
    "RulesetPublishRequest": "rulesets",
    "RulesetView": "rulesets",
    "RulesetsView": "rulesets",
    "ContactReport": "partner",
    "ContactReportsView": "partner",
    "PartnerRequest": "partner",
    "PartnerVerificationRequest": "partner",
    "PartnerVerificationView": "partner",
    "PartnerView": "partner",
    "RegionRisk": "partner",
    "RegionRisksView": "partner",
    "RejectedRegion": "partner",
    "AckTimes": "notices",
    "ColorChangedDetail": "notices",
    "DeliveriesView": "notices",
    "DeliveryView": "notices",
    "NotificationView": "notices",
    "NotificationsView": "notices",
    "RegionLevelDetail": "notices",
    "TaskView": "notices",
    "TasksView": "notices",
    "AreaColorView": "authority",
    "AreaScansView": "authority",
    "AreasView": "authority",
    "CaseEntry": "authority",
    "CaseListRequest": "authority",
    "CaseListView": "authority",
    "CaseStatus": "authority",
    "CheckpointPlaceRequest": "authority",
    "CheckpointPlaceView": "authority",
    "CheckpointScansView": "authority",
    "ColorCounts": "authority",
    "IndexDayView": "authority",
    "IndexView": "authority",
    "IndicatorView": "authority",
    "MapCountyView": "authority",
    "MapView": "authority",
    "ProposalView": "authority",
    "ProposalsView": "authority",
    "ReconciliationView": "authority",
    "RegionLevelRequest": "authority",
    "RegionView": "authority",
    "RescoringRequest": "authority",
    "RescoringView": "authority",
    "RunView": "authority",
    "StatsView": "authority",
    "AppealDecisionRequest": "accountability",
    "AppealFactor": "accountability",
    "AppealRecord": "accountability",
    "AppealRequest": "accountability",
    "AppealStatus": "accountability",
    "AppealView": "accountability",
    "AppealsView": "accountability",
    "AuditDayView": "accountability",
    "AuditRecordView": "accountability",
    "AuditView": "accountability",
    "ColorChangeView": "accountability",
    "Correction": "accountability",
    "HistoryView": "accountability",
    "MAX_OVERRIDE_HOLDERS": "accountability",
    "OverrideCounts": "accountability",
    "OverrideRecord": "accountability",
    "OverrideRequest": "accountability",
    "OverrideStatus": "accountability",
    "OverrideView": "accountability",
    "OverridesView": "accountability",
    "PersonRef": "accountability",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what a type checker sees: every name, as if imported here
    from healthcode.models._base import (
        MAX_STAYS as MAX_STAYS,
    )
    from healthcode.models._base import (
        EntryFailure as EntryFailure,
    )
    from healthcode.models._base import (
        RegionCode as RegionCode,
    )
    from healthcode.models._base import (
        Symptom as Symptom,
    )
    from healthcode.models._base import (
        Temperature as Temperature,
    )
    from healthcode.models._base import (
        WebhookEvent as WebhookEvent,
    )
    from healthcode.models.accountability import (
        MAX_OVERRIDE_HOLDERS as MAX_OVERRIDE_HOLDERS,
    )
    from healthcode.models.accountability import (
        AppealDecisionRequest as AppealDecisionRequest,
    )
    from healthcode.models.accountability import (
        AppealFactor as AppealFactor,
    )
    from healthcode.models.accountability import (
        AppealRecord as AppealRecord,
    )
    from healthcode.models.accountability import (
        AppealRequest as AppealRequest,
    )
    from healthcode.models.accountability import (
        AppealStatus as AppealStatus,
    )
    from healthcode.models.accountability import (
        AppealsView as AppealsView,
    )
    from healthcode.models.accountability import (
        AppealView as AppealView,
    )
    from healthcode.models.accountability import (
        AuditDayView as AuditDayView,
    )
    from healthcode.models.accountability import (
        AuditRecordView as AuditRecordView,
    )
    from healthcode.models.accountability import (
        AuditView as AuditView,
    )
    from healthcode.models.accountability import (
        ColorChangeView as ColorChangeView,
    )
    from healthcode.models.accountability import (
        Correction as Correction,
    )
    from healthcode.models.accountability import (
        HistoryView as HistoryView,
    )
    from healthcode.models.accountability import (
        OverrideCounts as OverrideCounts,
    )
    from healthcode.models.accountability import (
        OverrideRecord as OverrideRecord,
    )
    from healthcode.models.accountability import (
        OverrideRequest as OverrideRequest,
    )
    from healthcode.models.accountability import (
        OverrideStatus as OverrideStatus,
    )
    from healthcode.models.accountability import (
        OverridesView as OverridesView,
    )
    from healthcode.models.accountability import (
        OverrideView as OverrideView,
    )
    from healthcode.models.accountability import (
        PersonRef as PersonRef,
    )
    from healthcode.models.areas import (
        AreaRequest as AreaRequest,
    )
    from healthcode.models.areas import (
        AreaView as AreaView,
    )
    from healthcode.models.authority import (
        AreaColorView as AreaColorView,
    )
    from healthcode.models.authority import (
        AreaScansView as AreaScansView,
    )
    from healthcode.models.authority import (
        AreasView as AreasView,
    )
    from healthcode.models.authority import (
        CaseEntry as CaseEntry,
    )
    from healthcode.models.authority import (
        CaseListRequest as CaseListRequest,
    )
    from healthcode.models.authority import (
        CaseListView as CaseListView,
    )
    from healthcode.models.authority import (
        CaseStatus as CaseStatus,
    )
    from healthcode.models.authority import (
        CheckpointPlaceRequest as CheckpointPlaceRequest,
    )
    from healthcode.models.authority import (
        CheckpointPlaceView as CheckpointPlaceView,
    )
    from healthcode.models.authority import (
        CheckpointScansView as CheckpointScansView,
    )
    from healthcode.models.authority import (
        ColorCounts as ColorCounts,
    )
    from healthcode.models.authority import (
        IndexDayView as IndexDayView,
    )
    from healthcode.models.authority import (
        IndexView as IndexView,
    )
    from healthcode.models.authority import (
        IndicatorView as IndicatorView,
    )
    from healthcode.models.authority import (
        MapCountyView as MapCountyView,
    )
    from healthcode.models.authority import (
        MapView as MapView,
    )
    from healthcode.models.authority import (
        ProposalsView as ProposalsView,
    )
    from healthcode.models.authority import (
        ProposalView as ProposalView,
    )
    from healthcode.models.authority import (
        ReconciliationView as ReconciliationView,
    )
    from healthcode.models.authority import (
        RegionLevelRequest as RegionLevelRequest,
    )
    from healthcode.models.authority import (
        RegionView as RegionView,
    )
    from healthcode.models.authority import (
        RescoringRequest as RescoringRequest,
    )
    from healthcode.models.authority import (
        RescoringView as RescoringView,
    )
    from healthcode.models.authority import (
        RunView as RunView,
    )
    from healthcode.models.authority import (
        StatsView as StatsView,
    )
    from healthcode.models.checkpoint import (
        CodeStatus as CodeStatus,
    )
    from healthcode.models.checkpoint import (
        VerificationRequest as VerificationRequest,
    )
    from healthcode.models.checkpoint import (
        VerificationView as VerificationView,
    )
    from healthcode.models.holder import (
        Authority as Authority,
    )
    from healthcode.models.holder import (
        CauseKind as CauseKind,
    )
    from healthcode.models.holder import (
        ColorChange as ColorChange,
    )
    from healthcode.models.holder import (
        Holder as Holder,
    )
    from healthcode.models.holder import (
        QuarantineView as QuarantineView,
    )
    from healthcode.models.holder import (
        ReasonView as ReasonView,
    )
    from healthcode.models.holder import (
        StoredCheckin as StoredCheckin,
    )
    from healthcode.models.holder import (
        StoredContact as StoredContact,
    )
    from healthcode.models.holder import (
        StoredEpisode as StoredEpisode,
    )
    from healthcode.models.holder import (
        StoredOverride as StoredOverride,
    )
    from healthcode.models.holder import (
        StoredReport as StoredReport,
    )
    from healthcode.models.holder import (
        StoredState as StoredState,
    )
    from healthcode.models.holder import (
        StoredStay as StoredStay,
    )
    from healthcode.models.notices import (
        AckTimes as AckTimes,
    )
    from healthcode.models.notices import (
        ColorChangedDetail as ColorChangedDetail,
    )
    from healthcode.models.notices import (
        DeliveriesView as DeliveriesView,
    )
    from healthcode.models.notices import (
        DeliveryView as DeliveryView,
    )
    from healthcode.models.notices import (
        NotificationsView as NotificationsView,
    )
    from healthcode.models.notices import (
        NotificationView as NotificationView,
    )
    from healthcode.models.notices import (
        RegionLevelDetail as RegionLevelDetail,
    )
    from healthcode.models.notices import (
        TasksView as TasksView,
    )
    from healthcode.models.notices import (
        TaskView as TaskView,
    )
    from healthcode.models.partner import (
        ContactReport as ContactReport,
    )
    from healthcode.models.partner import (
        ContactReportsView as ContactReportsView,
    )
    from healthcode.models.partner import (
        PartnerRequest as PartnerRequest,
    )
    from healthcode.models.partner import (
        PartnerVerificationRequest as PartnerVerificationRequest,
    )
    from healthcode.models.partner import (
        PartnerVerificationView as PartnerVerificationView,
    )
    from healthcode.models.partner import (
        PartnerView as PartnerView,
    )
    from healthcode.models.partner import (
        RegionRisk as RegionRisk,
    )
    from healthcode.models.partner import (
        RegionRisksView as RegionRisksView,
    )
    from healthcode.models.partner import (
        RejectedRegion as RejectedRegion,
    )
    from healthcode.models.problems import (
        FieldProblem as FieldProblem,
    )
    from healthcode.models.problems import (
        GatewayMessage as GatewayMessage,
    )
    from healthcode.models.problems import (
        Problem as Problem,
    )
    from healthcode.models.records import (
        SECRET_OVERLAP as SECRET_OVERLAP,
    )
    from healthcode.models.records import (
        CodeRecord as CodeRecord,
    )
    from healthcode.models.records import (
        Delivery as Delivery,
    )
    from healthcode.models.records import (
        LevelSnapshot as LevelSnapshot,
    )
    from healthcode.models.records import (
        Notice as Notice,
    )
    from healthcode.models.records import (
        Partner as Partner,
    )
    from healthcode.models.records import (
        Task as Task,
    )
    from healthcode.models.resident import (
        ApplicationRequest as ApplicationRequest,
    )
    from healthcode.models.resident import (
        CheckinRequest as CheckinRequest,
    )
    from healthcode.models.resident import (
        CodeView as CodeView,
    )
    from healthcode.models.resident import (
        DeclaredContact as DeclaredContact,
    )
    from healthcode.models.resident import (
        DependantCode as DependantCode,
    )
    from healthcode.models.resident import (
        DependantsView as DependantsView,
    )
    from healthcode.models.resident import (
        TokenView as TokenView,
    )
    from healthcode.models.resident import (
        TravelStay as TravelStay,
    )
    from healthcode.models.rulesets import (
        RulesetListing as RulesetListing,
    )
    from healthcode.models.rulesets import (
        RulesetPublishRequest as RulesetPublishRequest,
    )
    from healthcode.models.rulesets import (
        RulesetsView as RulesetsView,
    )
    from healthcode.models.rulesets import (
        RulesetView as RulesetView,
    )

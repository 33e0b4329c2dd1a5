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
    "Scan": "records",
    "ScanSeenView": "resident",
    "HolderExport": "privacy",
    "ExportView": "privacy",
    "LeaveView": "privacy",
    "ScansSeenView": "resident",
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
    "GuardianshipRequest": "resident",
    "GuardianshipView": "resident",
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
    "RulesetWithdrawalView": "rulesets",
    "RulesetsView": "rulesets",
    "ContactReport": "partner",
    "ContactReportsView": "partner",
    "PartnerRequest": "partner",
    "PartnerVerificationRequest": "partner",
    "PartnerVerificationView": "partner",
    "PartnerView": "partner",
    "ReinstateRequest": "partner",
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
    "TaskAckRequest": "notices",
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
    "AuditDailyDigestView": "accountability",
    "AuditDigestView": "accountability",
    "ColourCheckView": "accountability",
    "ColourCheckRequest": "accountability",
    "ColourFinding": "accountability",
    "AuditDigestsView": "accountability",
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


if TYPE_CHECKING:  # what a type checker and an editor see: every part's names, as if imported here
    from healthcode.models._base import *  # noqa: F403
    from healthcode.models.accountability import *  # noqa: F403
    from healthcode.models.areas import *  # noqa: F403
    from healthcode.models.authority import *  # noqa: F403
    from healthcode.models.checkpoint import *  # noqa: F403
    from healthcode.models.holder import *  # noqa: F403
    from healthcode.models.notices import *  # noqa: F403
    from healthcode.models.partner import *  # noqa: F403
    from healthcode.models.privacy import *  # noqa: F403
    from healthcode.models.problems import *  # noqa: F403
    from healthcode.models.records import *  # noqa: F403
    from healthcode.models.resident import *  # noqa: F403
    from healthcode.models.rulesets import *  # noqa: F403

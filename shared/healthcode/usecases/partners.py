"""Use cases of partner cities: verify our codes, push region risks and contact reports; and the
health authority's registry of partners. Partners see no names and no ID numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from healthcode.errors import Conflict, FieldError, InvalidInput, NotFound
from healthcode.models import (
    SECRET_OVERLAP,
    CaseEntry,
    ContactReport,
    ContactReportsView,
    Partner,
    PartnerRequest,
    PartnerVerificationRequest,
    PartnerVerificationView,
    PartnerView,
    RegionRisk,
    RegionRisksView,
    RejectedRegion,
)
from healthcode.scoring.rules import local_day
from healthcode.usecases.validation import check_entries

if TYPE_CHECKING:
    from healthcode.adapters.base import PartnerDirectory, RulesetStore
    from healthcode.regions import RegionRegistry
    from healthcode.urls import Resolve
    from healthcode.usecases.changes import Changes
    from healthcode.usecases.codecheck import CodeCheck

logger = Logger(child=True)


class PartnerCities:
    def __init__(self, codecheck: CodeCheck, changes: Changes, regions: RegionRegistry, rulesets: RulesetStore) -> None:
        self._check = codecheck
        self._changes = changes
        self._regions = regions
        self._rulesets = rulesets

    def verify(self, req: PartnerVerificationRequest, partner: Partner, now: datetime) -> PartnerVerificationView:
        seen = self._check(req.token, f"partner:{partner.partner_id}", now, f"partner:{partner.partner_id}")
        return PartnerVerificationView(
            decision=seen.decision,
            color=seen.color,
            code_status=seen.code_status,
            checked_at=seen.checked_at,
            degraded=seen.degraded,
        )

    def region_risks(self, risks: list[RegionRisk], partner: Partner, now: datetime) -> RegionRisksView:
        accepted: list[str] = []
        rejected: list[RejectedRegion] = []
        for risk in risks:
            region = self._regions.get(risk.region)
            if region is None:
                rejected.append(RejectedRegion(region=risk.region, reason="unknown region code (GB/T 2260)"))
            elif not partner.covers(risk.region):
                rejected.append(
                    RejectedRegion(
                        region=risk.region, reason=f"outside the partner's jurisdiction ({partner.jurisdiction}…)"
                    )
                )
            else:
                self._changes.set_level(risk.region, None, risk.level, f"partner:{partner.partner_id}", now)
                accepted.append(risk.region)
        return RegionRisksView(accepted=accepted, rejected=rejected)

    def contact_reports(self, reports: list[ContactReport], partner: Partner, now: datetime) -> ContactReportsView:
        entries = [CaseEntry(id_type=r.id_type, id_number=r.id_number, status=r.kind, on=r.on) for r in reports]
        check_entries(entries, local_day(now, self._rulesets.at(now)))
        known, failed = self._changes.record_listings(entries, now, f"contact report by partner {partner.partner_id}")
        logger.info("contact reports recorded", extra={"entries": len(entries), "known": known, "failed": len(failed)})
        return ContactReportsView(accepted=len(entries) - len(failed), known_holders=known, failed=failed)


class PartnerAdmin:
    def __init__(
        self, registry: PartnerDirectory, allow_private_urls: bool = False, resolve: Resolve | None = None
    ) -> None:
        """``allow_private_urls``: the local stack's receivers listen on 127.0.0.1; nowhere else.
        ``resolve``: a registered URL's host is resolved and every address checked (None: literal
        addresses only)."""
        self._registry = registry
        self._allow_private = allow_private_urls
        self._resolve = resolve

    def _check_urls(self, req: PartnerRequest) -> None:
        from healthcode.urls import UnsafeUrl, check_url

        problems = []
        for name in ("jwks_url", "webhook_url"):
            url = getattr(req, name)
            if url is None:
                continue
            try:
                check_url(url, self._allow_private, self._resolve)
            except UnsafeUrl as exc:
                problems.append(FieldError(name, str(exc)))
        if req.webhook_url and not req.webhook_events:
            problems.append(FieldError("webhook_events", "name the events the webhook takes"))
        if req.webhook_events and not req.webhook_url:
            problems.append(FieldError("webhook_url", "required when webhook_events are given"))
        if problems:
            raise InvalidInput("The partner's URLs cannot be used.", problems)

    def register(self, partner_id: str, req: PartnerRequest, now: datetime) -> PartnerView:
        """Create or update a partner; a new partner's secret is returned once. A suspension is a state,
        not a field of the request: an update keeps it (only :meth:`reinstate` lifts it)."""
        self._check_urls(req)
        existing = self._registry.get(partner_id)
        partner = Partner(
            partner_id,
            req.name,
            req.jurisdiction,
            frozenset(req.scopes),
            req.rate_limit_per_minute,
            req.issuer,
            req.jwks,
            req.jwks_url,
            suspended=existing.suspended if existing is not None else False,
            webhook_url=req.webhook_url,
            webhook_events=frozenset(req.webhook_events),
        )
        self._registry.put(partner)
        secret = self._registry.rotate_secret(partner_id, now) if existing is None else None
        logger.info("partner registered", extra={"partner": partner_id, "new": existing is None})
        return self._view(partner, secret=secret)

    def describe(self, partner_id: str) -> dict[str, object] | None:
        """A partner as registered (no secret: none is kept here), for the audit trail; None if unknown."""
        p = self._registry.get(partner_id)
        return None if p is None else self._view(p).model_dump(mode="json", exclude={"secret"})

    def rotate(self, partner_id: str, now: datetime, emergency: bool = False) -> PartnerView:
        """A new secret; the old one stays valid for the overlap, or (``emergency``: it may have leaked)
        stops working at once."""
        partner = self._registry.get(partner_id)
        if partner is None:
            raise NotFound(f"No partner {partner_id}.")
        secret = self._registry.rotate_secret(partner_id, now, grace=not emergency)
        logger.info("partner secret rotated", extra={"partner": partner_id, "emergency": emergency})
        return self._view(partner, secret=secret, previous_until=None if emergency else now + SECRET_OVERLAP)

    def suspend(self, partner_id: str) -> PartnerView:
        """Refuse the partner at once (authorizer and gate read the registry on every request); its
        codes stop being recognised at the next refresh of the trust list (a minute)."""
        partner = self._registry.get(partner_id)
        if partner is None:
            raise NotFound(f"No partner {partner_id}.")
        suspended = replace(partner, suspended=True)
        self._registry.put(suspended)
        logger.info("partner suspended", extra={"partner": partner_id})
        return self._view(suspended)

    def reinstate(self, partner_id: str) -> PartnerView:
        """Lift a suspension (an explicit, audited act: after a leaked secret, rotate it first)."""
        partner = self._registry.get(partner_id)
        if partner is None:
            raise NotFound(f"No partner {partner_id}.")
        if not partner.suspended:
            raise Conflict(f"The partner {partner_id} is not suspended.")
        reinstated = replace(partner, suspended=False)
        self._registry.put(reinstated)
        logger.info("partner reinstated", extra={"partner": partner_id})
        return self._view(reinstated)

    @staticmethod
    def _view(p: Partner, secret: str | None = None, previous_until: datetime | None = None) -> PartnerView:
        return PartnerView(
            partner_id=p.partner_id,
            name=p.name,
            jurisdiction=p.jurisdiction,
            scopes=sorted(p.scopes),
            rate_limit_per_minute=p.rate_limit_per_minute,
            issuer=p.issuer,
            suspended=p.suspended,
            webhook_url=p.webhook_url,
            webhook_events=[e for e in ("color_changed", "region_level_changed") if e in p.webhook_events],
            secret=secret,
            previous_secret_valid_until=previous_until,
        )

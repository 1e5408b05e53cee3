"""The BHYT card in the HIS: a VN Core Coverage, referenced from the visit.

What is written (HL7 Vietnam VN Core draft IG)
----------------------------------------------
``Coverage`` with ``meta.profile`` vn-core-coverage; ``identifier`` in
``his.bhyt_system`` (``…/sid/bhyt``) with the card number — the new card's for
result codes 003/004; ``status`` ``active`` for a usable card, ``cancelled``
for an expired or withdrawn one; ``type`` v3 ActCode ``PUBLICPOL`` (public
health insurance); ``beneficiary`` the Patient; ``payor`` Vietnam Social
Security by identifier (``his.payor_system`` | ``BHXH``) and display;
``period`` from ``gtTheTu``/``gtTheDen``; the registered primary-care
facility as the VN Core extension ``vn-ext-primary-care-facility``, a
``valueReference`` to the facility's Organization by identifier
(``his.facility_system`` | the 5-digit code); the date of 5 years'
continuous participation and the area code as the kiosk's own extensions
``{his.kiosk_namespace}/StructureDefinition/bhyt-five-years-from``
(valueDate) and ``…/bhyt-area-code`` (valueString). Nothing is written for
no such card, a mismatch or no answer (``kiosk.insurance.rules``).

Idempotent: a conditional create keyed by the card identifier (a retry, a
second kiosk or a second visit finds the same Coverage); an existing
Coverage is updated only when its status or period changed, written over what
was read (``fhir_his.guarded_write``: If-Match on its version, or a JSON
Patch with ``test`` operations on a HIS without versions; re-read and compared
again on a conflict). A Coverage with this card number that names another
patient is left alone and reported (``CoverageOfAnotherPatient``): staff must look.

The visit: the Encounter's ``coverage`` extension (``extensions(his).coverage``,
valueReference ``Coverage/{id}``) says "this visit uses this BHYT card"; it is
set the same guarded way only for a visit that is billed to the card (a usable card,
not a fee-paying visit). Why not ``Encounter.account``: in R4 that element
points at an ``Account`` — the billing module's own record of charges, which
in turn lists its coverages. The kiosk does not open or own billing accounts
(the HIS's cashier does, often per episode rather than per visit), and
creating one per check-in just to reach the Coverage would invent financial
state; the extension records exactly what the kiosk knows — which card was
checked for this visit — and statistics read the BHYT share from it directly.

Round trips: the conditional create (one; one more read when the server
answers without a body, one more write when an existing Coverage changed),
then the Encounter read and update (two) when the visit is billed to the card.
"""
from __future__ import annotations

import logging

from fhir_his.client import FhirClient
from fhir_his.guarded_write import write_over
from fhir_his.mapping import extension_value, extensions
from kiosk.config.loader import HisSection
from kiosk.errors import CoverageOfAnotherPatient, HisConflict
from kiosk.insurance.card_check import InsuranceCheck
from kiosk.insurance.rules import coverage_status

log = logging.getLogger(__name__)

PROFILE = "http://fhir.hl7.org.vn/core/StructureDefinition/vn-core-coverage"
PRIMARY_CARE_FACILITY = "http://fhir.hl7.org.vn/core/StructureDefinition/vn-ext-primary-care-facility"
PUBLIC_POLICY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PUBLICPOL",
                             "display": "public healthcare"}], "text": "BHYT"}
PAYOR_CODE, PAYOR_NAME = "BHXH", "Bảo hiểm xã hội Việt Nam"
ATTEMPTS = 5  # compare-and-set rounds before giving up (HisConflict)


def coverage_resource(check: InsuranceCheck, patient_id: str, his: HisSection) -> dict:
    """The Coverage for an answer about a card (``coverage_status`` must not be None)."""
    status = coverage_status(check)
    if status is None or not check.card_number:
        raise ValueError("coverage_resource: this answer records no Coverage")
    own = extensions(his)
    ext = []
    if check.primary_care_facility:
        ext.append({"url": PRIMARY_CARE_FACILITY, "valueReference": {
            "type": "Organization", "identifier": {"system": his.facility_system, "value": check.primary_care_facility}}})
    if check.five_years_from:
        ext.append({"url": own.bhyt_five_years_from, "valueDate": check.five_years_from.isoformat()})
    if check.area_code:
        ext.append({"url": own.bhyt_area_code, "valueString": check.area_code})
    res = {
        "resourceType": "Coverage",
        "meta": {"profile": [PROFILE]},
        "identifier": [{"system": his.bhyt_system, "value": check.card_number}],
        "status": status,
        "type": PUBLIC_POLICY,
        "beneficiary": {"reference": f"Patient/{patient_id}"},
        "payor": [{"type": "Organization", "identifier": {"system": his.payor_system, "value": PAYOR_CODE},
                   "display": PAYOR_NAME}],
    }
    if ext:
        res["extension"] = ext
    period = {k: v.isoformat() for k, v in (("start", check.valid_from), ("end", check.valid_to)) if v}
    if period:
        res["period"] = period
    return res


def _terms(res: dict) -> tuple:
    """What decides whether an existing Coverage must be updated: status and period."""
    period = res.get("period") or {}
    return res.get("status"), (period.get("start") or "")[:10], (period.get("end") or "")[:10]


def write_coverage(client: FhirClient, his: HisSection, check: InsuranceCheck, patient_id: str, *,
                   patch_allowed: bool = True) -> tuple[str, str]:
    """Create or update the card's Coverage; (its id, "created" / "updated" / "unchanged")."""
    wanted = coverage_resource(check, patient_id, his)
    key = f"identifier={his.bhyt_system}|{check.card_number}"
    r = client.create(wanted, if_none_exist=key)
    found = r.body if (r.body or {}).get("resourceType") == "Coverage" and (r.body or {}).get("id") else None
    if r.status == 201:
        if found is None:  # a server that answers without a body: find what it created
            found = _search(client, his, check.card_number)
        return found["id"], "created"
    existing = found or _search(client, his, check.card_number)
    for _ in range(ATTEMPTS):
        owner = (existing.get("beneficiary") or {}).get("reference")
        if owner and owner != f"Patient/{patient_id}":
            raise CoverageOfAnotherPatient("Coverage: the card number is recorded for another patient in the HIS")
        if _terms(existing) == _terms(wanted):
            return existing["id"], "unchanged"
        updated = {**existing, "status": wanted["status"]}
        if "period" in wanted:
            updated["period"] = wanted["period"]
        try:
            write_over(client, existing, updated, patch_allowed=patch_allowed)
            return existing["id"], "updated"
        except HisConflict:
            existing = client.read("Coverage", existing["id"]).body or {}
    raise HisConflict(f"Coverage: still changing after {ATTEMPTS} attempts")


def _search(client: FhirClient, his: HisSection, card_number: str) -> dict:
    found, _ = client.search("Coverage", {"identifier": f"{his.bhyt_system}|{card_number}"})
    if not found:
        raise HisConflict("Coverage: the conditional create matched nothing a search finds")
    return found[0]


def link_encounter(client: FhirClient, his: HisSection, encounter_id: str, coverage_id: str, *,
                   patch_allowed: bool = True) -> bool:
    """Reference the Coverage from the visit (the ``coverage`` extension); True
    when the Encounter was changed, False when it already did."""
    url, ref = extensions(his).coverage, f"Coverage/{coverage_id}"
    for _ in range(ATTEMPTS):
        enc = client.read("Encounter", encounter_id).body or {}
        if (extension_value(enc, url, "valueReference") or {}).get("reference") == ref:
            return False
        changed = {**enc, "extension": [e for e in enc.get("extension") or [] if e.get("url") != url] + [
            {"url": url, "valueReference": {"reference": ref}}]}
        try:
            write_over(client, enc, changed, patch_allowed=patch_allowed)
            return True
        except HisConflict:
            continue
    raise HisConflict(f"Encounter: still changing after {ATTEMPTS} attempts to reference the Coverage")


def record_coverage(client: FhirClient, his: HisSection, encounter_id: str, patient_id: str,
                    check: InsuranceCheck, *, bill: bool, patch_allowed: bool = True) -> str:
    """The Coverage for this answer, and the visit's reference to it when the visit is billed to the card.
    ``patch_allowed``: the HIS takes JSON Patch (its capabilities), for a HIS without versions."""
    coverage_id, outcome = write_coverage(client, his, check, patient_id, patch_allowed=patch_allowed)
    linked = link_encounter(client, his, encounter_id, coverage_id, patch_allowed=patch_allowed) if bill else False
    log.info("coverage recorded", extra={"event": "insurance.coverage", "outcome": outcome, "linked": linked,
                                         "status": check.status.value, "result_code": check.result_code})
    return coverage_id


def coverage_of(enc: dict, his: HisSection) -> str | None:
    """The Coverage id a visit references, if any."""
    ref = (extension_value(enc, extensions(his).coverage, "valueReference") or {}).get("reference") or ""
    return ref.split("/", 1)[1] if ref.startswith("Coverage/") else None

"""Which Encounters are the patient's open visits of today: every one checked
against what was asked, whatever the server's filtering did."""
from __future__ import annotations

from datetime import date

from fhir_his.his import _day_bounds
from fhir_his.mapping import extensions
from fhir_his.open_visits import open_visits
from kiosk.config.loader import HisSection
from tests.helpers import make_config

HIS = HisSection()
START, END = _day_bounds(date(2026, 12, 8), make_config())


def encounter(id_, *, subject="Patient/p1", status="arrived", start="2026-12-08T08:00:00+07:00", dept="NOI",
              number=7):
    ext = extensions(HIS)
    return {"resourceType": "Encounter", "id": id_, "status": status, "subject": {"reference": subject},
            "period": {"start": start},
            "serviceType": {"coding": [{"system": HIS.department_system, "code": dept}]},
            "identifier": [{"system": HIS.checkin_system, "value": f"c-{id_}"}],
            "extension": [{"url": ext.queue_number, "valueInteger": number},
                          {"url": ext.queue_label, "valueString": f"{number:03d}"}]}


def test_only_the_patients_open_visits_of_today_count():
    found = open_visits([
        encounter("ok"),
        encounter("other", subject="Patient/p2"),          # another patient's (a server ignoring subject)
        encounter("group", subject="Group/p1"),             # not a patient at all
        encounter("yesterday", start="2026-12-07T23:59:00+07:00"),  # yesterday in the hospital's time zone
        encounter("tomorrow", start="2026-12-09T00:00:00+07:00"),
        encounter("utc-yesterday", start="2026-12-07T16:59:00Z"),   # 23:59 on the 7th in Hanoi
        encounter("naive", start="2026-12-08T08:00:00"),    # no offset: which day is unknown
        encounter("finished", status="finished"),
        encounter("cancelled", status="cancelled"),
        encounter("wrong", status="entered-in-error"),
        encounter("no-dept", dept=""),
        {"resourceType": "Appointment", "id": "a1", "status": "booked"},
    ], {"p1"}, START, END, HIS, {})
    assert [v.encounter_id for v in found["p1"]] == ["ok"] and set(found) == {"p1"}
    visit = found["p1"][0]
    assert (visit.department_code, visit.queue_number, visit.queue_label, visit.checkin_id) == ("NOI", 7, "007", "c-ok")


def test_triaged_and_in_progress_are_open_and_the_earliest_comes_first():
    found = open_visits([encounter("late", status="in-progress", start="2026-12-08T10:00:00+07:00"),
                         encounter("early", status="triaged", start="2026-12-08T07:00:00+07:00")],
                        {"p1"}, START, END, HIS, {})
    assert [v.encounter_id for v in found["p1"]] == ["early", "late"]

"""The queue service keeps its own copy of the departments (re-read every few
minutes); beneath it the HIS is read afresh, so a room the hospital adds shows
up after one re-read, not after two stacked caches."""
from __future__ import annotations

from app.compose import build_queue_web
from fhir_his.board import FhirBoardHis
from fhir_his.client import FhirClient
from tests.helpers import make_config


def add_department(client: FhirClient, config, code: str) -> None:
    loc = client.create({"resourceType": "Location", "status": "active", "name": f"Phòng {code}",
                         "identifier": [{"system": config.his.room_system, "value": f"{code}-1"}]}).body
    client.create({"resourceType": "HealthcareService", "active": True, "name": f"Khoa {code}",
                   "identifier": [{"system": config.his.department_system, "value": code}],
                   "location": [{"reference": f"Location/{loc['id']}"}]})


def test_the_queue_service_reads_departments_from_the_his_not_from_a_second_cache(fresh_sandbox):
    config = make_config(fresh_sandbox.base_url)
    parts = build_queue_web(config)
    board_his = FhirBoardHis(config)
    writer = FhirClient(config.his)
    try:
        before = {d.code for d in parts.departments()}
        assert before and "MOI" not in before
        assert {d.code for d in board_his.departments()} == before  # a board's own short cache is filled
        add_department(writer, config, "MOI")

        after = {d.code: d for d in parts.departments()}
        assert "MOI" in after and [r.code for r in after["MOI"].rooms] == ["MOI-1"]
        assert "MOI" not in {d.code for d in board_his.departments()}  # cached a few minutes: fine for a board
        assert "MOI" in {d.code for d in board_his.departments(fresh=True)}
    finally:
        writer.close()
        board_his.client.close()
        for close in parts.closers:
            close()

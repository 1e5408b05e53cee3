"""The kept-ticket store behind ``kiosk reprint`` (devices/printer/kept.py): one
file per ticket in the ticket's stored record, files of the previous version read."""
from __future__ import annotations

import dataclasses
import json

from devices.printer.kept import KeptTickets
from kiosk.ticket_record import ticket_from_record
from tests.ticket_records import FULL, OLD_KEPT_FILE


def test_a_kept_ticket_keeps_every_field(tmp_path):
    kept = KeptTickets(tmp_path / "tickets")
    path = kept.keep(FULL)
    assert kept.all() == [FULL] and kept.find(FULL.label) == FULL
    assert kept.find(FULL.reference[:8].upper()).issued_at.utcoffset() == FULL.issued_at.utcoffset()
    assert set(json.loads(path.read_text(encoding="utf-8"))) == {f.name for f in dataclasses.fields(FULL)}


def test_a_file_of_the_previous_version_reads_and_new_files_have_its_shape(tmp_path):
    folder = tmp_path / "tickets"
    folder.mkdir()
    (folder / "5d0f3c2a-8b7e-4c1d-a9f2-3e4b5c6d7e80.json").write_text(OLD_KEPT_FILE, encoding="utf-8")
    kept = KeptTickets(folder)
    ticket = kept.find("012")
    assert ticket == ticket_from_record(json.loads(OLD_KEPT_FILE))
    assert ticket.people_ahead == 5 and ticket.insurance_status == "valid" and ticket.priority is None
    path = kept.keep(ticket)  # written again: byte for byte what the previous version wrote
    assert path.read_text(encoding="utf-8") == OLD_KEPT_FILE


def test_unreadable_files_are_skipped_and_unknown_keys_ignored(tmp_path):
    folder = tmp_path / "tickets"
    kept = KeptTickets(folder)
    kept.keep(FULL)
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    (folder / "partial.json").write_text('{"label": "013"}', encoding="utf-8")
    later = {**json.loads(OLD_KEPT_FILE), "label": "014", "added_by_a_later_version": True}
    (folder / "later.json").write_text(json.dumps(later), encoding="utf-8")
    assert sorted(t.label for t in kept.all()) == ["014", FULL.label]

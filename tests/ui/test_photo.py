"""The chip's face image is shown whether the card stores JPEG or JPEG 2000."""
import io

import pytest
from PIL import Image

from ui.screens.visit import photo_pixmap


@pytest.mark.parametrize("fmt", ["JPEG", "JPEG2000"])
def test_photo_formats_of_the_chip_are_shown(qapp, fmt):
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (180, 150, 120)).save(out, fmt)
    pixmap = photo_pixmap(out.getvalue())
    assert pixmap is not None and (pixmap.width(), pixmap.height()) == (60, 80)


def test_garbage_photo_is_left_out(qapp):
    assert photo_pixmap(b"not an image") is None and photo_pixmap(None) is None


def test_the_confirm_screen_decodes_a_chip_photo_once_and_forgets_it_when_cleared(qapp, monkeypatch):
    """The screen renders again at each answer (the BHYT check, a tick): the JPEG 2000
    is decoded once per identity, and nothing of it stays after the patient leaves."""
    import dataclasses
    from types import SimpleNamespace

    from kiosk.domain import Assurance, Identity, IdentitySource
    from ui.screens import visit

    out = io.BytesIO()
    Image.new("RGB", (60, 80), (180, 150, 120)).save(out, "JPEG2000")
    decoded = []
    real = visit.photo_pixmap
    monkeypatch.setattr(visit, "photo_pixmap", lambda data: decoded.append(1) or real(data))
    identity = Identity(citizen_id="001093012345", source=IdentitySource.CHIP, assurance=Assurance.CHIP_VERIFIED,
                        full_name="NGUYỄN VĂN AN", photo=out.getvalue())
    journey = SimpleNamespace(identity=identity, insurance_shown=None, coverage=None)
    ctx = SimpleNamespace(reader_state="ready")
    screen = visit.ConfirmScreen(lambda ev: None)
    for _ in range(3):
        screen.render(journey, ctx)
    assert len(decoded) == 1 and not screen.photo.isHidden() and not screen.photo.pixmap().isNull()
    screen.clear()
    assert screen._photo_of is None and screen._photo_decoded is None and screen.photo.pixmap().isNull()
    screen.render(SimpleNamespace(identity=dataclasses.replace(identity, photo=None), insurance_shown=None,
                                  coverage=None), ctx)
    assert screen.photo.isHidden()

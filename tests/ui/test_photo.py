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

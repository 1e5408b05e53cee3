"""Image files as camera sources: refused before decoding when too large, and
never decoded as half an image.

``check_image_file(path, max_pixels, max_bytes)`` reads the file's header
(Pillow reads only the header on open) and refuses an image of more than
``camera.max_image_pixels`` (width × height), or a file of more than
``camera.max_image_bytes``, before any decoder allocates it — a 10000×10000 PNG would take ~800 MB in OpenCV. It then decodes the file
once with Pillow, which raises on a truncated or corrupt file, so OpenCV (which
returns the readable half of a truncated JPEG with a warning on stderr) is
never handed one. Files Pillow does not know (video files) are left to OpenCV.
"""
from __future__ import annotations

import os
import warnings

from devices.camera.errors import CameraUnavailable, safe_source


class ImageFileRefused(CameraUnavailable):
    """An image file that is too large, truncated or corrupt."""


def check_image_file(path: str | os.PathLike, max_pixels: int,
                     max_bytes: int | None = None) -> tuple[int, int] | None:
    """(width, height) of an image file that may be decoded, None for a
    file that is not an image Pillow knows (e.g. a video). Raises
    ``ImageFileRefused`` naming the file and what is wrong."""
    from PIL import Image, UnidentifiedImageError

    label = safe_source(str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)  # header only
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError:
        raise ImageFileRefused(f"image file is too large: {label} (more than camera.max_image_pixels = "
                               f"{max_pixels:,} pixels)") from None
    except OSError as exc:
        raise ImageFileRefused(f"image file cannot be read: {label} ({exc.strerror or type(exc).__name__})") from None
    with image:
        width, height = image.size
        size = _file_size(path)
        if max_bytes and size > max_bytes:
            raise ImageFileRefused(f"image file is too large: {label} is {size:,} bytes, more than "
                                   f"camera.max_image_bytes = {max_bytes:,}")
        if width * height > max_pixels:
            raise ImageFileRefused(f"image file is too large: {label} is {width}×{height} = "
                                   f"{width * height:,} pixels, more than camera.max_image_pixels = {max_pixels:,}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                image.load()  # raises on a truncated or corrupt file (LOAD_TRUNCATED_IMAGES stays False)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            what = "truncated" if "truncat" in str(exc).lower() else "corrupt"
            raise ImageFileRefused(f"image file is {what}: {label} ({_short(exc)})") from None
    return width, height


def _file_size(path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}"

"""Typed camera errors and their patient messages.

Technical texts name the configured source (with any URL password removed),
never a decoded payload."""
from __future__ import annotations

import re

from kiosk.errors import KioskError


class CameraError(KioskError):
    patient_message_key = "error.camera_unavailable"


class CameraUnavailable(CameraError):
    """The configured source (camera.source) cannot be opened."""


class CameraLost(CameraError):
    """The source was open but no frame arrived within camera.frame_timeout_s."""


class EndOfStream(CameraError):
    """A video or image file source has no more frames (and is not looped)."""


def safe_source(spec: str) -> str:
    """The source as it may appear in logs: a URL's user:password removed."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1***@", str(spec))

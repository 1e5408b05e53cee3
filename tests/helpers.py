"""Shared test helpers."""
from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path

from kiosk.config.loader import Config, config_from_dict
from kiosk.domain import CheckInRequest, Identity


def make_config(base_url: str = "http://127.0.0.1:9/fhir/R4", **sections) -> Config:
    """A validated Config pointing at ``base_url``; ``sections`` are
    ``name={key: value}`` overrides, e.g. ``printer={"driver": "simulator"}``."""
    raw = {name: dict(values) for name, values in sections.items()}
    raw.setdefault("his", {}).setdefault("base_url", base_url)
    raw["his"].setdefault("connect_timeout_s", 2.0)
    raw["his"].setdefault("read_timeout_s", 10.0)
    return config_from_dict(raw, source="(test)")


def request_for(identity: Identity, department: str | None = None, checkin_id: str | None = None,
                **kw) -> CheckInRequest:
    return CheckInRequest(checkin_id=checkin_id or str(uuid.uuid4()), identity=identity,
                          department_code=department, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def docs_images() -> Path:
    """Where tests save the pictures they render: the README's docs/images/ when
    KIOSK_UPDATE_DOCS=1 (`make screenshots`), otherwise a scratch folder, so a
    plain test run never changes tracked files."""
    if os.environ.get("KIOSK_UPDATE_DOCS") == "1":
        path = Path(__file__).resolve().parent.parent / "docs" / "images"
    else:
        path = Path(tempfile.gettempdir()) / "kiosk-test-images"
    path.mkdir(parents=True, exist_ok=True)
    return path

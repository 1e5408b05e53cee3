"""Following a ticket on a phone: the link printed in the ticket's QR code.

With ``[queue_web] public_base_url`` set, every ticket carries
``{public_base_url}/t/{token}``. The token needs no database shared by the
kiosks and the queue server: it holds the check-in id (a random UUID, not
personal data) and the day, signed with HMAC-SHA256 under a secret that both
read from ``[queue_web] token_secret_file``:

    token = base64url( version | day | check-in id | HMAC(secret, version | day | id)[:16] )

(48 characters for a UUID.) Nobody can make a valid token without the secret,
guess one (128-bit id and 128-bit tag), or read anything personal from it.
A token is valid on its day only (the hospital's timezone): it expires at
midnight. The queue server verifies the token and finds the visit by its
check-in identifier through ``VisitFinder`` (``FhirHis.find_visit``, which only reads), never by
anything the phone sends besides the token.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import os
import secrets
import uuid
from datetime import date
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from kiosk.config.secret_files import read_secret as read_secret_file
from kiosk.domain import CheckInResult, Department
from kiosk.errors import ConfigError
from kiosk.ports import RecordedVisit

_CONTEXT = b"kiosk-follow-v1"
_TAG_BYTES = 16
_UUID_ID = 1  # the id is a UUID, stored as its 16 bytes
_TEXT_ID = 2  # any other id (``kiosk checkin --checkin-id``), stored as UTF-8
MAX_TEXT_ID = 64
MAX_TOKEN_CHARS = 160
MIN_SECRET_CHARS = 32


class VisitFinder(Protocol):
    """What the phone page asks of the HIS (``fhir_his.his.FhirHis`` has both; both only read)."""

    def find_visit(self, checkin_id: str) -> RecordedVisit | None:
        """The visit recorded for a check-in id, or None (not in the HIS yet)."""
        ...

    def list_departments(self, *, refresh: bool = False) -> list[Department]: ...


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes as 64 hex digits."""
    return secrets.token_hex(32)


def write_secret(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Create the secret file with mode 0600 (refuses to replace one unless ``overwrite``)."""
    file = Path(path).expanduser()
    if file.exists() and not overwrite:
        raise ConfigError(f"{file} exists already; copy that file to the kiosks, or replace it with --force "
                          "(tickets printed before then stop opening)")
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(new_secret() + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, file)
    return file


def read_secret(path: str) -> bytes:
    """The secret from its file (mode 0600 or stricter, never shown anywhere)."""
    secret = read_secret_file("queue_web.token_secret_file", path, "the secret (kiosk queue-server --new-secret)")
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"queue_web.token_secret_file: expected at least {MIN_SECRET_CHARS} characters of "
                          f"secret, got {len(secret)} (kiosk queue-server --new-secret writes a good one)")
    return secret.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    if not text or len(text) > MAX_TOKEN_CHARS or not all(c.isalnum() or c in "-_" for c in text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


class FollowTokens:
    """Makes and checks ticket tokens with one secret."""

    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("the signing secret is too short")
        self._secret = secret

    def __repr__(self) -> str:  # never the secret
        return "FollowTokens(<secret>)"

    @classmethod
    def from_file(cls, path: str) -> "FollowTokens":
        return cls(read_secret(path))

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, _CONTEXT + payload, hashlib.sha256).digest()[:_TAG_BYTES]

    def make(self, checkin_id: str, day: date) -> str:
        try:
            kind, body = _UUID_ID, uuid.UUID(checkin_id).bytes
        except ValueError:
            kind, body = _TEXT_ID, checkin_id.encode("utf-8")
            if not body or len(body) > MAX_TEXT_ID:
                raise ValueError(f"a check-in id of 1 to {MAX_TEXT_ID} bytes is needed for a ticket link") from None
        payload = bytes([kind]) + day.toordinal().to_bytes(3, "big") + body
        return _b64(payload + self._tag(payload))

    def check(self, token: str, today: date) -> str | None:
        """The check-in id of a valid token of ``today``; None for anything
        else (unknown, tampered, signed with another secret, another day)."""
        raw = _unb64(token)
        if raw is None or len(raw) < 4 + 1 + _TAG_BYTES:
            return None
        payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(payload)):
            return None
        kind, day, body = payload[0], int.from_bytes(payload[1:4], "big"), payload[4:]
        if day != today.toordinal():
            return None  # expired at the end of its day (or not yet valid)
        if kind == _UUID_ID and len(body) == 16:
            return str(uuid.UUID(bytes=body))
        if kind == _TEXT_ID and 0 < len(body) <= MAX_TEXT_ID:
            return body.decode("utf-8", errors="replace")
        return None


class FollowLinks:
    """``{public_base_url}/t/{token}`` for a check-in of a given day."""

    def __init__(self, base_url: str, tokens: FollowTokens):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens

    def url_for(self, checkin_id: str, day: date) -> str:
        return f"{self.base_url}/t/{self.tokens.make(checkin_id, day)}"


class FollowLinkStage:
    """The check-in pipeline's last stage: the follow-up link on each ticket
    (the QR code printed on it and ``kiosk checkin --json``'s
    ``ticket.follow_url``). Online and offline tickets alike: an offline visit
    shows on the phone once it has reached the HIS."""

    def __init__(self, links: FollowLinks, timezone: str):
        self.links = links
        self.tz = ZoneInfo(timezone)

    def add_link(self, result: CheckInResult) -> CheckInResult:
        ticket = result.ticket
        url = self.links.url_for(ticket.reference, ticket.issued_at.astimezone(self.tz).date())
        return dataclasses.replace(result, ticket=dataclasses.replace(ticket, follow_url=url))


def follow_links(queue_web) -> FollowLinks | None:
    """The links for ``[queue_web]`` settings, or None when ``public_base_url`` is not set."""
    if not queue_web.public_base_url:
        return None
    return FollowLinks(queue_web.public_base_url, FollowTokens.from_file(queue_web.token_secret_file))

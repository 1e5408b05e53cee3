"""Signing in to the HIS, as production FHIR servers require (``his.auth``).

- ``none``; ``bearer`` (a token from ``his.token_file``); ``basic``
  (``his.username`` + ``his.password_file``);
- ``client_credentials``: OAuth2 client credentials, the secret from
  ``his.client_secret_file`` sent as ``client_secret_basic`` or
  ``client_secret_post`` (``his.client_secret_method``);
- ``smart_backend``: SMART Backend Services — a JWT client assertion
  (``private_key_jwt``) signed RS384 or ES384 with ``his.private_key_file``:
  ``iss`` = ``sub`` = ``his.client_id``, ``aud`` = the token endpoint, a fresh
  ``jti``, ``exp`` 4 minutes ahead (SMART allows at most 5).

The token endpoint is ``his.token_url``, else ``token_endpoint`` of
``{base}/.well-known/smart-configuration``, else the ``token`` URI of the
CapabilityStatement's oauth-uris extension. An access token is kept until
shortly before it expires; a 401 renews it once (the FHIR client then repeats
the request once) and a second 401 is a clear refusal. Secrets and tokens are
never logged and never in error texts.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid

import requests

from fhir_his.bodies import read_body
from kiosk.config.his_settings import key_algorithm, read_secret
from kiosk.config.loader import HisSection
from kiosk.config.secret_files import SecretFile
from kiosk.errors import ConfigError, HisBadReply, HisRefused, HisUnavailable
from kiosk.operations.logs import redact

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
ASSERTION_LIFETIME_S = 240  # SMART Backend Services: exp at most 5 minutes ahead
MAX_TOKEN_CHARS = 16384  # a longer "access token" is not one (it would go into every request's header)
EARLY_RENEWAL_S = 60.0  # renew this long before expiry (at most a tenth of the token's life)


class SignIn:
    """No credentials (``his.auth = "none"``)."""

    kind = "none"

    def headers(self) -> dict:
        """The Authorization header(s) of the next request."""
        return {}

    def renew(self) -> bool:
        """After a 401: get a new credential; True when there is one to try."""
        return False

    def refusal_hint(self) -> str:
        return "the HIS wants credentials: set his.auth and its keys (see README, Connecting your HIS)"


class BearerSignIn(SignIn):
    kind = "bearer"

    def __init__(self, his: HisSection):
        self.his = his
        self._file = SecretFile("his.token_file", his.token_file) if his.token_file else None

    def headers(self) -> dict:
        token = self._file.value() if self._file else self.his.token
        return {"Authorization": f"Bearer {token}"}

    def refusal_hint(self) -> str:
        return "the bearer token was refused: ask the HIS team for a valid one (his.token_file)"


class BasicSignIn(SignIn):
    kind = "basic"

    def __init__(self, his: HisSection):
        self.his = his
        self._file = SecretFile("his.password_file", his.password_file) if his.password_file else None

    def headers(self) -> dict:
        password = self._file.value() if self._file else self.his.password
        raw = f"{self.his.username}:{password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}

    def refusal_hint(self) -> str:
        return "his.username / his.password_file were refused: check them with the HIS team"


class TokenSignIn(SignIn):
    """OAuth2 client credentials (secret or SMART private-key JWT), token cached."""

    def __init__(self, his: HisSection, *, verify: bool | str = True):
        self.his = his
        self.kind = his.auth
        self.verify = verify
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._token: str | None = None
        self._renew_at = 0.0
        self._token_url: str | None = his.token_url or None
        self.token_requests = 0

    # -- the token ---------------------------------------------------------------------
    def headers(self) -> dict:
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def renew(self) -> bool:
        with self._lock:
            self._token = None
            self._fetch()
            return True

    def refusal_hint(self) -> str:
        secret = "his.client_secret_file" if self.kind == "client_credentials" else "his.private_key_file"
        return (f"the HIS refused a fresh access token: check that his.client_id and {secret} are the ones "
                "registered with the HIS, and the scopes in his.scope")

    def token_url(self) -> str:
        with self._lock:
            return self._endpoint()

    def _timeout(self):
        return (self.his.connect_timeout_s, self.his.read_timeout_s)

    def _endpoint(self) -> str:
        if self._token_url:
            return self._token_url
        base = self.his.base_url.rstrip("/")
        found = None
        try:
            r = self._session.get(f"{base}/.well-known/smart-configuration", verify=self.verify, stream=True,
                                  timeout=self._timeout(), headers={"Accept": "application/json"})
            self._read(r, "sign-in: smart-configuration")
            if r.status_code == 200:
                found = _json(r, "smart-configuration").get("token_endpoint")
            if not found:
                r = self._session.get(f"{base}/metadata", verify=self.verify, timeout=self._timeout(),
                                      stream=True, headers={"Accept": "application/fhir+json"})
                self._read(r, "sign-in: metadata")
                if r.status_code == 200:
                    found = oauth_token_uri(_json(r, "metadata"))
        except requests.exceptions.RequestException as exc:
            raise HisUnavailable(f"sign-in: {type(exc).__name__} looking for the token endpoint") from None
        if not isinstance(found, str) or not found.startswith(("https://", "http://")):
            raise HisRefused("sign-in: no token endpoint in {base}/.well-known/smart-configuration or /metadata: "
                             "set his.token_url")
        self._token_url = found
        return found

    def _fetch(self) -> None:
        url = self._endpoint()
        form = {"grant_type": "client_credentials"}
        if self.his.scope:
            form["scope"] = self.his.scope
        auth = None
        if self.kind == "client_credentials":
            secret = read_secret("his.client_secret_file", self.his.client_secret_file)
            if self.his.client_secret_method == "post":
                form.update(client_id=self.his.client_id, client_secret=secret)
            else:
                auth = (self.his.client_id, secret)
        else:
            form.update(client_assertion_type=ASSERTION_TYPE, client_assertion=self._assertion(url))
        self.token_requests += 1
        try:
            r = self._session.post(url, data=form, auth=auth, verify=self.verify, timeout=self._timeout(),
                                   stream=True, headers={"Accept": "application/json"})
            self._read(r, "sign-in: token endpoint")
        except requests.exceptions.RequestException as exc:
            raise HisUnavailable(f"sign-in: {type(exc).__name__} talking to the token endpoint") from None
        if r.status_code >= 500:
            raise HisUnavailable(f"sign-in: the token endpoint answered {r.status_code}")
        body = _json(r, "token endpoint")
        if r.status_code != 200:
            error = str(body.get("error") or r.status_code)[:40]
            why = redact(str(body.get("error_description") or ""))[:160]
            raise HisRefused(f"sign-in: the token endpoint refused the kiosk ({error}{': ' + why if why else ''}); "
                             f"{self.refusal_hint()}", status=r.status_code)
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise HisBadReply("sign-in: the token endpoint's answer has no usable access_token")
        lifetime = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else 300.0
        self._token = token
        self._renew_at = time.monotonic() + lifetime - min(EARLY_RENEWAL_S, lifetime / 10)
        log.info("HIS access token received", extra={"event": "his.token", "lifetime_s": round(lifetime)})

    def _assertion(self, audience: str) -> str:
        import jwt  # PyJWT, the kept library for JWTs

        algorithm = key_algorithm(self.his.private_key_file, self.his.signing_algorithm)
        key = read_secret("his.private_key_file", self.his.private_key_file)
        now = int(time.time())
        claims = {"iss": self.his.client_id, "sub": self.his.client_id, "aud": audience,
                  "jti": str(uuid.uuid4()), "iat": now, "exp": now + ASSERTION_LIFETIME_S}
        headers = {"kid": self.his.key_id} if self.his.key_id else None
        try:
            return jwt.encode(claims, key, algorithm=algorithm, headers=headers)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"his.private_key_file: cannot sign the client assertion ({type(exc).__name__})") \
                from None

    def _read(self, r: requests.Response, what: str) -> None:
        """Read ``r``'s body bounded (``fhir_his.bodies``): ``AnswerRefused`` when too large or too slow."""
        r._content = read_body(r, self.his, what)

    def close(self) -> None:
        self._session.close()


def _json(r: requests.Response, what: str) -> dict:
    try:
        body = json.loads(r.content or b"")
    except ValueError:
        raise HisBadReply(f"sign-in: the {what} answer is not JSON "
                          f"({(r.headers.get('Content-Type') or 'no type')[:40]})") from None
    if not isinstance(body, dict):
        raise HisBadReply(f"sign-in: the {what} answer is not a JSON object")
    return body


def oauth_token_uri(capability: dict) -> str | None:
    """The ``token`` URI of a CapabilityStatement's oauth-uris extension."""
    for rest in capability.get("rest") or []:
        for ext in ((rest.get("security") or {}).get("extension") or []) if isinstance(rest, dict) else []:
            if isinstance(ext, dict) and ext.get("url") == OAUTH_URIS:
                for sub in ext.get("extension") or []:
                    if isinstance(sub, dict) and sub.get("url") == "token":
                        return sub.get("valueUri") or sub.get("valueUrl")
    return None


def build_sign_in(his: HisSection, *, verify: bool | str = True) -> SignIn:
    if his.auth == "bearer":
        return BearerSignIn(his)
    if his.auth == "basic":
        return BasicSignIn(his)
    if his.auth in ("client_credentials", "smart_backend"):
        return TokenSignIn(his, verify=verify)
    return SignIn()

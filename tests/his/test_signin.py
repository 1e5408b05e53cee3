"""Sign-in as production FHIR servers require, against the sandbox's token
profile with real keys made here: OAuth2 client credentials (secret basic /
post) and SMART Backend Services (private_key_jwt, RS384 and ES384); the
token cached and renewed on 401 once; secrets only in files, never logged."""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.sandbox import SandboxHis
from fhir_his.client import FhirClient
from fhir_his.his import FhirHis
from fhir_his.signin import ASSERTION_TYPE, oauth_token_uri
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import CheckInRequest
from kiosk.errors import ConfigError, HisRefused
from tests.helpers import make_config
from tests.his.recorder import start_recorder

pytestmark = pytest.mark.integration


def secret_file(tmp_path, name: str, text: str, mode: int = 0o600):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return str(path)


def key_pair(kind: str, kid: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "RS384" \
        else ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    algo = jwt.algorithms.RSAAlgorithm if kind == "RS384" else jwt.algorithms.ECAlgorithm
    jwk = {**algo.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": kind, "use": "sig"}
    return pem, jwk


@pytest.fixture(scope="module")
def keys():
    return {kind: key_pair(kind, f"kiosk-{kind.lower()}") for kind in ("RS384", "ES384")}


@pytest.fixture(scope="module")
def sandbox(keys):
    clients = [{"client_id": f"kiosk-{kind.lower()}", "jwks": {"keys": [jwk]}} for kind, (_, jwk) in keys.items()]
    with SandboxHis(profile="token", clients=clients) as s:
        yield s


def check_in(config, key="ngoc", dept="NOI"):
    his = FhirHis(config)
    try:
        service = CheckInService(his, SystemClock(), config)
        return service.check_in(CheckInRequest(str(uuid.uuid4()), person_identity(demo_person(key)), dept)), his
    finally:
        his.close()


@pytest.mark.parametrize("method", ["basic", "post"])
def test_client_credentials_secret_basic_and_post(sandbox, tmp_path, method):
    client = sandbox.demo_client
    cfg = make_config(sandbox.base_url, his={
        "auth": "client_credentials", "client_id": client["client_id"], "client_secret_method": method,
        "client_secret_file": secret_file(tmp_path, "secret", client["client_secret"] + "\n")})
    before = sandbox.stats()["tokenRequests"]["granted"]
    result, his = check_in(cfg)
    assert result.encounter_id and result.mode == "online"
    stats = sandbox.stats()
    assert stats["tokenRequests"]["granted"] == before + 1  # one token for the whole check-in
    assert his.client.sign_in.token_requests == 1


@pytest.mark.parametrize("kind", ["RS384", "ES384"])
def test_smart_backend_services_private_key_jwt(sandbox, keys, tmp_path, kind):
    pem, jwk = keys[kind]
    cfg = make_config(sandbox.base_url, his={
        "auth": "smart_backend", "client_id": f"kiosk-{kind.lower()}", "key_id": jwk["kid"],
        "private_key_file": secret_file(tmp_path, "key.pem", pem)})
    result, his = check_in(cfg, "huong", "MAT")
    assert result.encounter_id and result.mode == "online"
    # the assertion the kiosk signs: what SMART Backend Services asks for
    signin = his.client.sign_in
    token_url = signin.token_url()
    assert token_url == sandbox.token_url  # discovered from .well-known/smart-configuration
    made = signin._assertion(token_url)
    header = jwt.get_unverified_header(made)
    public = jwt.algorithms.get_default_algorithms()[kind].from_jwk(json.dumps(jwk))
    claims = jwt.decode(made, public, algorithms=[kind], audience=token_url)
    assert header["alg"] == kind and header["kid"] == jwk["kid"]
    assert claims["iss"] == claims["sub"] == f"kiosk-{kind.lower()}"
    assert 0 < claims["exp"] - time.time() <= 300 and claims["jti"] != jwt.decode(
        signin._assertion(token_url), public, algorithms=[kind], audience=token_url)["jti"]


def test_token_is_renewed_once_on_401_and_before_it_expires(keys, tmp_path):
    pem, jwk = keys["ES384"]
    with SandboxHis(profile="token", token_ttl_s=3, seed=False,
                    clients=[{"client_id": "short", "jwks": {"keys": [jwk]}}]) as s:
        cfg = make_config(s.base_url, his={"auth": "smart_backend", "client_id": "short",
                                           "private_key_file": secret_file(tmp_path, "k.pem", pem)})
        client = FhirClient(cfg.his)
        try:
            client.search("Patient", {"_count": "1"})
            client.search("Patient", {"_count": "1"})
            assert client.sign_in.token_requests == 1  # cached
            s.expire_tokens()  # the HIS forgets every token: 401, a new token, the request once more
            s.reset_stats()
            client.search("Patient", {"_count": "1"})
            stats = s.stats()
            assert stats["byKind"].get("unauthorized") == 1 and client.sign_in.token_requests == 2
            assert stats["byStatus"] == {"401": 1, "200": 1}
            time.sleep(3.1)  # past its lifetime: renewed before use, no 401
            s.reset_stats()
            client.search("Patient", {"_count": "1"})
            assert s.stats()["byKind"].get("unauthorized") is None and client.sign_in.token_requests == 3
        finally:
            client.close()


class AlwaysRefused(ThreadingHTTPServer):
    """A HIS whose token endpoint grants tokens that its FHIR API then refuses."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Refusing)
        self.fhir_requests = 0
        self.token_requests = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server_address[1]}/fhir"


class _Refusing(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 - the token endpoint
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.token_requests += 1
        self._send(200, {"access_token": f"t-{self.server.token_requests}", "token_type": "bearer",
                         "expires_in": 3600})

    def do_GET(self):  # noqa: N802 - the FHIR API
        self.server.fhir_requests += 1
        self._send(401, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]})


def test_a_second_401_after_a_fresh_token_is_a_clear_refusal(tmp_path):
    srv = AlwaysRefused()
    try:
        cfg = make_config(srv.base, his={"auth": "client_credentials", "client_id": "kiosk",
                                         "token_url": f"http://127.0.0.1:{srv.server_address[1]}/token",
                                         "client_secret_file": secret_file(tmp_path, "s", "top-secret-value")})
        client = FhirClient(cfg.his)
        with pytest.raises(HisRefused, match="after a fresh token") as exc:
            client.search("Patient", {})
        assert srv.fhir_requests == 2 and srv.token_requests == 2  # renewed once, then refused
        assert "his.client_id" in str(exc.value) and "top-secret-value" not in str(exc.value)
        client.close()
    finally:
        srv.shutdown()


def test_wrong_secret_is_refused_naming_the_keys_never_the_secret(sandbox, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    cfg = make_config(sandbox.base_url, his={"auth": "client_credentials", "client_id": "kiosk-demo",
                                             "client_secret_file": secret_file(tmp_path, "s", "wrong-secret-42")})
    with pytest.raises(HisRefused) as exc:
        check_in(cfg)
    text = str(exc.value)
    assert "invalid_client" in text and "his.client_secret_file" in text and "wrong-secret-42" not in text


def test_secrets_and_tokens_never_reach_the_logs(sandbox, keys, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    pem, jwk = keys["RS384"]
    secret = sandbox.demo_client["client_secret"]
    for his in ({"auth": "client_credentials", "client_id": "kiosk-demo",
                 "client_secret_file": secret_file(tmp_path, "s", secret)},
                {"auth": "smart_backend", "client_id": "kiosk-rs384", "private_key_file": secret_file(tmp_path, "k", pem)}):
        result, used = check_in(make_config(sandbox.base_url, his=his))
        assert result.encounter_id
    token = sandbox.get_token()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    pem_body = pem.splitlines()[1]
    for needle in (secret, pem_body, token[:20], "Bearer "):
        assert needle not in logged


def test_token_endpoint_from_the_capability_statement(sandbox):
    client = FhirClient(make_config(sandbox.base_url).his)
    try:
        assert oauth_token_uri(client.capabilities()) == sandbox.token_url
    finally:
        client.close()
    assert ASSERTION_TYPE == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_secret_files_systemd_credentials_and_permissions(sandbox, tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir()
    secret_file(creds, "his-client-secret", sandbox.demo_client["client_secret"])
    his = {"auth": "client_credentials", "client_id": "kiosk-demo",
           "client_secret_file": "$CREDENTIALS_DIRECTORY/his-client-secret"}
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    cfg = make_config(sandbox.base_url, his=his)  # outside the service: loads, checked where used
    with pytest.raises(ConfigError, match="CREDENTIALS_DIRECTORY"):
        FhirClient(cfg.his).search("Patient", {"_count": "1"})
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    result, _ = check_in(make_config(sandbox.base_url, his=his))
    assert result.encounter_id
    loose = secret_file(tmp_path, "loose", "x", mode=0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        make_config(sandbox.base_url, his={**his, "client_secret_file": loose})
    with pytest.raises(ConfigError, match="his.private_key_file"):
        make_config(sandbox.base_url, his={"auth": "smart_backend", "client_id": "x",
                                           "private_key_file": secret_file(tmp_path, "notakey", "hello")})


@pytest.mark.parametrize("auth", ["bearer", "basic"])
def test_a_secret_file_is_read_when_it_changes_not_for_every_request(tmp_path, monkeypatch, auth):
    import base64

    from kiosk.config import secret_files

    server = start_recorder()  # records each request's Authorization header
    secret = tmp_path / "his-secret"
    secret.write_text("first-secret\n")
    secret.chmod(0o600)
    key = "token_file" if auth == "bearer" else "password_file"
    his_settings = {"auth": auth, key: str(secret), **({"username": "kiosk"} if auth == "basic" else {})}
    reads = []
    real_read = secret_files.read_secret
    monkeypatch.setattr(secret_files, "read_secret", lambda *a, **k: reads.append(a[0]) or real_read(*a, **k))

    def expected(value: str) -> str:
        return f"Bearer {value}" if auth == "bearer" else \
            "Basic " + base64.b64encode(f"kiosk:{value}".encode()).decode()

    his = FhirHis(make_config(server.url, his=his_settings))
    try:
        for _ in range(5):
            his.ping()
        assert [h.get("Authorization") for _, _, h in server.requests] == [expected("first-secret")] * 5 and len(reads) == 1  # read once, used five times
        secret.write_text("rotated-secret-longer\n")  # the HIS team rotates it: used at the next request
        his.ping()
        assert server.requests[-1][2].get("Authorization") == expected("rotated-secret-longer") and len(reads) == 2
        secret.chmod(0o644)  # no longer private: refused at once, naming the key, never the secret
        with pytest.raises(ConfigError) as refused:
            his.ping()
        assert f"his.{key}" in str(refused.value) and "secret" not in str(refused.value).replace(str(secret), "")
        secret.unlink()
        with pytest.raises(ConfigError, match=f"his.{key}"):
            his.ping()
        assert len(server.requests) == 6  # nothing was sent without a usable secret
    finally:
        his.close()
        server.shutdown()

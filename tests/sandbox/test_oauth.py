"""The token profile: client credentials (secret basic/post, SMART Backend
Services private_key_jwt RS384/ES384) and bearer tokens on every request."""
from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from app.sandbox import SandboxHis
from tests.sandbox.conftest import Fhir

pytestmark = pytest.mark.integration

ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SECRET_CLIENT = {"client_id": "front-desk", "client_secret": "s3cret:with+odd/chars"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(n: int, size: int | None = None) -> str:
    return _b64(n.to_bytes(size or (n.bit_length() + 7) // 8, "big"))


def rsa_jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "alg": "RS384", "n": _int(pub.n), "e": _int(pub.e)}


def ec_jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "EC", "kid": kid, "alg": "ES384", "crv": "P-384", "x": _int(pub.x, 48), "y": _int(pub.y, 48)}


def make_jwt(key, alg: str, claims: dict, kid: str) -> str:
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    if alg == "RS384":
        sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA384())
    else:  # JWS form of ECDSA: raw r || s, 48 bytes each for P-384
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA384())))
        sig = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    return f"{signing_input.decode()}.{_b64(sig)}"


KEYS = {"RS384": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES384": ec.generate_private_key(ec.SECP384R1())}
JWK_CLIENTS = {"RS384": ("backend-rsa", rsa_jwk(KEYS["RS384"], "rsa-1")),
               "ES384": ("backend-ec", ec_jwk(KEYS["ES384"], "ec-1"))}


@pytest.fixture(scope="module")
def his():
    with SandboxHis(port=0, seed=True, profile="token", clients=[SECRET_CLIENT]) as sandbox:
        for client_id, jwk in JWK_CLIENTS.values():
            sandbox.register_client({"client_id": client_id, "jwks": {"keys": [jwk]}})
        yield sandbox


def _claims(his, client_id, **over):
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": his.token_url, "exp": now + 240, "jti": str(uuid.uuid4())}
    claims.update(over)
    return claims


def _assertion_request(his, assertion: str, client_id: str | None = None):
    data = {"grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion_type": ASSERTION,
            "client_assertion": assertion}
    if client_id:
        data["client_id"] = client_id
    return requests.post(his.token_url, data=data, timeout=10)


def _works(his, token: str) -> bool:
    r = Fhir(his, token).get("Patient", {"_count": "1"})
    return r.status_code == 200 and r.json()["total"] > 0  # the seeded patients


def test_discovery_needs_no_token(his):
    anon = Fhir(his)
    meta = anon.get("metadata")
    assert meta.status_code == 200
    security = meta.json()["rest"][0]["security"]
    oauth = next(e for e in security["extension"]
                 if e["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")
    assert {"url": "token", "valueUri": his.token_url} in oauth["extension"]
    smart = anon.get(".well-known/smart-configuration")
    assert smart.status_code == 200 and smart.json()["token_endpoint"] == his.token_url
    assert "private_key_jwt" in smart.json()["token_endpoint_auth_methods_supported"]


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_fhir_requests_without_a_valid_token_are_401(his, token):
    r = Fhir(his, token).get("Patient")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer") and 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_client_secret_basic_and_post(his):
    basic = requests.post(his.token_url, auth=(SECRET_CLIENT["client_id"], SECRET_CLIENT["client_secret"]),
                          data={"grant_type": "client_credentials", "scope": "system/*.rs"}, timeout=10)
    assert basic.status_code == 200
    body = basic.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["scope"] == "system/*.rs"
    assert _works(his, body["access_token"])
    post = requests.post(his.token_url, timeout=10, data={"grant_type": "client_credentials", **SECRET_CLIENT})
    assert post.status_code == 200 and _works(his, post.json()["access_token"])
    assert _works(his, his.get_token())  # the launcher's demo client


@pytest.mark.parametrize("how", ["basic", "post"])
def test_wrong_secret_is_refused(his, how):
    if how == "basic":
        r = requests.post(his.token_url, auth=(SECRET_CLIENT["client_id"], "wrong"), timeout=10,
                          data={"grant_type": "client_credentials"})
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    else:
        r = requests.post(his.token_url, timeout=10, data={"grant_type": "client_credentials",
                                                            "client_id": SECRET_CLIENT["client_id"], "client_secret": "x"})
        assert r.status_code == 400
    assert r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_private_key_jwt_assertions(his, alg):
    client_id, _ = JWK_CLIENTS[alg]
    r = _assertion_request(his, make_jwt(KEYS[alg], alg, _claims(his, client_id), JWK_CLIENTS[alg][1]["kid"]), client_id)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "bearer" and _works(his, r.json()["access_token"])


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_bad_assertions_are_refused(his, alg):
    client_id, jwk = JWK_CLIENTS[alg]
    other_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg == "RS384"
                 else ec.generate_private_key(ec.SECP384R1()))
    now = int(time.time())
    cases = {
        "bad signature": make_jwt(other_key, alg, _claims(his, client_id), jwk["kid"]),
        "wrong aud": make_jwt(KEYS[alg], alg, _claims(his, client_id, aud=his.base_url), jwk["kid"]),
        "expired": make_jwt(KEYS[alg], alg, _claims(his, client_id, exp=now - 10), jwk["kid"]),
        "exp too far": make_jwt(KEYS[alg], alg, _claims(his, client_id, exp=now + 900), jwk["kid"]),
        "sub differs": make_jwt(KEYS[alg], alg, _claims(his, client_id, sub="someone"), jwk["kid"]),
    }
    for why, assertion in cases.items():
        r = _assertion_request(his, assertion)
        assert r.status_code == 400 and r.json()["error"] == "invalid_client", why
    replayed = make_jwt(KEYS[alg], alg, _claims(his, client_id), jwk["kid"])
    assert _assertion_request(his, replayed).status_code == 200
    again = _assertion_request(his, replayed)
    assert again.status_code == 400 and "jti" in again.json()["error_description"]


def test_token_requests_are_counted(his):
    his.reset_stats()
    his.get_token()
    requests.post(his.token_url, auth=("front-desk", "nope"), data={"grant_type": "client_credentials"}, timeout=10)
    Fhir(his).get("Patient")
    stats = his.stats()
    assert stats["tokenRequests"] == {"total": 2, "granted": 1, "refused": 1}
    assert stats["byKind"]["unauthorized"] == 1


def test_expired_tokens_are_refused(his):
    token = his.get_token()
    assert _works(his, token)
    assert his.expire_tokens() >= 1
    r = Fhir(his, token).get("Patient")
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_token_lifetime_comes_from_token_ttl(start_sandbox):
    his = start_sandbox(profile="token", token_ttl_s=1)
    r = requests.post(his.token_url, auth=(his.demo_client["client_id"], his.demo_client["client_secret"]),
                      data={"grant_type": "client_credentials"}, timeout=10)
    assert r.json()["expires_in"] == 1
    token = r.json()["access_token"]
    deadline = time.monotonic() + 30  # a bound for a loaded machine, not a timing assertion
    status = None
    while time.monotonic() < deadline:
        status = Fhir(his, token).get("Patient").status_code
        if status == 401:
            break
        time.sleep(0.2)
    assert status == 401

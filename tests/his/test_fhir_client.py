"""The FHIR client's transport rules, against a small recording HTTP(S) server on loopback."""
from __future__ import annotations

import datetime as dt
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fhir_his.client import FhirClient
from kiosk.errors import HisBadReply, HisConflict, HisOutcomeUnknown, HisRefused, HisUnavailable
from tests.helpers import make_config
from tests.his.recorder import start_recorder


@pytest.fixture
def server():
    srv = start_recorder()
    yield srv
    srv.shutdown()


def client_for(url, **his):
    his.setdefault("retries", 2)
    return FhirClient(make_config(url, his=his).his)


def test_get_is_retried_on_5xx_but_a_plain_post_is_not(server):
    server.statuses = [503]
    client_for(server.url).search("Patient", {"identifier": "x|1"})
    assert [r[0] for r in server.requests] == ["GET", "GET"]
    server.requests.clear()
    server.statuses = [503]
    with pytest.raises(HisUnavailable):
        client_for(server.url).request("POST", "Task", json_body={"resourceType": "Task"})
    assert len(server.requests) == 1


def test_a_write_answered_5xx_is_never_sent_again_blindly(server):
    """A 5xx (or a lost answer) after a write leaves its outcome unknown: the
    client says so and the caller looks up what it made before writing again."""
    server.statuses = [502, 201]
    with pytest.raises(HisOutcomeUnknown):
        client_for(server.url).create({"resourceType": "Patient"}, if_none_exist="identifier=s|v")
    assert len(server.requests) == 1
    assert server.requests[0][2]["If-None-Exist"] == "identifier=s|v"
    assert server.requests[0][2]["Prefer"] == "return=representation"


def test_update_sends_if_match_and_412_is_a_conflict(server):
    server.statuses = [412]
    with pytest.raises(HisConflict):
        client_for(server.url).update({"resourceType": "Basic", "id": "1"}, if_match="7")
    assert server.requests[0][2]["If-Match"] == 'W/"7"'


def test_bearer_and_basic_auth(server):
    client_for(server.url, auth="bearer", token="s3cret").search("Patient", {})
    assert server.requests[-1][2]["Authorization"] == "Bearer s3cret"
    client_for(server.url, auth="basic", username="kiosk", password="pw").search("Patient", {})
    assert server.requests[-1][2]["Authorization"].startswith("Basic ")


def test_auth_refusal_names_the_setting(server):
    server.statuses = [401]
    with pytest.raises(HisRefused, match="his.auth") as exc:
        client_for(server.url).search("Patient", {"identifier": "sys|001093012345"})
    assert "001093012345" not in str(exc.value)  # query values never reach error texts


def _tls_files(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test hospital CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    srv_key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(srv_key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                           critical=False).sign(key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(pem) + srv_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return tmp_path / "ca.pem", tmp_path / "server.pem"


def test_tls_with_configured_ca_bundle(server, tmp_path):
    ca, server_pem = _tls_files(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(server_pem)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with pytest.raises(HisUnavailable, match="TLS verification failed"):
        client_for(server.url, retries=0).search("Patient", {})
    client_for(server.url, ca_bundle=str(ca)).search("Patient", {})
    assert server.requests[-1][0] == "GET"


def test_connection_refused_is_unavailable():
    with pytest.raises(HisUnavailable, match="ConnectionError"):
        client_for("http://127.0.0.1:9/fhir", retries=0).search("Patient", {})


FHIR = "application/fhir+json"


def _json(value) -> tuple[str, bytes]:
    return FHIR, json.dumps(value).encode()


@pytest.mark.parametrize("answer, words", [
    (("text/html", b"<html><body>Gateway</body></html>"), "not JSON (text/html)"),
    (_json({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}),
     "got an OperationOutcome (exception)"),
    (_json({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": "Patient"}}]}),
     "entry 0 (Patient) has no id"),
    (_json({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"id": "1"}}]}),
     "entry 0 has no resourceType"),
    (_json(["not", "a", "resource"]), "JSON that is not a FHIR resource"),
    ((FHIR, b'{"resourceType": "Bundle", "entry": [{'), "not JSON"),
])
def test_a_search_answer_that_is_not_a_searchset_is_a_bad_reply(server, answer, words):
    server.bodies = [answer, answer]  # the read is retried once, then given up
    with pytest.raises(HisBadReply, match=words.replace("(", r"\(").replace(")", r"\)")):
        client_for(server.url, retries=1).search("Patient", {"identifier": "s|001093012345"})
    assert len(server.requests) == 2


def test_a_resource_of_another_type_is_a_bad_reply(server):
    server.bodies = [_json({"resourceType": "Patient", "id": "p1"})]
    with pytest.raises(HisBadReply, match="expected a Encounter, got Patient"):
        client_for(server.url, retries=0).read("Encounter", "e1")


def test_a_write_answered_with_something_else_may_have_happened(server):
    server.statuses = [201]
    server.bodies = [_json({"resourceType": "Bundle", "type": "searchset"})]
    with pytest.raises(HisOutcomeUnknown, match="answered 201 with Bundle"):
        client_for(server.url).create({"resourceType": "Encounter"}, if_none_exist="identifier=s|v")
    server.statuses = [200]
    server.bodies = [("text/html", b"<html>proxy</html>")]
    with pytest.raises(HisOutcomeUnknown, match="not JSON"):
        client_for(server.url).transaction([{"fullUrl": "urn:uuid:0", "request": {"method": "GET", "url": "x"}}])
    assert len(server.requests) == 2  # neither was sent again


def test_writes_ask_for_the_representation_and_never_send_a_blind_version(server):
    server.statuses = [201]
    server.bodies = [(FHIR, b"")]
    r = client_for(server.url).create({"resourceType": "Patient"})
    assert r.body is None and server.requests[0][2]["Prefer"] == "return=representation"
    for missing in (None, "", "None"):
        with pytest.raises(ValueError):
            client_for(server.url).update({"resourceType": "Appointment", "id": "a1"}, if_match=missing)
    assert len(server.requests) == 1


def test_a_department_search_answered_with_garbage_means_the_his_is_not_answering(server):
    """Not "department unknown": HisBadReply is a HisUnavailable, so the kiosk uses its cache."""
    from fhir_his.his import FhirHis

    statement = {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": [{"mode": "server"}]}
    server.bodies = [_json(statement), ("text/html", b"<html>login</html>"), ("text/html", b"<html>login</html>")]
    his = FhirHis(make_config(server.url, his={"retries": 1, "capabilities": {"include": True}}))
    with pytest.raises(HisUnavailable) as exc:
        his.list_departments()
    assert isinstance(exc.value, HisBadReply) and "GET HealthcareService" in str(exc.value)


def test_a_resource_with_unexpected_content_is_a_bad_reply_not_a_traceback(server):
    from datetime import date

    from fhir_his.his import FhirHis

    odd = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "name": "NGUYỄN VĂN A", "birthDate": 19800304}}]}
    server.bodies = [_json(odd)]
    his = FhirHis(make_config(server.url, his={"retries": 0, "capabilities": {"revinclude": True}}))
    with pytest.raises(HisBadReply, match="Patient search: a resource with unexpected content"):
        his.lookup_patient("001093012345", date(2026, 1, 5))


def test_short_lived_threads_borrow_sessions_and_leave_none_behind(server, monkeypatch):
    """The probe pings from a new thread every few seconds and a board button runs on a thread of
    its own: sessions are lent per request, so threads never pile up sessions (and connections)."""
    import requests

    made = []

    class Counted(requests.Session):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(requests, "Session", Counted)
    client = client_for(server.url)
    for _ in range(40):  # one thread after another, as the probe's pings
        t = threading.Thread(target=lambda: client.request("GET", "metadata", retries=0))
        t.start()
        t.join(10)
    assert len(made) == 1 and len(client._idle) == 1  # one session served them all
    barrier = threading.Barrier(8)

    def together():
        barrier.wait(10)
        client.request("GET", "Patient", retries=0)

    threads = [threading.Thread(target=together) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(made) <= 8 and len(client._idle) <= FhirClient.KEEP_IDLE  # the extra ones were closed
    assert len(server.requests) == 48
    client.close()
    assert client._idle == []

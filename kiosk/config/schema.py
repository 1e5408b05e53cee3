"""The config file's sections: one dataclass per ``[section]``, one field per key.

A field's type annotation and its ``choices`` / ``check`` metadata say what is
accepted; ``doc`` is the one-line help the sample config repeats. Loading,
the checks across sections and the search order live in ``kiosk.config.loader``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.config.his_settings import DEFAULT_SCOPE, capability_overrides
from kiosk.insurance import outcomes as bhyt

VN_CORE = "http://fhir.hl7.org.vn/core/sid"


def _opt(default, *, choices=None, check=None, doc="", private=False):
    meta = {"choices": choices, "check": check, "doc": doc, "private": private}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def _upto(limit, low=0.0):
    """Greater than ``low`` and at most ``limit`` (timeouts and intervals have
    an upper bound: a typo such as 30000 instead of 30 is caught at load)."""
    return lambda v: low < v <= limit or f"a number greater than {low:g} and at most {limit:g}"


def _upto0(limit):
    return lambda v: 0 <= v <= limit or f"a number from 0 to {limit:g}"


def _timezone(v):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "an IANA time zone such as Asia/Ho_Chi_Minh"
    return True


def _url(v):
    return bool(re.match(r"^https?://[^\s/]+", v)) or "an http(s) URL such as https://his.example.vn/fhir"


DEFAULT_NAMESPACE = "https://patient-kiosk.example.org/fhir"  # documented placeholder: `kiosk doctor` warns

# The kiosk's own identifier systems: config key -> name under {kiosk_namespace}/sid/.
OWN_SYSTEMS = {"checkin_system": "checkin-id", "queue_system": "queue-number", "counter_system": "queue-counter",
               "department_system": "department", "room_system": "room", "booking_system": "booking-code",
               "patient_code_system": "patient-code", "facility_system": "facility-code", "payor_system": "payor"}


def _https_base(v):
    return (bool(re.match(r"^https://[^\s/]+(/\S*)?$", v)) and not v.endswith("/")
            or "an https URL your hospital controls, without a trailing /, e.g. https://fhir.benhvien.vn/kiosk")


def _system(v):
    """An identifier system: a URL, or a registered URN (urn:oid:, urn:uuid:)."""
    return (bool(re.match(r"^(https?://[^\s/]+\S*|urn:oid:[0-2](\.\d+)+|urn:uuid:[0-9a-f-]{36})$", v))
            or "an http(s) URL (or urn:oid: / urn:uuid:) — a made-up urn: such as urn:kiosk: is not a "
               "registered namespace")


def _system_or_default(v):
    return v == "" or _system(v)


@dataclass
class KioskSection:
    id: str = _opt("KIOSK-01", check=lambda v: bool(re.match(r"^[A-Za-z0-9_.-]{1,32}$", v))
                   or "1-32 letters, digits, '-', '_' or '.'", doc="name of this kiosk in logs and the HIS")
    hospital_name: str = _opt("BỆNH VIỆN ĐA KHOA TỈNH")
    language: str = _opt("vi", choices=("vi", "en"))
    timezone: str = _opt("Asia/Ho_Chi_Minh", check=_timezone)
    idle_timeout_s: float = _opt(30.0, check=_upto(3600))
    data_dir: str = _opt("", doc="folder for the local database and kept tickets; default: platform data dir")
    offline_number_base: int = _opt(0, check=lambda v: 0 <= v <= 10_990_000
                                     or "0, or 1,000,000 + k × 10,000 with k = 1–999 (e.g. 1010000 for slot 1)",
                                     doc="first offline queue number of this kiosk's reserved range (0 = derived from kiosk id)")
    flow: str = _opt("short", choices=("short", "step_by_step"),
                     doc="short: identity, appointment or departments and priority on one screen; step_by_step: one each")
    speech: bool = _opt(False, doc="each patient starts with spoken guidance on")
    large_text: bool = _opt(False, doc="each patient starts with large text and high contrast")
    patient_code_prefix: str = _opt("BN-", check=lambda v: bool(re.fullmatch(r"[A-Za-z0-9\-./]{0,10}", v))
                                    or "up to 10 letters, digits, '-', '.' or '/'",
                                    doc="put before the digits typed as a patient code (mã bệnh nhân)")
    repeat_visits: str = _opt("refuse", choices=("refuse", "allow"),
                              doc="a second check-in the same day for a department where the patient's visit is "
                                  "still open: refuse = show and reprint the number they have (no second visit); "
                                  "allow = a new visit and number")


@dataclass
class HisSection:
    base_url: str = _opt("http://127.0.0.1:8080/fhir/R4", check=_url)
    connect_timeout_s: float = _opt(3.0, check=_upto(120))
    read_timeout_s: float = _opt(10.0, check=_upto(600))
    retries: int = _opt(2, check=_upto0(10))
    request_deadline_s: float = _opt(30.0, check=_upto(900),
                                     doc="longest one HIS request may take in all, its body included (a body that "
                                         "trickles or never ends is cut: the HIS is then not answering properly)")
    max_answer_bytes: int = _opt(8 * 1024 * 1024, check=lambda v: 65_536 <= v <= 268_435_456
                                 or "a number of bytes from 65536 (64 KB) to 268435456 (256 MB)",
                                 doc="largest HIS answer read (one search page: the kiosk asks for pages of "
                                     "at most 1000 resources); more is refused unread")
    auth: str = _opt("none", choices=("none", "bearer", "basic", "client_credentials", "smart_backend"),
                     doc="sign-in: none, bearer (token_file), basic (username + password_file), client_credentials "
                         "(OAuth2: client_id + client_secret_file), smart_backend (SMART Backend Services: "
                         "client_id + private_key_file)")
    token: str = _opt("", private=True, doc="old: the bearer token written in this file; use token_file")
    token_file: str = _opt("", doc="file holding only the bearer token (mode 0600; $CREDENTIALS_DIRECTORY works)")
    username: str = _opt("")
    password: str = _opt("", private=True, doc="old: the basic-auth password written in this file; use password_file")
    password_file: str = _opt("", doc="file holding only the basic-auth password (mode 0600)")
    client_id: str = _opt("", doc="OAuth2 client id of this kiosk (client_credentials, smart_backend)")
    client_secret_file: str = _opt("", doc="file holding only the OAuth2 client secret (mode 0600)")
    client_secret_method: str = _opt("basic", choices=("basic", "post"),
                                     doc="how the secret is sent: basic (client_secret_basic) or post (client_secret_post)")
    private_key_file: str = _opt("", doc="PEM private key (RSA, or EC P-384) registered with the HIS (smart_backend)")
    signing_algorithm: str = _opt("auto", choices=("auto", "RS384", "ES384"),
                                  doc="JWT signature of the client assertion; auto = RS384 for an RSA key, ES384 for EC")
    key_id: str = _opt("", doc="kid of the registered public key (smart_backend), when the HIS asks for one")
    token_url: str = _opt("", check=lambda v: v == "" or _url(v),
                          doc="OAuth2 token endpoint; \"\" = from {base}/.well-known/smart-configuration or /metadata")
    scope: str = _opt(DEFAULT_SCOPE, doc="scopes asked for with each token")
    queue_numbers: str = _opt("counter", choices=("counter", "his"),
                              doc="who numbers the visits: his (the HIS, at registration) or counter (a versioned "
                                  "daily counter the kiosks share in the HIS)")
    capabilities: dict = _opt({}, check=capability_overrides,
                              doc="overrides of what /metadata declares or a probe finds, e.g. { transaction = false }")
    verify_tls: bool = _opt(True)
    ca_bundle: str = _opt("", doc="path to a PEM CA bundle for the HIS's TLS certificate")
    kiosk_namespace: str = _opt(DEFAULT_NAMESPACE, check=_https_base,
                                doc="https base URL the hospital controls: the kiosk's own identifier systems are "
                                    "{base}/sid/NAME and its extensions {base}/StructureDefinition/NAME")
    cccd_system: str = _opt(f"{VN_CORE}/cccd", check=_system)
    bhyt_system: str = _opt(f"{VN_CORE}/bhyt", check=_system)
    # "" = {kiosk_namespace}/sid/<name>; set them to the HIS's own systems where it has them.
    checkin_system: str = _opt("", check=_system_or_default)
    queue_system: str = _opt("", check=_system_or_default)
    counter_system: str = _opt("", check=_system_or_default)
    department_system: str = _opt("", check=_system_or_default)
    room_system: str = _opt("", check=_system_or_default)
    booking_system: str = _opt("", check=_system_or_default,
                               doc="Appointment.identifier system of the booking codes printed in appointment QR codes")
    patient_code_system: str = _opt("", check=_system_or_default,
                                    doc="Patient.identifier system of the hospital patient code (mã bệnh nhân)")
    facility_system: str = _opt("", check=_system_or_default,
                                doc="Organization.identifier system of the 5-digit health facility codes (mã CSKCB) "
                                    "that BHYT Coverages name as the registered primary-care facility")
    payor_system: str = _opt("", check=_system_or_default,
                             doc="identifier system of the payor (BHXH) on BHYT Coverages")

    def __post_init__(self):
        base = self.kiosk_namespace.rstrip("/")
        for name, sid in OWN_SYSTEMS.items():
            if not getattr(self, name):
                setattr(self, name, f"{base}/sid/{sid}")


@dataclass
class InsuranceSection:
    gateway: str = _opt("none", choices=("bhxh", "simulator", "none"),
                        doc="BHYT card check: the BHXH gateway, the gateway simulator (sandbox_bhxh) or none")
    base_url: str = _opt("https://egw.baohiemxahoi.gov.vn", check=_url, doc="gateway base URL (before /api/...)")
    username: str = _opt("", doc="the hospital's gateway account")
    password_file: str = _opt("", doc="file holding only the gateway password, mode 0600 or stricter")
    staff_name: str = _opt("", doc="name of the staff member registered with BHXH for lookups (hoTenCb)")
    staff_cccd: str = _opt("", check=lambda v: v == "" or bool(re.fullmatch(r"[0-9]{12}", v))
                           or "12 digits (the staff member's CCCD number)", doc="that staff member's CCCD (cccdCb)",
                           private=True)
    facility_code: str = _opt("", check=lambda v: v == "" or bool(re.fullmatch(r"[0-9]{5}", v))
                              or "5 digits (mã cơ sở KCB)", doc="this hospital's facility code, compared with maDKBD")
    timeout_s: float = _opt(15.0, check=lambda v: 0 < v <= 120 or "a number of seconds, more than 0 and at most 120",
                            doc="longest a patient waits for the gateway")
    recheck_after_s: float = _opt(900.0, check=lambda v: 0 <= v <= 86400 or "a number ≥ 0 and at most 86400",
                                  doc="a card checked today is not asked again within this time (0 = always ask)")
    outcomes: dict = _opt({}, check=bhyt.table_problem,
                          doc="[insurance.outcomes]: what each BHYT outcome means here, outcome = action "
                              "(" + "; ".join(f"{o}: {'/'.join(a)}" for o, a in bhyt.ALLOWED.items()) + ")")
    on_invalid: str = _opt("", check=lambda v: v in ("", *bhyt.ON_INVALID_CHOICES)
                           or "counter or fee (or \"\": not set)",
                           doc="old name: sets every invalid-card outcome of [insurance.outcomes] to counter or fee "
                               "(the table wins where both are given)")
    retry_base_s: float = _opt(60.0, check=_upto(86400),
                               doc="a check that could not be made is asked again after this long; doubles per try")
    retry_max_s: float = _opt(1800.0, check=_upto(7 * 86400), doc="longest delay between two tries of a queued check")
    max_attempts: int = _opt(12, check=_upto(10_000),
                             doc="tries of a queued check before it becomes a dead letter (admin screen, kiosk doctor)")

    def policy(self) -> dict[str, str]:
        """The whole outcome table: defaults, then ``on_invalid``, then ``[insurance.outcomes]``."""
        return bhyt.policy(self.outcomes, self.on_invalid)


@dataclass
class CardReaderSection:
    driver: str = _opt("simulator", choices=("pcsc", "simulator", "none"))
    reader: str = _opt("", doc="part of the PC/SC reader name; empty = first reader")
    timeout_s: float = _opt(15.0, check=_upto(300))
    trust_store: str = _opt("", doc="folder of CSCA certificates (PEM/DER) for passive authentication")
    extended_length: str = _opt("auto", choices=("auto", "on", "off"),
                                doc="extended-length APDUs: auto = when the card's ATR announces them")
    poll_interval_s: float = _opt(0.25, check=_upto(10), doc="how often the reader thread checks for card/reader changes")


NOTICE_MAX = 600  # characters in an override of the welcome screen's notice: a few lines, not a policy


def _notice_text(v):
    return len(v) <= NOTICE_MAX or f"at most {NOTICE_MAX} characters (a few lines; the full notice goes behind notice_url)"


def _notice_url(v):
    return v == "" or (len(v) <= 300 and bool(re.match(r"^https?://[^\s/]+\S*$", v))) \
        or "an http(s) URL of at most 300 characters (the QR code on the welcome screen), or \"\" for no QR"


@dataclass
class PrivacySection:
    """What the patient is told before the card is read (Law 91/2025/QH15 on personal data)."""

    notice_url: str = _opt("", check=_notice_url,
                           doc="the hospital's full privacy notice, shown as a QR code on the welcome screen (\"\" = no QR)")
    notice_vi: str = _opt("", check=_notice_text, doc="the short notice in Vietnamese (\"\" = the catalogue's text)")
    notice_en: str = _opt("", check=_notice_text, doc="the short notice in English (\"\" = the catalogue's text)")
    consent: str = _opt("notice", choices=("notice", "tap"),
                        doc="notice: the notice on the welcome screen; tap: also an explicit agree / refuse tap "
                            "before the card is read")
    read_photo: bool = _opt(False, doc="read the chip's face photo (sensitive data) to show once on the confirm "
                                       "screen; never stored")


@dataclass
class CameraSection:
    driver: str = _opt("simulator", choices=("opencv", "simulator", "none"))
    source: str = _opt("0", doc="device index, /dev/videoN, URL, or a video/image file")
    width: int = _opt(1280, check=_upto(16384))
    height: int = _opt(720, check=_upto(16384))
    appointment_pattern: str = _opt(r"^(?:APPT[:\-])?(?P<code>LH[A-Za-z0-9\-]{4,40})$",
                                    doc="regular expression for appointment QR codes; group 'code' is the booking code")
    patient_code_pattern: str = _opt(r"^(?P<code>BN-[0-9]{4,10}(?:-[A-Z]{1,4})?)$",
                                     doc="patient code on old slips (Code 128 or QR); group 'code' is looked up")
    frame_timeout_s: float = _opt(3.0, check=_upto(60), doc="no frame for this long = camera lost")
    reconnect_s: float = _opt(2.0, check=_upto(300), doc="wait between attempts to reopen a lost camera")
    repeat_after_s: float = _opt(3.0, check=_upto(600),
                                 doc="a code out of view this long is reported again when shown again")
    max_image_pixels: int = _opt(40_000_000, check=_upto(500_000_000),
                                 doc="largest image file (width × height, read from its header before decoding) "
                                     "that kiosk scan-image and file sources decode")
    max_image_bytes: int = _opt(64 * 1024 * 1024, check=lambda v: 1024 <= v <= 2 * 1024 ** 3
                                or "a number of bytes from 1024 to 2147483648 (2 GB)",
                                doc="largest image file (bytes on disk) that kiosk scan-image and file sources "
                                    "decode; video files are not limited by it")
    roi: list = _opt([], check=lambda v: v == [] or (len(v) == 4 and all(isinstance(x, (int, float)) for x in v)
                                                     and 0 <= v[0] < v[2] <= 1 and 0 <= v[1] < v[3] <= 1)
                     or "[] (whole frame) or [x0, y0, x1, y1] fractions of the frame, e.g. [0.2, 0.1, 0.8, 0.9]",
                     doc="region of the frame to decode")


@dataclass
class PrinterSection:
    driver: str = _opt("simulator", choices=("escpos", "simulator", "none"))
    connection: str = _opt("", doc="usb:VID:PID, network:HOST:PORT, serial:/dev/ttyUSB0:BAUD or file:/dev/usb/lp0",
                           check=lambda v: v == "" or bool(re.match(
                               r"^(usb:(0x)?[0-9a-fA-F]{1,4}:(0x)?[0-9a-fA-F]{1,4}(:(0x)?[0-9a-fA-F]{1,4}"
                               r":(0x)?[0-9a-fA-F]{1,4})?|network:[^:\s]+(:\d{1,5})?|serial:\S+|file:\S+)$", v))
                           or "usb:VID:PID (hex), network:HOST:PORT, serial:DEVICE:BAUD or file:PATH")
    profile: str = _opt("TM-T20II", doc="python-escpos printer profile (paper width, cutter), e.g. TM-T20II, POS-5890")
    dot_width: int = _opt(576, choices=(384, 512, 576), doc="384 for 58 mm paper, 512 or 576 for 80 mm")
    timeout_s: float = _opt(10.0, check=_upto(120))
    status_timeout_s: float = _opt(1.0, check=_upto(30), doc="how long to wait for each status reply")
    logo: str = _opt("", doc="path to a logo image printed on top of the ticket")
    footer: str = _opt("Vui lòng chờ gọi số. Xin cảm ơn!")
    simulator_state: str = _opt("ok", choices=("ok", "paper_low", "paper_out", "offline"),
                                doc="state of the simulated printer at start (driver = \"simulator\")")
    simulator_delay_s: float = _opt(0.0, check=_upto0(60), doc="simulated printer: seconds per ticket")


@dataclass
class OfflineSection:
    database: str = _opt("", doc="SQLite file; default: <data_dir>/kiosk.sqlite3")
    go_offline_after_s: float = _opt(3.0, check=_upto(120))
    probe_interval_s: float = _opt(5.0, check=_upto(3600))
    confirm_offline_s: float = _opt(10.0, check=_upto0(600),
                                    doc="the probe switches the kiosk offline only after failing for this long "
                                        "(and at least twice in a row); 0 = at the first failed probe. A failed "
                                        "check-in still gets its offline ticket at once")
    retention_hours: float = _opt(24.0, check=_upto(24 * 90))
    max_attempts: int = _opt(20, check=_upto(10_000))
    retry_base_s: float = _opt(2.0, check=_upto(3600), doc="first retry delay of an outbox entry; doubles per try, with jitter")
    retry_max_s: float = _opt(300.0, check=_upto(86400), doc="longest delay between two tries of an outbox entry")
    reference_refresh_s: float = _opt(600.0, check=_upto(86400),
                                      doc="how often departments/rooms/opening hours are re-read from the HIS while online")
    lease_s: float = _opt(60.0, check=_upto(3600), doc="how long a sender holds an entry before another may take it")


@dataclass
class BoardSection:
    """A calling board: which rooms it shows, how it polls the HIS and how it calls (voice)."""

    department: str = _opt("")
    rooms: list = _opt([], check=lambda v: all(isinstance(x, str) and x for x in v)
                       or "a list of clinic room codes, e.g. [\"P101\", \"P102\"]")
    poll_interval_s: float = _opt(1.0, check=_upto(60))
    names: str = _opt("masked", choices=("masked", "hidden"))
    voice: str = _opt("vi")
    repeat: int = _opt(1, check=_upto0(10))
    priority_interleave: int = _opt(3, check=_upto(100), doc="one priority ticket after every N normal ones")
    booking_grace_min: float = _opt(15.0, check=_upto0(24 * 60),
                                    doc="a booked patient arriving up to this late still queues from the slot time")
    full_refresh_s: float = _opt(60.0, check=_upto(3600),
                                 doc="full re-read of the rooms' visits (between them only changes are fetched)")
    voice_driver: str = _opt("espeak", choices=("espeak", "simulator", "none"))
    audio_player: str = _opt("auto", choices=("auto", "paplay", "aplay", "play", "none"))
    orientation: str = _opt("auto", choices=("auto", "landscape", "portrait"))
    next_count: int = _opt(4, check=_upto(20), doc="waiting numbers shown per room")
    recent_count: int = _opt(3, check=_upto0(20), doc="previously called numbers shown per room")


def _base_url(v):
    return (v == "" or bool(re.match(r"^https?://[^\s/]+(/\S*)?$", v)) and not v.endswith("/")
            or "\"\" (no phone follow-up) or the address patients' phones open, without a trailing /, "
               "e.g. https://sothutu.benhvien.vn")


@dataclass
class QueueWebSection:
    """The queue service (``kiosk queue-server``): calling boards in a browser and
    the phone page each ticket's QR code opens."""

    host: str = _opt("127.0.0.1", doc="address to listen on; keep 127.0.0.1 behind a reverse proxy")
    port: int = _opt(8090, check=lambda v: 0 < v < 65536 or "a TCP port 1-65535")
    public_base_url: str = _opt("", check=_base_url,
                                doc="when set, each ticket's QR code is {public_base_url}/t/{token} (the phone page)")
    token_secret_file: str = _opt("", doc="file holding the secret that signs ticket links (mode 0600); the same "
                                          "file on every kiosk and on the queue server")
    trusted_proxies: list = _opt(["127.0.0.1"], check=lambda v: all(isinstance(x, str) and x for x in v)
                                 or "a list of proxy addresses, e.g. [\"127.0.0.1\"]",
                                 doc="peers whose X-Forwarded-For names the real client")
    requests_per_minute: int = _opt(120, check=_upto(100_000), doc="per client address, every page and stream")
    max_streams_per_client: int = _opt(20, check=_upto(10_000), doc="open live streams (boards, phone pages) per client")
    max_streams: int = _opt(2000, check=_upto(100_000), doc="open live streams in total")
    max_room_sets: int = _opt(40, check=_upto(10_000), doc="departments / room lists polled at once")
    max_new_feeds_per_client: int = _opt(10, check=_upto(10_000),
                                         doc="departments / room lists one client may start per minute (a board "
                                             "follows one; a stranger cannot fill max_room_sets)")
    max_connections_per_client: int = _opt(64, check=_upto(100_000),
                                           doc="open connections per peer address, counted when accepted (above "
                                               "max_streams_per_client: a browser opens a few); trusted_proxies "
                                               "are exempt (nginx in front enforces limit_conn)")
    header_timeout_s: float = _opt(10.0, check=_upto(300), doc="a connection whose request head is not complete "
                                                              "this long after it opened (or its last answer) "
                                                              "is closed")
    body_timeout_s: float = _opt(30.0, check=_upto(3600), doc="a request whose body is not complete this long "
                                                             "after its head is closed")
    heartbeat_s: float = _opt(15.0, check=_upto(3600), doc="keep-alive on open streams (proxies close silent ones)")


@dataclass
class SpeechSection:
    """Spoken guidance at the kiosk (espeak-ng); the README's "Spoken guidance" section explains the outputs."""

    driver: str = _opt("espeak", choices=("espeak", "simulator", "none"))
    voice_vi: str = _opt("vi", doc="espeak-ng voice for Vietnamese (vi, vi-vn-x-central, vi-vn-x-south)")
    voice_en: str = _opt("en", doc="espeak-ng voice for English")
    volume: int = _opt(80, check=lambda v: 0 <= v <= 100 or "a percentage 0-100", doc="starting volume, percent")
    rate: int = _opt(140, check=lambda v: 80 <= v <= 300 or "80-300 words a minute")
    output: str = _opt("auto", doc="speakers: auto, none, or an ALSA device such as plughw:CARD=PCH,DEV=0")
    headphones: str = _opt("", doc="ALSA card id of the headphone socket (/proc/asound/cards): used while present")
    timeout_factor: float = _opt(2.0, check=lambda v: 1 <= v <= 5 or "a number from 1 to 5",
                                 doc="while speech is on, screens wait this many times longer")


@dataclass
class AdminSection:
    pin_hash: str = _opt("", doc="scrypt hash of the admin PIN (kiosk admin set-pin)")
    max_attempts: int = _opt(5, check=_upto(100))
    lockout_s: float = _opt(300.0, check=_upto(86400), doc="first lockout; each next round lasts 3 times longer")
    lockout_max_s: float = _opt(14400.0, check=_upto(7 * 86400), doc="longest lockout (the growth stops there)")


@dataclass
class LoggingSection:
    level: str = _opt("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    format: str = _opt("json", choices=("json", "text"))


@dataclass
class MetricsSection:
    enabled: bool = _opt(False)
    port: int = _opt(9464, check=lambda v: 0 < v < 65536 or "a TCP port 1-65535")

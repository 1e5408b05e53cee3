"""The ``[his]`` settings' own rules: which keys each ``his.auth`` needs, the
files that hold its secrets, the ``his.capabilities`` overrides, and the advice
``kiosk config check`` and ``kiosk doctor`` give.

Secrets live in files, never in the TOML: ``his.token_file``,
``his.password_file``, ``his.client_secret_file``, ``his.private_key_file``.
A path may use ``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``), e.g.
``"$CREDENTIALS_DIRECTORY/his-client-secret"``; outside the service that
variable is unset and the file is checked where it is used. The old inline
``his.token`` / ``his.password`` are still read, with a warning to move them.
Nothing here ever shows a secret.
"""
from __future__ import annotations

from kiosk.config.secret_files import CREDENTIALS_VAR, read_secret, secret_file_problem, secret_path  # noqa: F401 - re-exported
from kiosk.errors import ConfigError

# SMART v2 scopes of what the kiosk reads and writes (calling boards included).
DEFAULT_SCOPE = ("system/Patient.crs system/Appointment.rus system/Encounter.crus system/HealthcareService.rs "
                 "system/Location.rs system/Basic.crus")

# his.capabilities keys: what the kiosk may be told about the HIS (fhir_his/capabilities.py).
CAPABILITY_KEYS = ("transaction", "conditional_create", "versioning", "patch", "revinclude", "include",
                   "identifier_search", "appointment_search", "patient_create", "encounter_create",
                   "encounter_update", "appointment_update")


def capability_overrides(v):
    unknown = sorted(set(v) - set(CAPABILITY_KEYS))
    if unknown:
        return f"a table of {', '.join(CAPABILITY_KEYS)} = true/false (unknown: {unknown[0]})"
    wrong = sorted(k for k, x in v.items() if not isinstance(x, bool))
    return not wrong or f"true or false for his.capabilities.{wrong[0]}"


# his.auth -> (keys that must be set, the secret-file keys of it)
NEEDS = {
    "none": ((), ()),
    "bearer": (("token_file|token",), ("token_file",)),
    "basic": (("username", "password_file|password"), ("password_file",)),
    "client_credentials": (("client_id", "client_secret_file"), ("client_secret_file",)),
    "smart_backend": (("client_id", "private_key_file"), ("private_key_file",)),
}


def _set(his, key: str) -> bool:
    return any(bool(getattr(his, k)) for k in key.split("|"))


def check_his_settings(his) -> None:
    """ConfigError for settings that cannot work together."""
    check_his_sign_in(his)
    if his.queue_numbers == "counter" and his.capabilities.get("versioning") is False:
        raise ConfigError('his.queue_numbers: "counter" needs a HIS that keeps versions (If-Match), but '
                          'his.capabilities.versioning = false: set his.queue_numbers = "his" (the HIS numbers '
                          "the visits)")


def check_his_sign_in(his) -> None:
    """ConfigError for a sign-in that cannot work: a key its ``his.auth``
    needs is empty, or a secret file is unusable."""
    needed, files = NEEDS[his.auth]
    for key in needed:
        if not _set(his, key):
            names = " or ".join(f"his.{k}" for k in key.split("|"))
            raise ConfigError(f"{names}: expected a value when his.auth = \"{his.auth}\"")
    for key in files:
        value = getattr(his, key)
        if value:
            problem = secret_file_problem(value)
            if problem:
                raise ConfigError(f"his.{key}: {problem}")
    if his.auth == "smart_backend" and his.private_key_file:
        file = secret_path(his.private_key_file)
        if file is not None:
            key_algorithm(his.private_key_file, his.signing_algorithm)  # a usable key, matching the algorithm


def key_algorithm(path: str, wanted: str = "auto") -> str:
    """RS384 or ES384 for the PEM private key in ``path`` (ConfigError when it
    is not an RSA or P-384 key, or does not match ``his.signing_algorithm``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        key = serialization.load_pem_private_key(read_secret("his.private_key_file", path).encode(), password=None)
    except ConfigError:
        raise
    except (ValueError, TypeError):
        raise ConfigError("his.private_key_file: expected an unencrypted PEM private key (RSA or EC P-384)") from None
    if isinstance(key, rsa.RSAPrivateKey):
        found = "RS384"
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
        found = "ES384"
    else:
        raise ConfigError("his.private_key_file: expected an RSA key (RS384) or an EC P-384 key (ES384)")
    if wanted not in ("auto", found):
        raise ConfigError(f"his.signing_algorithm: {wanted} does not fit the key in his.private_key_file ({found})")
    return found


def his_warnings(his) -> list[tuple[str, str, str]]:
    """(key, what, fix) for settings that work but should change."""
    out = []
    if his.token:
        out.append(("his.token", "the bearer token is written in the config file",
                    "move it into a file of its own (chmod 600) and set his.token_file; remove his.token"))
    if his.password:
        out.append(("his.password", "the basic-auth password is written in the config file",
                    "move it into a file of its own (chmod 600) and set his.password_file; remove his.password"))
    if his.auth != "none" and his.base_url.startswith("http://") \
            and not his.base_url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        out.append(("his.base_url", "credentials are sent over plain http",
                    "use the HIS's https URL"))
    for key in ("token_file", "password_file", "client_secret_file", "private_key_file"):
        value = getattr(his, key)
        if value and secret_path(value) is None:
            out.append((f"his.{key}", f"{value} names ${CREDENTIALS_VAR}, which is set only inside the systemd "
                        "service: the file is checked there (kiosk doctor run by the service)",
                        "nothing to do if the unit has LoadCredential= for it"))
    return out

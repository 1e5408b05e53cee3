"""The core of the patient check-in kiosk — no Qt, no device library, no HTTP
library: the domain and its ports, the patient's journey (``journey/``), the
check-in pipeline and its rules (``checkin/``), identity, insurance, calling
boards, config, statistics, operations and the texts. The adapters (devices/,
offline_cache/, fhir_his/, bhxh_gateway/) implement its ports; app/ wires them."""

__version__ = "0.1.0"

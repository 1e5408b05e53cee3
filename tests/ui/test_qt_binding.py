"""The installed Qt binding keeps Python reference counts right (PySide6
6.12.0 on Python 3.11 does not, and the kiosk would abort after hours)."""
from ui.qtcheck import PROBE_CALLS, check_qt_binding, refcount_drift


def test_qt_binding_keeps_reference_counts(qapp):
    drift = refcount_drift()
    assert all(lost < PROBE_CALLS for lost in drift.values()), drift
    check_qt_binding()

"""IT-staff tests (doctor, admin screen, logs, metrics, deployment): Qt runs offscreen."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

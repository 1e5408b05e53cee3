"""The import direction is part of the design: ui → kiosk ← devices, offline_cache.

- kiosk/ (the core) never imports Qt or a device library, not even lazily;
- devices/ and offline_cache/ never import ui/ or each other;
- ui/ is the only Qt code;
- importing the core's modules pulls none of those libraries into the process.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT = {"PySide6", "shiboken6"}
DEVICE_LIBS = {"smartcard", "cv2", "escpos", "pyzbar", "zxingcpp", "usb", "serial"}


def imports_of(package: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import statement anywhere in a package."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


def offenders(package: str, forbidden: set[str]) -> list[str]:
    return [f"{f}: imports {m}" for f, m in imports_of(package) if m.split(".")[0] in forbidden]


def test_core_imports_no_qt_and_no_device_library():
    assert offenders("kiosk", QT | DEVICE_LIBS) == []


def test_core_imports_other_layers_only_lazily_from_the_composition_root_and_cli():
    allowed = ("kiosk/bootstrap.py", "kiosk/cli/", "kiosk/doctor.py")
    bad = [f"{f}: imports {m}" for f, m in imports_of("kiosk")
           if m.split(".")[0] in {"devices", "offline_cache", "ui"} and not f.startswith(allowed)]
    assert bad == []


@pytest.mark.parametrize("package, forbidden", [
    ("devices", {"ui", "offline_cache"} | QT),
    ("offline_cache", {"ui", "devices"} | QT | DEVICE_LIBS),
])
def test_adapters_do_not_import_ui_or_each_other(package, forbidden):
    if not (ROOT / package).is_dir():
        pytest.fail(f"{package}/ is missing")
    assert offenders(package, forbidden) == []


def test_importing_the_core_loads_no_qt_or_device_library():
    modules = sorted("kiosk." + str(p.relative_to(ROOT / "kiosk").with_suffix("")).replace("/", ".")
                     for p in (ROOT / "kiosk").rglob("*.py") if p.name not in ("__main__.py",))
    modules = [m.removesuffix(".__init__") for m in modules]
    code = ("import sys\n" + "\n".join(f"import {m}" for m in modules) +
            f"\nbad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT | DEVICE_LIBS)!r})"
            "\nprint(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

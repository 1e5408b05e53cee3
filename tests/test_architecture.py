"""The import direction is part of the design (docs/architecture.md):

    app  (entry points: CLI, the composition root, doctor, sandbox launchers)
     │
     ├──► ui             (the only Qt code)
     ├──► queue_web      (the queue service: web boards, phone pages; Starlette)
     ├──► devices        (card reader, camera, printer, voice: adapters + simulators)
     ├──► offline_cache  (SQLite outbox, reference cache, sender)
     ├──► fhir_his       (the HIS over HL7 FHIR R4: requests)
     ├──► bhxh_gateway   (the BHXH card-check gateway: requests)
     │         all of them ──► kiosk
     └──► kiosk          (the core: domain, ports, journey, check-in rules, config schema)

- kiosk/ imports none of the layers above it — not at module level, not inside a
  function, not through ``importlib.import_module`` or ``__import__`` — no Qt or
  device library, and no HTTP library (the network adapters live beside devices/);
- ui/, devices/, offline_cache/, fhir_his/ and bhxh_gateway/ never import each other or app/;
- queue_web/ (a layer beside ui/) imports the core only: not ui/, devices/,
  offline_cache/ or app/, no Qt, no device library; nothing but app/ imports it;
- nothing imports app/ (tests and benchmarks are harnesses, not product code);
- no import cycle between modules;
- importing every core module pulls no Qt or device library into the process;
- only app/ chooses between a real adapter and its simulator by a ``driver`` setting.
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
HTTP_LIBS = {"requests", "httpx", "urllib3", "http", "aiohttp", "urllib"}
ADAPTERS = {"devices", "offline_cache", "fhir_his", "bhxh_gateway"}
LAYERS = {"app", "ui", "queue_web", "kiosk"} | ADAPTERS
PRODUCT = ["kiosk", "devices", "offline_cache", "fhir_his", "bhxh_gateway", "ui", "queue_web", "app"]


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = _module_name(path).split(".")
    if path.name != "__init__.py":
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(package: str) -> list[tuple[str, str, bool]]:
    """(file, imported module, at module level?) for every import statement in a package."""
    found = []
    for path in _files(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), a.name, id(node) in top) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _resolve(path, node)
                names = [f"{module}.{a.name}" for a in node.names]
                found.append((str(path.relative_to(ROOT)), module, id(node) in top))
                found += [(str(path.relative_to(ROOT)), n, id(node) in top) for n in names]
    return found


def dynamic_imports(package: str) -> list[str]:
    """Every use of ``importlib.import_module`` / ``__import__`` / ``importlib`` in a package."""
    bad = []
    for path in _files(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            name = (node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute)
                    else None)
            if name in ("import_module", "__import__"):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(m.split(".")[0] == "importlib" for m in mods):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports importlib")
    return bad


def offenders(package: str, forbidden: set[str]) -> list[str]:
    return sorted({f"{f}: imports {m}" for f, m, _ in imports_of(package) if m.split(".")[0] in forbidden})


def test_core_imports_no_layer_above_it_and_no_qt_or_device_library():
    assert offenders("kiosk", (LAYERS - {"kiosk"}) | QT | DEVICE_LIBS) == []


def test_core_imports_no_http_library():
    """The core talks to nothing over the network: the FHIR and BHXH clients are adapters."""
    assert offenders("kiosk", HTTP_LIBS) == []


def test_core_has_no_dynamic_imports():
    """importlib strings would hide an arrow running back up from the import graph."""
    assert dynamic_imports("kiosk") == []


@pytest.mark.parametrize("package, forbidden", [
    ("devices", {"app", "ui", "queue_web"} | (ADAPTERS - {"devices"}) | QT),
    ("offline_cache", {"app", "ui", "queue_web"} | (ADAPTERS - {"offline_cache"}) | QT | DEVICE_LIBS),
    ("fhir_his", {"app", "ui", "queue_web"} | (ADAPTERS - {"fhir_his"}) | QT | DEVICE_LIBS),
    ("bhxh_gateway", {"app", "ui", "queue_web"} | (ADAPTERS - {"bhxh_gateway"}) | QT | DEVICE_LIBS),
    ("ui", {"app", "queue_web"} | ADAPTERS | DEVICE_LIBS),
    ("queue_web", {"app", "ui"} | ADAPTERS | QT | DEVICE_LIBS),
])
def test_adapters_and_ui_do_not_import_each_other_or_the_entry_points(package, forbidden):
    assert (ROOT / package).is_dir(), f"{package}/ is missing"
    assert offenders(package, forbidden) == []
    assert dynamic_imports(package) == []


def test_only_ui_imports_qt():
    for package in ("kiosk", "devices", "offline_cache", "fhir_his", "bhxh_gateway", "queue_web", "app"):
        assert offenders(package, QT) == [], package


def test_no_import_cycles_between_modules():
    """Module-level imports only (an import inside a function runs later and
    cannot deadlock start-up); a cycle is a knot whatever its size."""
    modules = {_module_name(p): p for pkg in PRODUCT for p in _files(pkg)}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for pkg in PRODUCT:
        for f, imported, top in imports_of(pkg):
            if not top:
                continue
            src = _module_name(ROOT / f)
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != src and not src.startswith(target + ".") and target != src.rpartition(".")[0]:
                graph[src].add(target)
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_importing_the_core_loads_no_qt_or_device_library():
    modules = [_module_name(p) for p in _files("kiosk")]
    code = ("import sys\n" + "\n".join(f"import {m}" for m in modules) +
            f"\nbad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT | DEVICE_LIBS | LAYERS - {'kiosk'})!r})"
            "\nprint(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_checks_catch_every_form_of_import(tmp_path, monkeypatch):
    """The three forms the rules must see: module level, inside a function, importlib/__import__."""
    pkg = tmp_path / "kiosk"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import ui.app\n")
    (pkg / "b.py").write_text("def f():\n    from devices.printer import build\n")
    (pkg / "c.py").write_text("import importlib\nm = importlib.import_module('offline_cache.wiring')\n")
    (pkg / "d.py").write_text("m = __import__('app.cli')\n")
    (pkg / "e.py").write_text("def f():\n    import requests\n    from http.client import HTTPConnection\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert offenders("kiosk", LAYERS - {"kiosk"}) == ["kiosk/a.py: imports ui.app", "kiosk/b.py: imports devices.printer",
                                                     "kiosk/b.py: imports devices.printer.build"]
    assert [d.split(": ")[1] for d in dynamic_imports("kiosk")] == ["imports importlib", "import_module", "__import__"]
    assert offenders("kiosk", HTTP_LIBS) == ["kiosk/e.py: imports http.client", "kiosk/e.py: imports http.client.HTTPConnection",
                                            "kiosk/e.py: imports requests"]


# --- only the composition root picks an implementation ---------------------------------

DRIVER_SETTINGS = {"driver", "voice_driver"}  # printer/card_reader/camera/speech.driver, board.voice_driver
DRIVER_SETTING_READERS = {  # files outside app/ that may compare a driver setting, and why
    "kiosk/config/loader.py": "validates the settings (printer.connection is needed when driver = escpos)",
    "ui/admin/tabs.py": "shows the settings to IT staff",
}


def driver_choices(package: str) -> list[str]:
    """Comparisons that choose by a ``driver`` setting (``x.driver == "…"``,
    ``x.voice_driver in (…)``) or with the string "simulator", in a package."""
    found = []
    for path in _files(package):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if rel not in DRIVER_SETTING_READERS and any(
                        isinstance(o, ast.Attribute) and o.attr in DRIVER_SETTINGS for o in operands):
                    found.append(f"{rel}:{node.lineno}: compares a driver setting")
                elif any(isinstance(c, ast.Constant) and c.value == "simulator"
                         for o in operands for c in ast.walk(o)):
                    found.append(f"{rel}:{node.lineno}: compares with \"simulator\"")
            elif isinstance(node, ast.Match) and isinstance(node.subject, ast.Attribute) \
                    and node.subject.attr in DRIVER_SETTINGS:
                found.append(f"{rel}:{node.lineno}: matches a driver setting")
    return found


@pytest.mark.parametrize("package", [p for p in PRODUCT if p != "app"])
def test_only_the_composition_root_chooses_an_adapter_or_its_simulator(package):
    """``app/compose.py`` reads the ``driver`` settings; the device packages offer
    their real adapters and simulators as classes and functions, and choose nothing."""
    assert driver_choices(package) == []


def test_the_driver_rule_catches_each_form(tmp_path, monkeypatch):
    pkg = tmp_path / "devices"
    pkg.mkdir()
    (pkg / "a.py").write_text("def f(c):\n    if c.printer.driver == 'escpos':\n        return 1\n")
    (pkg / "b.py").write_text("def f(c):\n    return c.board.voice_driver in ('espeak', 'none')\n")
    (pkg / "c.py").write_text("def f(kind):\n    return kind != 'simulator'\n")
    (pkg / "d.py").write_text("def f(c):\n    match c.camera.driver:\n        case 'opencv':\n            return 1\n")
    (pkg / "e.py").write_text("def f(c):\n    return c.camera.source == 'x'\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert driver_choices("devices") == ["devices/a.py:2: compares a driver setting",
                                         "devices/b.py:2: compares a driver setting",
                                         "devices/c.py:2: compares with \"simulator\"",
                                         "devices/d.py:2: matches a driver setting"]

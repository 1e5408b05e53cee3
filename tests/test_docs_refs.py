"""Docstrings, comments and Markdown files name only modules, files and
functions that exist.

What is checked (names that look like this project's own):

- paths under the repository's top folders (``kiosk/journey/machine.py``,
  ``devices/printer/``, ``tests/test_architecture.py``): the file or folder exists;
- a bare file name in a package's docstring or comment (``thread.py``): a file
  of that name exists somewhere in the repository;
- dotted names starting with a product package (``fhir_his.client``,
  ``devices.printer.kept``, ``kiosk.ports.His.settle_visit``): the module
  exists, and each further part is a name it defines or imports, or a method
  or attribute of the class it names. ``kiosk.data_dir``-style config keys
  (``[section] key``) are not module paths and are skipped;
- ``Class.method`` where ``Class`` is one of the product's classes: one of the
  classes of that name has it.

``python tests/test_docs_refs.py`` prints every stale reference.
"""
from __future__ import annotations

import ast
import dataclasses
import io
import re
import subprocess
import sys
import tokenize
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["kiosk", "fhir_his", "bhxh_gateway", "devices", "offline_cache", "queue_web", "ui", "app",
            "sandbox_bhxh", "benchmarks", "tests"]
FOLDERS = PACKAGES + ["sandbox_his", "deploy", "docs", "assets"]
SKIP_DIRS = {"node_modules", ".venv", ".venv-vicc", ".git", "__pycache__"}

PATH_RE = re.compile(r"(?<![\w./~-])(?:%s)/[\w./-]*" % "|".join(FOLDERS))
DOTTED_RE = re.compile(r"(?<![\w./-])(?:%s)(?:\.[A-Za-z_]\w*)+" % "|".join(PACKAGES))
BARE_FILE_RE = re.compile(r"(?<![\w./-])[a-z_][a-z0-9_]*\.py\b")
CLASS_ATTR_RE = re.compile(r"(?<![\w./-])([A-Z][A-Za-z0-9]+)\.([a-z_][a-z0-9_]*)\b(?!\.)")


def repo_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    return sorted(ROOT / f for f in out if f and not SKIP_DIRS & set(Path(f).parts) and (ROOT / f).is_file())


# --- what exists ------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_file(dotted: str) -> Path | None:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _bound_names(body: list[ast.stmt]) -> dict[str, ast.AST | None]:
    """Names a module or class body defines or imports (nested ifs/trys included)."""
    names: dict[str, ast.AST | None] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names[n.id] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names[(a.asname or a.name).split(".")[0]] = None
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            for part in ("body", "orelse", "finalbody", "handlers"):
                for sub in getattr(node, part, []) or []:
                    names.update(_bound_names(sub.body if isinstance(sub, ast.ExceptHandler) else [sub]))
    return names


@lru_cache(maxsize=None)
def _classes() -> dict[str, list[ast.ClassDef]]:
    found: dict[str, list[ast.ClassDef]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if SKIP_DIRS & set(path.parts):
                continue
            for node in ast.walk(_tree(path)):
                if isinstance(node, ast.ClassDef):
                    found.setdefault(node.name, []).append(node)
    return found


def _class_has(cls: ast.ClassDef, name: str, seen: frozenset = frozenset()) -> bool:
    if name in _bound_names(cls.body):
        return True
    for node in ast.walk(cls):  # instance attributes: self.name = …
        if isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.value, ast.Name) \
                and node.value.id == "self" and isinstance(node.ctx, ast.Store):
            return True
    for base in cls.bases:
        base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
        if base_name not in _classes():
            if base_name is not None and base_name not in {"Protocol", "object"}:
                return True  # a library base class: cannot tell, assume it has it
            continue
        if base_name not in seen and any(_class_has(c, name, seen | {base_name}) for c in _classes()[base_name]):
            return True
    return False


@lru_cache(maxsize=None)
def _config_keys() -> frozenset[str]:
    """``[section] key`` names: ``kiosk.data_dir`` or ``queue_web.token_secret_file`` are settings."""
    sys.path.insert(0, str(ROOT))
    from kiosk.config.loader import Config

    keys = set()
    for section in dataclasses.fields(Config):
        if isinstance(section.default_factory, type):
            keys |= {f.name for f in dataclasses.fields(section.default_factory)}
    return frozenset(keys)


def dotted_exists(dotted: str) -> bool:
    parts = dotted.split(".")
    if len(parts) == 2 and parts[1] in _config_keys() and _module_file(dotted) is None:
        return True
    for cut in range(len(parts), 0, -1):
        module = _module_file(".".join(parts[:cut]))
        if module is not None:
            break
    else:
        return False
    rest = parts[cut:]
    if not rest:
        return True
    names = _bound_names(_tree(module).body)
    if rest[0] not in names:
        return False
    node = names[rest[0]]
    if len(rest) == 1 or not isinstance(node, ast.ClassDef):
        return True  # a function's or a value's attributes are not followed
    return _class_has(node, rest[1])


def class_attr_exists(cls: str, name: str) -> bool:
    if cls not in _classes():
        return True  # not one of ours (Path.exists, QTimer.singleShot…)
    return any(_class_has(c, name) for c in _classes()[cls])


@lru_cache(maxsize=None)
def _file_names() -> frozenset[str]:
    return frozenset(p.name for p in repo_files())


def path_exists(path: str) -> bool:
    """``ui/controller`` may stand for ``ui/controller.py``."""
    path = path.rstrip(".,;:)")
    if not path or any(c in path for c in "*{}<>…"):
        return True
    return (ROOT / path).exists() or (ROOT / (path.rstrip("/") + ".py")).exists()


# --- what is written ------------------------------------------------------------------

def texts_of(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the docstrings and comments of a Python file, or of all of a Markdown file."""
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return list(enumerate(source.splitlines(), 1))
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                out += [(first.lineno + i, line) for i, line in enumerate(first.value.value.splitlines())]
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.string))
    return out


FILE_SUFFIXES = {"py", "md", "toml", "json", "sqlite3", "service", "timer", "target", "sh", "lock", "mjs"}
LEAD_REWRITES = {"README.md", "docs/architecture.md"}  # rewritten by the lead at the end of issue 22


def _followed_by_pattern(text: str, end: int) -> bool:
    """``kiosk.ports.PRINTER_*``, ``ui.coverage.<status>``, ``bench_{name}.py``: a pattern, not a name."""
    return text[end:end + 2].startswith(("*", "<", "{", ".<", ".*", ".{", "…"))


def stale_references(only: set[str] | None = None, skip: set[str] = frozenset()) -> list[str]:
    stale = []
    for path in repo_files():
        rel = str(path.relative_to(ROOT))
        if path.suffix not in (".py", ".md") or path == Path(__file__).resolve() or rel in skip:
            continue
        if (only is not None and rel not in only) or (path.suffix == ".py" and Path(rel).parts[0] not in PACKAGES):
            continue
        for line, text in texts_of(path):
            text = re.sub(r"https?://\S+", "", text)
            for m in PATH_RE.finditer(text):
                if not _followed_by_pattern(text, m.end()) and not path_exists(m.group()):
                    stale.append(f"{rel}:{line}: no file {m.group()}")
            for m in DOTTED_RE.finditer(text):
                name = m.group().rstrip(".")
                if FILE_SUFFIXES & set(name.split(".")[1:]) or _followed_by_pattern(text, m.end()):
                    continue
                if not dotted_exists(name):
                    stale.append(f"{rel}:{line}: no {name}")
            for m in BARE_FILE_RE.finditer(text):
                if m.group() not in _file_names():
                    stale.append(f"{rel}:{line}: no file {m.group()}")
            for m in CLASS_ATTR_RE.finditer(text):
                if not class_attr_exists(m.group(1), m.group(2)):
                    stale.append(f"{rel}:{line}: no {m.group()}")
    return stale


def test_docstrings_comments_and_markdown_name_only_what_exists():
    assert stale_references(skip=LEAD_REWRITES) == []


def test_the_readme_and_the_architecture_notes_name_only_what_exists():
    assert stale_references(only=LEAD_REWRITES) == []


def test_the_check_sees_each_kind_of_stale_name():
    assert not path_exists("kiosk/no_such_module.py") and path_exists("kiosk/journey/")
    assert path_exists("devices/printer/kept.py") and not path_exists("ui/no_such.py")
    assert dotted_exists("fhir_his.client") and dotted_exists("devices.printer.kept")
    assert dotted_exists("kiosk.ports.His.settle_visit") and not dotted_exists("kiosk.ports.His.no_such_call")
    assert not dotted_exists("kiosk.ports.NoSuchPort") and not dotted_exists("devices.printer.no_such_module")
    assert dotted_exists("kiosk.data_dir")  # a setting, not a module
    assert not class_attr_exists("FhirHis", "no_such_visit") and class_attr_exists("FhirHis", "settle_visit")
    assert _followed_by_pattern("kiosk.ports.PRINTER_*", len("kiosk.ports.PRINTER_"))


if __name__ == "__main__":
    print("\n".join(stale_references()))

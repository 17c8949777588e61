"""The shape of mdlib: one public list, one concept per module, no reaching into another module's privates.

* A module may import private names (a leading underscore) only from private modules
  (``mdlib._validation``, ``mdlib._scipy``, ``mdlib.finite._tree``, ...), never from a public one.
* The public names are each module's ``__all__``, collected by ``mdlib/__init__.py`` in
  ``mdlib.MODULES``; every public module is listed there and every listed name exists.
* ``book/mdlib_reference.md`` is generated from the modules by ``tools/make_reference.py``.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import mdlib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mdlib"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_private(module: str) -> bool:
    """A module is private when one of its components below ``mdlib`` starts with an underscore."""
    return any(part.startswith("_") for part in module.split(".")[1:])


def resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_imports(text: str, importer: str, is_package: bool = False) -> list[str]:
    """``line: name from module`` for every private name imported from a public mdlib module."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            source = resolve(node, importer, is_package)
            if not source.startswith("mdlib") or is_private(source):
                continue
            found += [f"{node.lineno}: {a.name} from {source}" for a in node.names if a.name.startswith("_")]
    return found


def test_no_module_imports_a_private_name_of_a_public_module():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in private_imports(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    ]
    assert not found, "private names imported from public modules (move them to a private module):\n" + "\n".join(found)


def test_the_guard_sees_a_private_import():
    source = "from .mdp import _evaluate\nfrom ._markov import _action_values\nfrom .finite._tree import _Tree\n"
    assert private_imports(source, "mdlib.pivot") == ["1: _evaluate from mdlib.mdp"]
    assert private_imports("from .._validation import check_real\nfrom ..auctions import _b1\n",
                           "mdlib.finite._design") == ["2: _b1 from mdlib.auctions"]


def test_one_public_list():
    public_files = {
        module_name(p) for p in PACKAGE.rglob("*.py") if not is_private(module_name(p)) and module_name(p) != "mdlib"
    }
    listed = {m.__name__ for m in mdlib.MODULES}
    assert listed == public_files, f"public modules missing from mdlib.MODULES: {sorted(public_files - listed)}"
    names = [name for m in mdlib.MODULES for name in m.__all__]
    assert len(names) == len(set(names)), "a public name is exported by two modules"
    assert mdlib.__all__ == ["__version__", *names]
    for m in mdlib.MODULES:
        for name in m.__all__:
            assert getattr(mdlib, name) is getattr(importlib.import_module(m.__name__), name), name


def test_deprecated_alias_stays_out_of_the_public_list():
    assert "informativeness" not in mdlib.__all__
    assert mdlib.informativeness is not None


def test_reference_page_is_generated_from_the_modules():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_reference.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

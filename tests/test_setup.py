"""The setup the instructor guide, the README and environment.yml describe gives what the chapters need.

- the install line of the instructor guide installs every package a page imports;
- environment.yml installs the same, plus JupyterLab with the jupytext and widget extensions, and says
  how to build the book from it;
- ``make lab`` passes ``--allow-root`` exactly when it runs as root.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def name_of(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9_.-]+)", requirement).group(1)).lower()


def installed_by(extras: list[str]) -> set[str]:
    """Distributions that ``pip install -e ".[extras]"`` asks for by name (self-references expanded)."""
    names, todo, seen = {name_of(r) for r in PROJECT["dependencies"]}, list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in PROJECT["optional-dependencies"][extra]:
            m = re.match(r"mdlib\[([\w,]+)\]", req)
            if m:
                todo += m.group(1).split(",")
            else:
                names.add(name_of(req))
    return names


def imported_modules() -> set[str]:
    pages = [p for p in (ROOT / "book").rglob("*.md") if "```{code-cell}" in p.read_text(encoding="utf-8")]
    modules = set()
    for page in pages:
        for cell in jupytext.read(page).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in cell.source.splitlines())
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    modules |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"mdlib"}


def missing_from(extras: list[str]) -> list[str]:
    dists = importlib.metadata.packages_distributions()
    wanted = installed_by(extras)
    return sorted(m for m in imported_modules() if not {name_of(d) for d in dists.get(m, [m])} & wanted)


def test_the_pages_import_more_than_the_core_dependencies():
    """The control: without an extra, ipywidgets and pandas would be missing."""
    assert {"ipywidgets", "pandas"} <= set(missing_from([]))


def test_the_instructor_guides_install_line_installs_what_the_pages_import():
    guide = (ROOT / "book" / "instructor_guide.md").read_text(encoding="utf-8")
    lines = re.findall(r"pip install -e \"?\.(?:\[([\w,]+)\])?\"?", guide)
    assert lines, "the instructor guide has no install line"
    for extras in lines:
        assert not missing_from(extras.split(",") if extras else []), f"pip install -e .[{extras}] misses a module"


def test_environment_yml_gives_jupyterlab_with_jupytext_and_widgets():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    env = yaml.safe_load(text)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-c tools/constraints.txt" in pip
    extras = next(re.match(r"-e \.\[([\w,]+)\]", p).group(1).split(",") for p in pip if p.startswith("-e ."))
    assert not missing_from(extras)
    assert {"jupyterlab", "jupytext", "ipywidgets"} <= installed_by(extras)   # jupytext and widget extensions ship in these
    assert "jupyter-book build . -W -n --keep-going" in text and "tools/vendor_js.py" in text, "how to build the book"
    pins = (ROOT / "tools" / "constraints.txt").read_text(encoding="utf-8")
    for dist in ("jupyterlab", "jupytext", "ipywidgets", "jupyterlab_widgets"):
        assert re.search(rf"^{dist}==", pins, re.M), f"{dist} is not pinned"


@pytest.mark.skipif(sys.platform == "win32", reason="make")
def test_make_lab_allows_root_only_as_root():
    out = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stdout.splitlines() if "jupyter lab" in ln)
    assert ("--allow-root" in line) == (os.geteuid() == 0), line
    assert line.rstrip().endswith("book/")

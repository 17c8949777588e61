"""The determinism check can fail: a chapter with unseeded randomness is caught."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import FRONT_MATTER

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.pipeline  # executes chapters: selected by make check-determinism
spec = importlib.util.spec_from_file_location("check_determinism", ROOT / "tools" / "check_determinism.py")
check_determinism = importlib.util.module_from_spec(spec)
sys.modules["check_determinism"] = check_determinism
spec.loader.exec_module(check_determinism)
spec = importlib.util.spec_from_file_location("run_chapters", ROOT / "tools" / "run_chapters.py")
run_chapters = importlib.util.module_from_spec(spec)
sys.modules["run_chapters"] = run_chapters
spec.loader.exec_module(run_chapters)



def two_runs(tmp_path: Path, seed: str) -> Path:
    """Write a chapter drawing one random number; execute it where the book build and the test step would."""
    source = tmp_path / "book" / "chapter.md"
    source.parent.mkdir()
    source.write_text(FRONT_MATTER + f"```{{code-cell}} ipython3\nimport numpy as np\nnp.random.default_rng({seed}).random()\n```\n")
    executed = tmp_path / "_build" / "jupyter_execute" / "book" / "chapter.ipynb"
    executed.parent.mkdir(parents=True)
    nbformat.write(run_chapters.execute(source), executed)
    assert run_chapters.execute_isolated(source, run_chapters.executed_path(source, tmp_path / "_build" / "nbval")) is None
    return source


@pytest.mark.slow
def test_unseeded_randomness_is_caught(tmp_path):
    source = two_runs(tmp_path, seed="")
    problems = check_determinism.compare(source, tmp_path / "_build", root=tmp_path)
    assert problems and "different output" in problems[0]


@pytest.mark.slow
def test_seeded_randomness_passes(tmp_path):
    source = two_runs(tmp_path, seed="20261201")
    assert check_determinism.compare(source, tmp_path / "_build", root=tmp_path) == []


def test_widget_ids_and_addresses_are_normalised():
    a = '{"model_id": "0123456789abcdef0123456789abcdef"} <object at 0x7f00ab>'
    b = '{"model_id": "fedcba9876543210fedcba9876543210"} <object at 0x7f11cd>'
    assert check_determinism.normalise(a) == check_determinism.normalise(b)


def test_a_chapter_missing_from_the_test_run_is_reported(tmp_path):
    source = tmp_path / "book" / "chapter.md"
    source.parent.mkdir()
    source.write_text(FRONT_MATTER + "```{code-cell} ipython3\n1 + 1\n```\n")
    executed = tmp_path / "_build" / "jupyter_execute" / "book" / "chapter.ipynb"
    executed.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), executed)
    problems = check_determinism.compare(source, tmp_path / "_build", root=tmp_path)
    assert problems and "make test-notebooks" in problems[0]

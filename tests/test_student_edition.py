"""The student edition publishes every exercise and no solution.

The solutions are read from the sources (``{solution}`` and gated ``{solution-start}`` …
``{solution-end}`` blocks, code cells included); from each we take distinctive fragments —
runs of prose between formulas, and lines of code — that occur nowhere else in the sources.
Every fragment must be absent from the student site and present in the instructor site (the
negative control: it proves the fragments are real page text, so their absence means something).
Every exercise statement must be present in both.

The site tests carry the ``pipeline`` marker: ``make test-lib`` leaves them out, and ``make
test-student`` builds both editions and selects them with ``-m pipeline`` (with ``REQUIRE_BUILT_SITES=1``,
a missing site fails instead of skipping), so a stale ``_build`` never decides the library tests.
"""

from __future__ import annotations

import html
import importlib.util
import itertools
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
INSTRUCTOR = Path(os.environ.get("INSTRUCTOR_SITE", ROOT / "_build" / "html"))
STUDENT = Path(os.environ.get("STUDENT_SITE", ROOT / "_build" / "student" / "html"))
MIN_WORDS = 5           # a prose fragment has at least this many words
MIN_CODE_CHARS = 16     # a code fragment is a line at least this long
FENCE = re.compile(r"^(`{3,}|:{3,})\{([\w-]+)\}(.*)$")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ reading the sources
def blocks(text: str) -> list[tuple[str, str, str]]:
    """(kind, label, body) of every exercise and solution of a MyST page, gated ones included.

    ``kind`` is ``exercise`` or ``solution``; a gated solution's body is every line between
    ``solution-start`` and ``solution-end`` (prose and code cells).
    """
    lines = text.splitlines()
    out, k = [], 0
    while k < len(lines):
        m = FENCE.match(lines[k])
        if not m or m.group(2) not in {"exercise", "solution", "solution-start", "exercise-start"}:
            k += 1
            continue
        fence, kind, arg = m.groups()
        j = k + 1
        while j < len(lines) and lines[j].startswith(":") and not lines[j].startswith(fence[0] * 3):
            j += 1  # directive options
        body_start = j
        while not lines[j].startswith(fence) or lines[j].strip() != fence:
            j += 1
        if kind in ("exercise", "solution"):
            label = arg.strip() if kind == "solution" else next(
                (ln.split(":", 2)[2].strip() for ln in lines[k:body_start] if ln.startswith(":label:")), arg.strip())
            out.append((kind, label, "\n".join(lines[body_start:j])))
            k = j + 1
            continue
        if kind == "exercise-start":
            raise NotImplementedError("gated exercises: extend tests/test_student_edition.py")
        end = next(i for i in range(j + 1, len(lines)) if re.match(r"^(`{3,}|:{3,})\{solution-end\}", lines[i]))
        out.append(("solution", arg.strip(), "\n".join(lines[j + 1:end])))
        k = end + 1
    return out


def normalise(text: str) -> str:
    """One form for source and HTML text: straight quotes and hyphens, single spaces."""
    table = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
    return re.sub(r"\s+", " ", text.translate(table)).strip()


def fragments(body: str) -> list[str]:
    """Distinctive pieces of a block: prose between formulas and markup, and lines of shown code.

    Code cells tagged ``remove-cell`` or ``remove-input`` are never shown, so they give no fragments.
    """
    out, cell = [], None
    for line in body.splitlines():
        if cell is None and line.startswith("```{code-cell}"):
            cell = []
            continue
        if cell is not None:
            if line.startswith("```"):
                hidden = any(re.search(r"tags:.*remove-(cell|input)", ln) for ln in cell)
                if cell and cell[0] == "---":  # a YAML header of cell options
                    cell = cell[cell.index("---", 1) + 1:]
                code = [ln.strip() for ln in itertools.dropwhile(lambda ln: ln.startswith(":"), cell)]
                if not hidden:
                    out += [normalise(c) for c in code if len(c) >= MIN_CODE_CHARS and not c.startswith("#")]
                cell = None
            else:
                cell.append(line)
            continue
        if line.startswith("```"):
            continue
        prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|\{[\w:-]+\}`[^`]*`|`[^`]*`|\[[^\]]*\]\([^)]*\)", "|", line)
        for piece in re.split(r"[|*_()\[\]:;,.!?]", prose):
            piece = normalise(piece)
            if len(piece.split()) >= MIN_WORDS and "\\" not in piece:
                out.append(piece)
    return out


def pages_with_exercises() -> list[Path]:
    """The pages of the table of contents that have exercises."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = re.findall(r"'file': '([^']+)'", repr(toc))
    pages = [ROOT / f"{f.removesuffix('.md')}.md" for f in files]
    return sorted(p for p in pages if re.search(r"^(`{3,}|:{3,})\{exercise", p.read_text(encoding="utf-8"), re.M))


def solution_fragments(page: Path) -> dict[str, list[str]]:
    """Fragments of each solution of ``page`` that occur nowhere else in the book's sources."""
    text = page.read_text(encoding="utf-8")
    found = [(label, body) for kind, label, body in blocks(text) if kind == "solution"]
    rest = normalise(" ".join(p.read_text(encoding="utf-8") for p in BOOK.rglob("*.md") if p != page))
    outside = text
    for _, body in found:
        outside = outside.replace(body, "")
    outside = normalise(outside) + " " + rest
    return {label: [f for f in fragments(body) if f not in outside] for label, body in found}


def exercise_fragments(page: Path) -> dict[str, list[str]]:
    return {label: fragments(body) for kind, label, body in blocks(page.read_text(encoding="utf-8")) if kind == "exercise"}


def site_text(page_html: Path) -> str:
    raw = page_html.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return normalise(html.unescape(re.sub(r"<[^>]+>", "", raw)))


def html_of(site: Path, page: Path) -> Path:
    return site / page.relative_to(ROOT).with_suffix(".html")


# ------------------------------------------------------------------ tests on the sources (always run)
PAGES = pages_with_exercises()


def test_the_book_has_exercises_with_solutions():
    assert (BOOK / "static_mechanisms.md") in PAGES
    sols = solution_fragments(BOOK / "static_mechanisms.md")
    assert len(sols) >= 4, sols.keys()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_exercise_has_a_solution_with_distinctive_text(page):
    exercises = exercise_fragments(page)
    sols = solution_fragments(page)
    assert set(sols) == set(exercises), f"exercises without a solution or the reverse: {set(sols) ^ set(exercises)}"
    thin = {label: len(f) for label, f in sols.items() if len(f) < 2}
    assert not thin, f"solutions with fewer than 2 distinctive fragments (write more, or extend fragments()): {thin}"


def test_fragments_see_gated_code():
    body = "Prose that explains the answer in a full sentence.\n```{code-cell} ipython3\nanswer = secret_value + 1\n```"
    text = "```{exercise} T\n:label: ex-a\n\nState a problem for the reader here.\n```\n\n" \
           "````{solution-start} ex-a\n:class: dropdown\n````\n\n" + body + "\n\n````{solution-end}\n````\n"
    (kind1, label1, _), (kind2, label2, sol) = blocks(text)
    assert (kind1, label1, kind2, label2) == ("exercise", "ex-a", "solution", "ex-a")
    assert fragments(sol) == ["Prose that explains the answer in a full sentence", "answer = secret_value + 1"]


def test_student_config_hides_solutions_and_downloads():
    build_student = _load("build_student")
    cfg = build_student.student_config(yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")))
    conf = cfg["sphinx"]["config"]
    assert conf["hide_solutions"] is True and conf["html_copy_source"] is False
    assert "book_ext" not in cfg["sphinx"]["local_extensions"]  # its .ipynb downloads carry the solutions
    assert "student_ext" in cfg["sphinx"]["local_extensions"]


# ------------------------------------------------------------------ tests on the built sites
def need(site: Path) -> None:
    """Skip when the site is not built; ``make test-student`` builds both and sets REQUIRE_BUILT_SITES=1 to fail instead."""
    if not (site / "index.html").exists():
        if os.environ.get("REQUIRE_BUILT_SITES") == "1":
            pytest.fail(f"{site} is not built (make html student)")
        pytest.skip(f"{site} is not built: run `make test-student`")


@pytest.mark.pipeline
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_student_page_has_every_exercise_and_no_solution(page):
    need(STUDENT)
    need(INSTRUCTOR)
    student, instructor = site_text(html_of(STUDENT, page)), site_text(html_of(INSTRUCTOR, page))
    for label, frags in solution_fragments(page).items():
        leaked = [f for f in frags if f in student]
        assert not leaked, f"{page.name}, solution of {label}: in the student edition: {leaked}"
        missing = [f for f in frags if f not in instructor]
        assert not missing, f"{page.name}, solution of {label}: not found in the instructor book (extraction bug?): {missing}"
    for label, frags in exercise_fragments(page).items():
        for site, text in (("student", student), ("instructor", instructor)):
            missing = [f for f in frags if f not in text]
            assert not missing, f"{page.name}, exercise {label}: missing from the {site} edition: {missing}"
    raw = html_of(STUDENT, page).read_text(encoding="utf-8")
    assert not re.search(r'class="[^"]*\bsolution\b', raw), "a solution admonition survived in the student page"
    assert re.search(r'class="[^"]*\bsolution\b', html_of(INSTRUCTOR, page).read_text(encoding="utf-8"))


@pytest.mark.pipeline
def test_student_site_offers_no_source_or_notebook():
    need(STUDENT)
    leaks = [str(p.relative_to(STUDENT)) for p in STUDENT.rglob("*")
             if "_static" not in p.parts and (p.suffix in {".ipynb", ".md", ".txt"} or "_sources" in p.parts)]
    assert not leaks, f"files that would carry solutions: {leaks[:10]}"


@pytest.mark.pipeline
def test_no_solution_text_anywhere_in_the_student_site():
    need(STUDENT)
    need(INSTRUCTOR)
    every_page = " ".join(site_text(p) for p in STUDENT.rglob("*.html"))
    leaked = {}
    for page in PAGES:
        # A fragment that the instructor book also prints on another page (a docstring on the
        # reference page, a chapter's output) is not distinctive: the per-page test covers it.
        own = html_of(INSTRUCTOR, page).resolve()
        elsewhere = " ".join(site_text(p) for p in INSTRUCTOR.rglob("*.html") if p.resolve() != own)
        for label, frags in solution_fragments(page).items():
            leaked.update({(page.name, label): f for f in frags if f in every_page and f not in elsewhere})
    assert not leaked, f"solution text in the student site: {leaked}"

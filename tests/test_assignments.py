"""Autograded assignments (``make assignments``): the autograder separates right from wrong.

For every problem set, Otter-Grader's own runner (``otter run``, no container) grades three
submissions with the generated autograder: the reference solution must get full marks, the blank
student notebook none, and a wrong submission (one answer per graded problem changed) strictly
less than full marks on every graded problem.  The student notebook must contain no solution text
and no test.

The tests of the built assignments run under ``make test-assignments``, which builds them and sets
``REQUIRE_BUILT_ASSIGNMENTS=1``; elsewhere they skip.  The tests of the conversion always run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from helpers import load_module

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("ASSIGNMENTS_DIR", ROOT / "_build" / "assignments"))
OTTER = Path(sys.executable).parent / "otter"


make_assignments = load_module("make_assignments", ROOT / "tools" / "make_assignments.py")
run_chapters = load_module("run_chapters", ROOT / "tools" / "run_chapters.py")
student_edition = load_module("student_edition_checks", ROOT / "tests" / "test_student_edition.py")
SETS = make_assignments.problem_sets()
# The problem sets with per-student variants (a draw cell): each must have one, and the pipeline grades its variants.
VARIANT_SETS = {"static_benchmark", "learning_buyer", "research_frontier", "dynamic_allocation"}


# ------------------------------------------------------------------ the conversion (always)
def test_slowest_pages_start_first():
    """Chapters and gradings start slowest first, by benchmarks/chapter_times.json; a page it does not list
    (new, or outside the repository, as in the pipeline tests) counts as slowest."""
    times = json.loads((ROOT / "benchmarks" / "chapter_times.json").read_text())["seconds"]
    listed = [ROOT / f"{page}.md" for page in times]
    order = run_chapters.longest_first([Path("/elsewhere/book/new.md"), *listed])
    assert order[0] == Path("/elsewhere/book/new.md")
    assert [times[p.relative_to(ROOT).with_suffix("").as_posix()] for p in order[1:]] == sorted(times.values(), reverse=True)
    assert run_chapters.longest_first([Path("book/intro.md"), Path("book/static_mechanisms.md")])[0].stem == max(
        ("intro", "static_mechanisms"), key=lambda stem: times[f"book/{stem}"])


def test_every_problem_set_has_autograded_problems():
    assert SETS, "no problem set in book/problem_sets"
    for source in SETS:
        _, points = make_assignments.master_notebook(source)
        assert points and all(p >= 1 for p in points.values()), f"{source.name}: no autograded problem"


def test_graded_names_and_test_cases():
    answer = "x, y = 1, 2\nhelper = 3\nbest = x + y"
    tests = "_t = 1e-9\nassert abs(best - 3) < _t\nassert y == 2"
    assert make_assignments.graded_names(answer, tests) == ["y", "best"]
    assert make_assignments.test_cases(tests) == ["_t = 1e-9\nassert abs(best - 3) < _t", "_t = 1e-9\nassert y == 2"]


def test_static_benchmark_questions():
    _, points = make_assignments.master_notebook(ROOT / "book" / "problem_sets" / "static_benchmark.md")
    assert points == {"ps-static-pareto": 2, "ps-static-two-bands": 6, "ps-static-all-pay": 3}


# ------------------------------------------------------------------ the built assignments
def built(source: Path) -> Path:
    where = OUT / source.stem
    if not (where / "student" / f"{source.stem}.ipynb").exists():
        if os.environ.get("REQUIRE_BUILT_ASSIGNMENTS") == "1":  # fail instead of skipping
            pytest.fail(f"{where} is not built (make assignments)")
        pytest.skip(f"{where} is not built: run `make test-assignments`")
    return where


def _otter_run(autograder: str, submission: str, output_dir: str) -> None:
    """``otter run -a AUTOGRADER -o OUTPUT_DIR SUBMISSION`` in this process: the command's own code
    (:func:`otter.run.main`), without a new interpreter importing Otter for every submission."""
    import contextlib

    from otter.run import main as otter_run

    os.environ["MPLBACKEND"] = "Agg"  # the grading kernel inherits it
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        otter_run(submission, autograder=autograder, output_dir=output_dir, no_logo=True)


def grade(where: Path, submission: nbformat.NotebookNode, tmp_path: Path, label: str, pool=None) -> dict[str, tuple[float, float]]:
    """(score, max score) of each graded question, from Otter's ``otter run`` with the autograder zip: in
    ``pool`` (worker processes, as Otter changes the working directory while it grades), else in a process
    of its own."""
    (autograder,) = sorted((where / "autograder").glob("*-autograder_*.zip"))[-1:]
    run = tmp_path / label
    run.mkdir()
    path = run / "submission.ipynb"
    nbformat.write(submission, path)
    if pool is None:
        env = {**os.environ, "MPLBACKEND": "Agg", "PATH": f"{OTTER.parent}{os.pathsep}{os.environ['PATH']}"}
        subprocess.run([str(OTTER), "run", "--no-logo", "-a", str(autograder), "-o", str(run), str(path)],
                       check=True, capture_output=True, text=True, env=env, cwd=run)
    else:
        pool.submit(_otter_run, str(autograder), str(path), str(run)).result()
    tests = json.loads((run / "results.json").read_text())["tests"]
    return {t["name"]: (t["score"], t["max_score"]) for t in tests if "max_score" in t and t["name"] != "Public Tests"}


@pytest.mark.pipeline
@pytest.mark.parametrize("source", SETS, ids=lambda p: p.stem)
def test_student_notebook_has_no_solution_and_no_test(source):
    where = built(source)
    student = nbformat.read(where / "student" / f"{source.stem}.ipynb", as_version=4)
    text = student_edition.normalise("\n".join(c.source for c in student.cells))
    leaked = [f for frags in student_edition.solution_fragments(source).values() for f in frags if f in text]
    assert not leaked, f"solution text in the student notebook: {leaked[:5]}"
    assert "assert" not in text and "SOLUTION" not in text, "tests or solution markers in the student notebook"
    for frags in student_edition.exercise_fragments(source).values():
        missing = [f for f in frags if f not in text]
        assert not missing, f"exercise text missing from the student notebook: {missing}"


def _wrong(reference: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The reference with the first graded answer of every question moved a little, in the answer cell itself
    (Otter checks a question right after the cell that carries its tests)."""
    wrong = nbformat.from_dict(json.loads(json.dumps(reference)))
    for cell in [c for c in wrong.cells if c.get("metadata", {}).get("otter", {}).get("tests")]:
        first = re.findall(r"^(\w+) = \.\.\.", cell.source, re.M)[0]
        cell.source += f"\n{first} = {first} + 0.25"
    return wrong


def submissions(source: Path) -> dict[str, nbformat.NotebookNode]:
    """Every submission the pipeline grades for one problem set, by label.

    The book's version: its reference solution, the blank student notebook and a wrong submission. With
    variants (at least 3 built): the reference of variants 1 and 2 (variant 0 is the book's version, checked
    cell by cell in :func:`test_variant_zero_is_the_book`) and variant a's answers in variant b for the pairs
    (0, 1) and (1, 2)."""
    where = built(source)
    read = lambda sub, name: nbformat.read(where / sub / f"{name}.ipynb", as_version=4)  # noqa: E731
    reference = read("autograder", source.stem)
    jobs = {"reference": reference, "blank": read("student", source.stem), "wrong": _wrong(reference)}
    ks = variants(where, source.stem)[:3]
    if source.stem in VARIANT_SETS and len(ks) == 3:
        for k in ks[1:]:
            jobs[f"reference-v{k}"] = read("autograder", f"{source.stem}-v{k}")
        for a, b in zip(ks, ks[1:]):
            jobs[f"v{a}-as-v{b}"] = _swap_answers(read("autograder", f"{source.stem}-v{b}"),
                                                  read("autograder", f"{source.stem}-v{a}"))
    return jobs


@pytest.fixture(scope="session")
def grades(tmp_path_factory) -> dict[str, dict[str, dict[str, tuple[float, float]]]]:
    """Every submission of every built problem set graded by ``otter run``, JOBS at a time (one pool for all:
    JOBS worker processes, each importing Otter once and grading its share of the submissions)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    # the slowest problem sets first, so that no slow grading starts last and runs alone at the end
    jobs = [(source, label, nb) for source in run_chapters.longest_first(SETS) for label, nb in submissions(source).items()]
    root = tmp_path_factory.mktemp("grades")
    workers = int(os.environ.get("JOBS", "2"))
    # spawned workers: a fresh interpreter each (the test process's threads and state do not come along)
    os.environ["PATH"] = f"{OTTER.parent}{os.pathsep}{os.environ['PATH']}"
    context = multiprocessing.get_context("spawn")

    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as graders, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        def one(job):
            source, label, nb = job
            run = root / source.stem
            run.mkdir(exist_ok=True)
            return grade(OUT / source.stem, nb, run, label, graders)

        results = list(pool.map(one, jobs))
    out: dict = {source.stem: {} for source in SETS}
    for (source, label, _), scores in zip(jobs, results):
        out[source.stem][label] = scores
    return out


@pytest.mark.pipeline
@pytest.mark.parametrize("source", SETS, ids=lambda p: p.stem)
def test_autograder_gives_full_marks_to_the_reference_only(source, grades):
    where = built(source)
    _, points = make_assignments.master_notebook(source)
    reference = nbformat.read(where / "autograder" / f"{source.stem}.ipynb", as_version=4)
    answer_cells = [c for c in reference.cells if c.get("metadata", {}).get("otter", {}).get("tests")]
    assert len(answer_cells) == len(points), "one answer cell per graded question (the wrong submission moves each)"
    scores = grades[source.stem]["reference"]
    assert set(scores) == set(points)
    assert all(score == top == points[q] for q, (score, top) in scores.items()), f"reference: {scores}"
    scores = grades[source.stem]["blank"]
    assert all(score == 0 for score, _ in scores.values()), f"a blank notebook scored: {scores}"
    scores = grades[source.stem]["wrong"]
    assert all(score < top for score, top in scores.values()), f"a wrong answer got full marks: {scores}"


# ------------------------------------------------------------------ variants (make assignments VARIANTS=N)
def test_sets_with_variants_have_a_draw_cell():
    assert VARIANT_SETS <= {source.stem for source in SETS}, "VARIANT_SETS names a problem set that does not exist"
    for source in SETS:
        has_draw = make_assignments.draw_namespace(source) is not None
        assert has_draw == (source.stem in VARIANT_SETS), f"{source.name}: draw cell {has_draw}, in VARIANT_SETS {source.stem in VARIANT_SETS}"


def parameter_questions(source: Path) -> set[str]:
    """The graded questions whose answer cell reads a drawn parameter: a classmate's answers must lose marks there."""
    import ast

    drawn = set(make_assignments.draw_namespace(source)["draw"](0))
    master, _ = make_assignments.master_notebook(source)
    out, current = set(), None
    for cell in master.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            current = re.search(r"name: (\S+)", cell.source).group(1)
        elif cell.cell_type == "code" and "# BEGIN SOLUTION NO PROMPT" in cell.source:
            if {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)} & drawn:
                out.add(current)
    return out


def test_parameter_questions():
    """Every problem set with variants has graded problems that depend on the drawn parameters."""
    for source in SETS:
        if source.stem in VARIANT_SETS:
            assert parameter_questions(source), f"{source.name}: no graded problem reads a drawn parameter"
    static = ROOT / "book" / "problem_sets" / "static_benchmark.md"
    assert parameter_questions(static) == {"ps-static-pareto", "ps-static-two-bands", "ps-static-all-pay"}


def variants(where: Path, stem: str) -> list[int]:
    return sorted(int(p.stem.rsplit("-v", 1)[1]) for p in (where / "student").glob(f"{stem}-v*.ipynb"))


def test_variant_parameters_keep_their_character():
    """Every problem set with a draw cell: variant 0 is the book, and 20 variants pass the character check."""
    for source in SETS:
        namespace = make_assignments.draw_namespace(source)
        if namespace is None:
            continue
        params = [namespace["draw"](k) for k in range(20)]
        for p in params:
            namespace["character"](p)
        assert len({repr(p) for p in params}) == len(params), f"{source.name}: two variants share their parameters"
        book = namespace["wording"](params[0])
        text = jupytext.read(source)
        text = "\n".join(c.source for c in text.cells if c.cell_type == "markdown")
        assert all(phrase in text for phrase in book), f"{source.name}: a phrase of wording() is not in the problem texts"
        assert all(len(namespace["wording"](p)) == len(book) for p in params), "one phrase per phrase of the book"


def test_parameter_cell_is_rewritten():
    source = "α = 3          # shape\nbands = ((1, 2), (2, 6))\nn, v = 3, 0.7  # two"
    out = make_assignments.parameter_source(source, {"α": 2.5, "bands": ((1, 1.8), (1.8, 5.0)), "n": 4, "v": 0.55}, 7)
    assert out.splitlines() == [make_assignments.VARIANT_LINE.format(k=7), "α = 2.5          # shape",
                                "bands = ((1, 1.8), (1.8, 5.0))", "n, v = 4, 0.55  # two"]


def _swap_answers(target: nbformat.NotebookNode, donor: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The donor's answers in the target's notebook: each answer cell runs with the donor's parameters,
    then restores the target's, as if a student copied a classmate's numbers into his own variant."""
    param = lambda nb: next(c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith("variant = "))
    out = nbformat.from_dict(json.loads(json.dumps(target)))
    for cell in out.cells:
        if cell.get("metadata", {}).get("otter", {}).get("tests"):
            cell.source = f"{param(donor)}\n{cell.source}\n{param(target)}"
    return out


def _parameters(nb: nbformat.NotebookNode) -> dict:
    """The values the notebook's parameter cell (the one that starts with ``variant = ``) assigns, run after
    the setup cells above it (its imports)."""
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    k = next(i for i, source in enumerate(code) if source.startswith("variant = "))
    before: dict = {}
    exec("\n".join(code[:k]), before)  # noqa: S102 - our own generated notebook
    namespace = dict(before)
    exec(code[k], namespace)  # noqa: S102
    return {name: repr(v) for name, v in namespace.items() if not name.startswith("__") and v is not before.get(name)}


@pytest.mark.pipeline
@pytest.mark.parametrize("source", SETS, ids=lambda p: p.stem)
def test_variant_zero_is_the_book(source):
    """Variant 0 is the book's own version: the same cells, and a parameter cell with the same values; so the
    grades of the book's version stand for it."""
    where = built(source)
    if source.stem not in VARIANT_SETS:
        pytest.skip(f"{source.stem} has no variants: one version only")
    if 0 not in variants(where, source.stem):
        pytest.fail(f"{where}: variant 0 not built (make assignments VARIANTS=3)")
    for sub in ("student", "autograder"):
        book = nbformat.read(where / sub / f"{source.stem}.ipynb", as_version=4)
        zero = nbformat.read(where / sub / f"{source.stem}-v0.ipynb", as_version=4)
        assert _parameters(zero) == _parameters(book)
        differ = [k for k, (a, b) in enumerate(zip(book.cells, zero.cells)) if a.source != b.source
                  and not a.source.startswith("variant = ")]
        assert len(book.cells) == len(zero.cells) and not differ, f"{sub}: variant 0 differs in cells {differ}"


@pytest.mark.pipeline
@pytest.mark.parametrize("source", SETS, ids=lambda p: p.stem)
def test_one_autograder_grades_every_variant(source, grades):
    """Reference of each variant: full marks; variant A's answers in variant B: every question whose answer
    reads a drawn parameter loses marks (the others, with fixed data, keep them). A blank notebook of any
    variant scores nothing: the blank book version stands for them, as the tests do not read the answers'
    absence differently per variant."""
    where = built(source)
    if source.stem not in VARIANT_SETS:
        pytest.skip(f"{source.stem} has no variants: one version only")
    assert make_assignments.draw_namespace(source) is not None, f"{source.stem}: no draw cell"
    ks = variants(where, source.stem)
    if len(ks) < 3:
        if os.environ.get("REQUIRE_BUILT_ASSIGNMENTS") == "1":
            pytest.fail(f"{where}: fewer than 3 variants (make assignments VARIANTS=3)")
        pytest.skip("variants not built")
    ks = ks[:3]
    results = grades[source.stem]
    _, points = make_assignments.master_notebook(source)
    for k in ks[1:]:
        scores = results[f"reference-v{k}"]
        assert set(scores) == set(points), f"reference of variant {k}: questions {sorted(scores)}"
        assert all(score == top == points[q] for q, (score, top) in scores.items()), f"reference of variant {k}: {scores}"
    depends = parameter_questions(source)
    for a, b in zip(ks, ks[1:]):
        scores = results[f"v{a}-as-v{b}"]
        assert set(scores) == set(points), f"variant {a} as {b}: questions {sorted(scores)}"
        kept = [q for q in depends if scores[q][0] >= scores[q][1]]
        assert not kept, f"variant {a}'s answers submitted as variant {b} kept full marks on {kept}: {scores}"

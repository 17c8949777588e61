"""Turn each problem set into a student notebook and an Otter-Grader autograder (``make assignments``).

A problem set (``book/problem_sets/<part>.md``, a MyST notebook) marks what the assignment needs
with cell tags:

``assignment-setup``
    shared imports and parameters, copied to the student notebook as they are;
``assignment-answer``
    the reference solution of a graded problem (inside its solution dropdown): it becomes a
    solution cell, which the student notebook shows as ``name = ...`` for each graded variable;
``assignment-tests``
    the hidden cell after it (also ``remove-cell``): every ``assert`` in it becomes one hidden test
    case worth one point, preceded by the cell's other statements (helper definitions);
``assignment-parameters`` (with ``assignment-setup``)
    the parameters of the problems, one assignment per line; optional, for variants;
``assignment-draw``
    a hidden cell (also ``remove-cell``) that defines ``draw(variant)``, the parameters of a variant
    as a dict (variant 0: the book's own), ``character(parameters)``, which asserts that every
    problem keeps its character, and ``wording(parameters)``, the phrases of the problem texts that
    name parameters: each phrase of ``wording(draw(0))`` is replaced by its counterpart for a variant.

With a draw cell, every hidden test also checks that the notebook's parameters are ``draw(variant)``
for the notebook's own ``variant``, and its expected answers are computed from those parameters; so one
autograder grades every variant, and ``--variants N`` writes ``student/<part>-v<k>.ipynb`` and its
reference solution ``autograder/<part>-v<k>.ipynb`` for ``k = 0..N-1``, each with its own parameters.

Problems without an answer cell (proofs) appear in the student notebook as text, graded by hand.
Solutions, prose of the solutions and the book's own check cells never reach the student notebook.

For each problem set this writes an Otter "assign" master notebook and runs ``otter assign``:

    _build/assignments/<part>/master.ipynb
    _build/assignments/<part>/student/<part>.ipynb               <- hand this out
    _build/assignments/<part>/autograder/<part>.ipynb            <- the reference solution
    _build/assignments/<part>/autograder/<part>-autograder_*.zip <- grade with `otter run -a ZIP SUBMISSION`

Usage: ``python tools/make_assignments.py [problem sets ...] [--out DIR] [--variants N] [--jobs J]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(`{3,}|:{3,})\{([\w-]+)\}\s*(.*)$")
ROLE = re.compile(r"\{[\w:-]+\}`([^`<]*?)\s*(?:<[^>]*>)?`")
SETUP, ANSWER, TESTS = "assignment-setup", "assignment-answer", "assignment-tests"
PARAMETERS, DRAW = "assignment-parameters", "assignment-draw"
VARIANT_LINE = "variant = {k}  # the number of your assignment: do not change it"


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def plain(text: str) -> str:
    """MyST roles to plain Markdown: ``{prf:ref}`cor-revenue-equivalence``` -> ``*revenue equivalence*``."""
    def words(m: re.Match) -> str:
        label = re.sub(r"^(cor|thm|def|lem|prop|eq|fig|ex|ps)-", "", m.group(1))
        return f"*{label.replace('-', ' ')}*"
    return ROLE.sub(words, text)


def graded_names(answer: str, tests: str) -> list[str]:
    """Variables the answer cell assigns at top level and the tests read: the graded answers."""
    assigned: list[str] = []
    for node in ast.parse(answer).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id not in assigned:
                    assigned.append(name.id)
    read = {n.id for n in ast.walk(ast.parse(tests)) if isinstance(n, ast.Name)}
    return [name for name in assigned if name in read]


def test_cases(tests: str) -> list[str]:
    """One test case per ``assert``, each preceded by the cell's other statements."""
    body = ast.parse(tests).body
    prelude = [ast.get_source_segment(tests, n) for n in body if not isinstance(n, ast.Assert)]
    return ["\n".join([*prelude, ast.get_source_segment(tests, n)]) for n in body if isinstance(n, ast.Assert)]


def split_markdown(text: str, state: dict) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Student-visible lines of a markdown cell, and the exercises it opens: (label, title, body).

    ``state["in_solution"]`` carries a gated solution across cells.
    """
    lines, out, exercises, k = text.splitlines(), [], [], 0
    while k < len(lines):
        m = FENCE.match(lines[k])
        kind = m.group(2) if m else None
        if kind in ("exercise", "solution"):
            fence, j = m.group(1), k + 1
            while lines[j].strip() != fence:
                j += 1
            block = lines[k + 1:j]
            if kind == "exercise":
                label = next((ln.split(":", 2)[2].strip() for ln in block if ln.startswith(":label:")), "")
                body = [ln for ln in block if not ln.startswith(":")]
                exercises.append((label, m.group(3).strip(), "\n".join(body).strip()))
                out.append(f"\x00{label}")  # where the exercise goes
            k = j + 1
            continue
        if kind in ("solution-start", "solution-end"):
            state["in_solution"] = kind == "solution-start"
            fence, j = m.group(1), k + 1
            while lines[j].strip() != fence:
                j += 1
            k = j + 1
            continue
        if not state["in_solution"]:
            out.append(lines[k])
        k += 1
    return out, exercises


def master_notebook(source: Path) -> tuple[nbformat.NotebookNode, dict[str, int]]:
    """The Otter master notebook of a problem set, and the points of each graded question."""
    nb = jupytext.read(source)
    name = source.stem
    cells = [nbformat.v4.new_raw_cell(
        "# ASSIGNMENT CONFIG\n"
        f"name: {name}\n"
        "init_cell: false\n"
        "check_all_cell: false\n"
        "export_cell: false\n"
        "run_tests: true\n"
        "generate: true\n"
    )]
    # Which exercise each answer and test cell belongs to: the last exercise opened before it.
    state, current, answers, pending = {"in_solution": False}, None, {}, []
    graded = set()
    draw = "\n\n".join(c.source for c in nb.cells if DRAW in tags(c))
    guard = f"{draw}\n\n{PARAMETER_CHECK}" if draw else ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            _, opened = split_markdown(cell.source, {"in_solution": False})
            current = opened[-1][0] if opened else current
        elif ANSWER in tags(cell):
            graded.add(current)
    points: dict[str, int] = {}
    current = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines, opened = split_markdown(cell.source, state)
            text_lines = []
            for line in lines:
                if line.startswith("\x00"):
                    label, title, body = next(e for e in opened if e[0] == line[1:])
                    current = label
                    if text_lines:
                        pending.append(nbformat.v4.new_markdown_cell(plain("\n".join(text_lines)).strip()))
                        text_lines = []
                    cells.extend(pending)
                    pending = []
                    if label in graded:
                        cells.append(nbformat.v4.new_raw_cell(f"# BEGIN QUESTION\nname: {label}"))
                    note = "" if label in graded else "\n\n*Answer in words and formulas; graded by hand.*"
                    cells.append(nbformat.v4.new_markdown_cell(f"**{title}**\n\n{plain(body)}{note}"))
                else:
                    text_lines.append(line)
            text = plain(re.sub(r"^\([\w-]+\)=$", "", "\n".join(text_lines), flags=re.M)).strip()
            if text:
                pending.append(nbformat.v4.new_markdown_cell(text))
        elif SETUP in tags(cell):
            cells.extend(pending)
            pending = []
            source = cell.source
            if PARAMETERS in tags(cell) and draw:
                source = VARIANT_LINE.format(k=0) + "\n" + source
            cells.append(nbformat.v4.new_code_cell(source))
        elif ANSWER in tags(cell):
            answers[current] = cell.source
        elif TESTS in tags(cell):
            answer = answers.pop(current)
            names = graded_names(answer, cell.source)
            stub = "\n".join(f"{n} = ...  # your answer" for n in names)
            cells += [
                nbformat.v4.new_raw_cell("# BEGIN SOLUTION"),
                nbformat.v4.new_code_cell(f"{stub}\n# BEGIN SOLUTION NO PROMPT\n{answer}\n# END SOLUTION"),
                nbformat.v4.new_raw_cell("# END SOLUTION"),
            ]
            cases = test_cases(cell.source)
            points[current] = len(cases)
            cells.append(nbformat.v4.new_raw_cell("# BEGIN TESTS"))
            for case in cases:
                cells.append(nbformat.v4.new_code_cell(
                    '""" # BEGIN TEST CONFIG\nhidden: true\npoints: 1\n""" # END TEST CONFIG\n'
                    + (f"{guard}\n" if guard else "") + case))
            cells += [nbformat.v4.new_raw_cell("# END TESTS"), nbformat.v4.new_raw_cell("# END QUESTION")]
    cells.extend(pending)
    if answers:
        raise ValueError(f"{source}: answer cells without a test cell: {sorted(answers)}")
    master = nbformat.v4.new_notebook(cells=cells)
    master.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    master.metadata["language_info"] = {"name": "python"}
    return master, points


# Run before every hidden test of a problem set with variants: the notebook's parameters must be its variant's.
PARAMETER_CHECK = """\
def _same(a, b):
    try:
        return np.shape(a) == np.shape(b) and np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=0, atol=1e-12)
    except (TypeError, ValueError):
        return a == b
_expected = draw(variant)
_changed = [name for name, value in _expected.items() if not _same(globals().get(name), value)]
assert not _changed, f"the parameters {_changed} are not those of variant {variant}"
"""


def literal(value) -> str:
    """Python source for a parameter value: numbers, strings, tuples, lists and numpy arrays."""
    if isinstance(value, np.ndarray):
        return f"np.array({literal(value.tolist())})"
    if isinstance(value, np.generic):
        return literal(value.item())
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def parameter_source(source: str, params: dict, k: int) -> str:
    """The parameter cell of variant ``k``: each right-hand side replaced, the comments kept."""
    lines = source.splitlines()
    for node in reversed(ast.parse(source).body):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        names = [target.id] if isinstance(target, ast.Name) else [e.id for e in getattr(target, "elts", [])]
        if not names or any(n not in params for n in names):
            continue
        new = ", ".join(literal(params[n]) for n in names)
        first, last = node.value.lineno - 1, node.value.end_lineno - 1
        head = lines[first].encode()[:node.value.col_offset].decode()       # ast offsets count UTF-8 bytes
        tail = lines[last].encode()[node.value.end_col_offset:].decode()
        lines[first:last + 1] = [head + new + tail]
    return "\n".join([VARIANT_LINE.format(k=k), *lines])


def draw_namespace(source: Path) -> dict | None:
    """The namespace of a problem set's setup and draw cells (``draw``, ``character``, ``wording``), or None."""
    nb = jupytext.read(source)
    draw = [c.source for c in nb.cells if DRAW in tags(c)]
    if not draw:
        return None
    namespace: dict = {}
    for cell in nb.cells:
        if SETUP in tags(cell) and PARAMETERS not in tags(cell):
            exec(compile(cell.source, str(source), "exec"), namespace)
    exec(compile("\n\n".join(draw), str(source), "exec"), namespace)
    return namespace


def variant_notebook(notebook: nbformat.NotebookNode, namespace: dict, k: int) -> nbformat.NotebookNode:
    """A copy of a student or reference notebook with the parameters and problem texts of variant ``k``."""
    params = namespace["draw"](k)
    namespace["character"](params)
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))
    marker = VARIANT_LINE.format(k=0)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(marker)]
    cell.source = parameter_source(cell.source[len(marker) + 1:], params, k)
    book, mine = namespace["wording"](namespace["draw"](0)), namespace["wording"](params)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    missing = [old for old in book if old not in text]
    if missing:
        raise ValueError(f"wording: texts not found in the notebook: {missing}")
    for c in nb.cells:
        if c.cell_type == "markdown":
            for old, new in zip(book, mine):
                c.source = c.source.replace(old, new)
    return nb


def write_variants(source: Path, target: Path, count: int) -> None:
    """``student/<part>-v<k>.ipynb`` and ``autograder/<part>-v<k>.ipynb`` for ``k = 0..count-1``."""
    namespace = draw_namespace(source)
    if namespace is None:
        print(f"{source.stem}: no draw cell, no variants")
        return
    for sub in ("student", "autograder"):
        base = nbformat.read(target / sub / f"{source.stem}.ipynb", as_version=4)
        for k in range(count):
            nbformat.write(variant_notebook(base, namespace, k), target / sub / f"{source.stem}-v{k}.ipynb")


def problem_sets() -> list[Path]:
    return sorted((ROOT / "book" / "problem_sets").glob("*.md"))


def build(source: Path, out: Path) -> dict[str, int]:
    """Write the master notebook and run ``otter assign``; return the points of each question."""
    target = out / source.stem
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    master, points = master_notebook(source)
    nbformat.write(master, target / f"{source.stem}.ipynb")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "MPLBACKEND": "Agg"}
    run = subprocess.run([str(bin_dir / "otter"), "assign", "--no-pdfs", "--no-run-tests", f"{source.stem}.ipynb", "dist"],
                         cwd=target, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        sys.stdout.write(run.stdout[-5000:] + run.stderr[-5000:])
        raise SystemExit(f"otter assign failed on {source.name} (exit {run.returncode})")
    (target / f"{source.stem}.ipynb").rename(target / "master.ipynb")
    for sub in ("student", "autograder"):
        shutil.move(target / "dist" / sub, target / sub)
    shutil.rmtree(target / "dist")
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path, help="problem sets (default: book/problem_sets/*.md)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "assignments")
    parser.add_argument("--variants", type=int, default=0,
                        help="also write N variants of each problem set with a draw cell (variant k: its own parameters)")
    parser.add_argument("--jobs", type=int, default=1, help="problem sets built at once (each runs otter assign)")
    args = parser.parse_args(argv)

    def one(source: Path) -> str:
        points = build(source.resolve(), args.out)
        where = args.out / source.stem
        if args.variants > 0:
            write_variants(source.resolve(), where, args.variants)
        return (f"{source.stem}: {len(points)} autograded problems, {sum(points.values())} hidden tests; "
                f"student notebook {where / 'student'}, autograder {where / 'autograder'}")

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for line in pool.map(one, args.sets or problem_sets()):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

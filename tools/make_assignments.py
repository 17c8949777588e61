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
    case worth one point, preceded by the cell's other statements (helper definitions).

Problems without an answer cell (proofs) appear in the student notebook as text, graded by hand.
Solutions, prose of the solutions and the book's own check cells never reach the student notebook.

For each problem set this writes an Otter "assign" master notebook and runs ``otter assign``:

    _build/assignments/<part>/master.ipynb
    _build/assignments/<part>/student/<part>.ipynb               <- hand this out
    _build/assignments/<part>/autograder/<part>.ipynb            <- the reference solution
    _build/assignments/<part>/autograder/<part>-autograder_*.zip <- grade with `otter run -a ZIP SUBMISSION`

Usage: ``python tools/make_assignments.py [problem sets ...] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(`{3,}|:{3,})\{([\w-]+)\}\s*(.*)$")
ROLE = re.compile(r"\{[\w:-]+\}`([^`<]*?)\s*(?:<[^>]*>)?`")
SETUP, ANSWER, TESTS = "assignment-setup", "assignment-answer", "assignment-tests"


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
            cells.append(nbformat.v4.new_code_cell(cell.source))
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
                    '""" # BEGIN TEST CONFIG\nhidden: true\npoints: 1\n""" # END TEST CONFIG\n' + case))
            cells += [nbformat.v4.new_raw_cell("# END TESTS"), nbformat.v4.new_raw_cell("# END QUESTION")]
    cells.extend(pending)
    if answers:
        raise ValueError(f"{source}: answer cells without a test cell: {sorted(answers)}")
    master = nbformat.v4.new_notebook(cells=cells)
    master.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    master.metadata["language_info"] = {"name": "python"}
    return master, points


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
    subprocess.run([str(bin_dir / "otter"), "assign", "--no-pdfs", f"{source.stem}.ipynb", "dist"],
                   cwd=target, env=env, check=True)
    (target / f"{source.stem}.ipynb").rename(target / "master.ipynb")
    for sub in ("student", "autograder"):
        shutil.move(target / "dist" / sub, target / sub)
    shutil.rmtree(target / "dist")
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path, help="problem sets (default: book/problem_sets/*.md)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "assignments")
    args = parser.parse_args(argv)
    for source in args.sets or problem_sets():
        points = build(source.resolve(), args.out)
        where = args.out / source.stem
        print(f"{source.stem}: {len(points)} autograded problems, {sum(points.values())} hidden tests; "
              f"student notebook {where / 'student'}, autograder {where / 'autograder'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Check that every chapter gives the same output twice.

The book build executes each chapter once and keeps the executed notebook in
``_build/jupyter_execute``.  This script executes each chapter again in a fresh
kernel and compares the two, output by output: text, HTML, LaTeX and images must be
identical.  Unseeded randomness, printed timings or dictionary-order accidents show up
here.  Some things are normalised away because they differ by design: the ids that
ipywidgets gives its models, memory addresses in object reprs, and how printed
text is split into chunks; stderr (warnings, which the book hides) is not compared.

Each re-run happens in its own process with a wall-clock limit (``--timeout``, per chapter) and
is retried once if it hits it, so a kernel that stops answering (a lost message between
Jupyter client and kernel, seen rarely on these machines) costs minutes, not the whole run.

Usage: ``python tools/check_determinism.py _build`` (after ``make html``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = [
    (re.compile(r'"model_id": "[0-9a-f]{32}"'), '"model_id": "<id>"'),
    (re.compile(r"[0-9a-f]{32}"), "<id>"),
    (re.compile(r" at 0x[0-9a-f]+"), " at 0x<addr>"),
]
COMPARED = ("text/plain", "text/html", "text/latex", "text/markdown", "image/png", "image/svg+xml")


def normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def outputs(nb: nbformat.NotebookNode) -> list[list[str]]:
    """The comparable outputs of each code cell, as normalised strings."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        found, stdout = [], ""
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                # How a kernel splits printed text into chunks depends on timing, and stderr
                # carries warnings the book hides: compare the whole of stdout only.
                if out.name == "stdout":
                    stdout += out.text
            elif out.output_type in ("display_data", "execute_result"):
                for mime in COMPARED:
                    if mime in out.data:
                        value = out.data[mime]
                        found.append(f"{mime}: {normalise(value if isinstance(value, str) else ''.join(value))}")
        if stdout:
            found.insert(0, f"stdout: {normalise(stdout)}")
        cells.append(found)
    return cells


def execute(source: Path) -> nbformat.NotebookNode:
    nb = jupytext.read(source)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(source.parent)}}).execute()
    return nb


def execute_isolated(source: Path, timeout: float = 300.0, attempts: int = 2) -> nbformat.NotebookNode:
    """:func:`execute` in a fresh process (its own session), killed after ``timeout`` seconds and retried."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "executed.ipynb"
        for attempt in range(1, attempts + 1):
            proc = subprocess.Popen([sys.executable, __file__, "--execute-one", str(source), str(out)],
                                    start_new_session=True)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the process and its kernel
                proc.wait()
                print(f"{source.name}: no answer within {timeout:g} s (attempt {attempt} of {attempts})", flush=True)
                continue
            if code != 0:
                raise RuntimeError(f"{source}: executing the notebook failed (exit status {code})")
            return nbformat.read(out, as_version=4)
    raise RuntimeError(f"{source}: no run finished within {timeout:g} s in {attempts} attempts")


def compare(source: Path, build: Path, root: Path = ROOT, timeout: float = 300.0) -> list[str]:
    """Differences between the book build's execution of ``source`` and a fresh one."""
    page = source.relative_to(root).with_suffix(".ipynb")
    first = build / "jupyter_execute" / page
    if not first.exists():
        return [f"{page}: no executed notebook in {first.parent} (run `make html` first)"]
    a, b = outputs(nbformat.read(first, as_version=4)), outputs(execute_isolated(source, timeout))
    if len(a) != len(b):
        return [f"{page}: {len(a)} code cells in the build, {len(b)} in the re-run"]
    problems = []
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            problems.append(f"{page}: code cell {k + 1} gives a different output on a second run")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    if argv is None and len(sys.argv) == 4 and sys.argv[1] == "--execute-one":  # worker: run one notebook
        nbformat.write(execute(Path(sys.argv[2])), sys.argv[3])
        return 0
    parser.add_argument("build", type=Path, help="the book's build folder, e.g. _build")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per chapter run before a retry")
    args = parser.parse_args(argv)
    chapters = sorted(p for p in (ROOT / "book").rglob("*.md") if "```{code-cell}" in p.read_text(encoding="utf-8"))
    build = args.build.resolve()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda c: compare(c, build, timeout=args.timeout), chapters))
    problems = [p for r in results for p in r]
    for p in problems:
        print(p)
    print(f"determinism check: {len(chapters)} chapters executed twice, "
          f"{len(chapters) - sum(bool(r) for r in results)} identical")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

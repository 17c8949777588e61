"""Mutation testing of mdlib (``make mutation``): mutmut, one module at a time, and a per-module report.

Each module is mutated in its own work folder, _build/mutation/<module>/ (a copy of mdlib/, tests/ and
pyproject.toml with a generated ``[tool.mutmut]`` table), so that

* each module's mutants run only that module's tests and its doctests (MODULE_TESTS below); within them
  mutmut runs, per mutated function, only the tests that call it, fastest first, stopping at the first
  failure (pytest -x);
* the numba kernels (mdlib/_bandit_kernels.py) run uncompiled (NUMBA_DISABLE_JIT=1) in their own run,
  while every other module keeps its compiled kernels;
* a later run of one module keeps the results of the others (mutmut caches each mutant's result in its
  work folder and reruns only what changed), and tries the survivors of its own earlier run again (tests
  may have been added since); the doctests of mutmut's copies of each function are skipped
  (tests/conftest.py), as the public function's own doctest runs whichever mutant is active.

Usage (the Makefile passes MODULES, SAMPLE and JOBS through):

    python tools/mutation.py                              # every module
    python tools/mutation.py --modules gittins distributions finite._audit
    python tools/mutation.py --modules gittins --sample 0.2   # a fixed fifth of the mutants
    python tools/mutation.py --report-only [--sample 0.2]  # rewrite the report from the work folders

The report, benchmarks/mutation.json, has per module: killed (timeouts count as killed), survived (no test
covering the mutant counts as survived), equivalent (reviewed, listed with a reason in
benchmarks/mutation_equivalent.json), score = killed / (total - equivalent), the run time, and the
surviving mutants with their changed line. A module never run is marked "not run".
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "_build" / "mutation"
REPORT = ROOT / "benchmarks" / "mutation.json"
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.json"
TARGET = 0.85

# The tests that each module's mutants run (its doctests are added). Only test files that exercise the module:
# the mutants of a module are meant to be killed by the tests written for it.
MODULE_TESTS: dict[str, list[str]] = {
    "_bandit_kernels": ["tests/test_bandit_kernels.py"],  # small instances against independent recursions: fast uncompiled
    "_markov": ["tests/test_gittins.py", "tests/test_mdp.py", "tests/test_bandits.py"],
    "_scipy": ["tests/test_distributions.py", "tests/test_auctions.py", "tests/test_screening.py", "tests/test_handicap.py",
               "tests/test_virtual.py", "tests/test_bad_inputs.py"],  # the adapter every distribution-taking module uses
    "_screening": ["tests/test_screening.py", "tests/test_virtual.py"],
    "_validation": ["tests/test_validation.py", "tests/test_bad_inputs.py"],
    "auctions": ["tests/test_auctions.py", "tests/test_bad_inputs.py"],
    "balanced_budget": ["tests/test_balanced_budget.py", "tests/test_bad_inputs.py"],
    "bandits": ["tests/test_bandits.py", "tests/test_bad_inputs.py"],
    "commitment": ["tests/test_commitment.py", "tests/test_bad_inputs.py"],
    "distributions": ["tests/test_distributions.py", "tests/test_bad_inputs.py"],
    "envelope": ["tests/test_revenue_equivalence.py", "tests/test_handicap.py", "tests/test_bad_inputs.py"],
    "gittins": ["tests/test_gittins.py", "tests/test_bandit_kernels.py", "tests/test_bad_inputs.py"],
    "handicap": ["tests/test_handicap.py", "tests/test_bad_inputs.py"],
    "mdp": ["tests/test_mdp.py", "tests/test_bad_inputs.py"],
    "optimal_auctions": ["tests/test_optimal_auctions.py", "tests/test_bad_inputs.py"],
    "options": ["tests/test_screening.py", "tests/test_handicap.py", "tests/test_bad_inputs.py"],
    "pivot": ["tests/test_pivot.py", "tests/test_virtual_pivot.py", "tests/test_bad_inputs.py"],
    "plotting": ["tests/test_plotting.py", "tests/test_bad_inputs.py"],
    "sequential": ["tests/test_sequential.py", "tests/test_bad_inputs.py"],
    "virtual": ["tests/test_virtual.py", "tests/test_virtual_pivot.py", "tests/test_bad_inputs.py"],
    "finite._tree": ["tests/test_finite.py", "tests/test_revelation_principle.py", "tests/test_bad_inputs.py"],
    "finite._mechanism": ["tests/test_finite.py", "tests/test_revelation_principle.py", "tests/test_bad_inputs.py"],
    "finite._audit": ["tests/test_finite.py", "tests/test_revelation_principle.py", "tests/test_bad_inputs.py"],
    "finite._design": ["tests/test_finite.py", "tests/test_revelation_principle.py", "tests/test_bad_inputs.py"],
    "finite._revelation": ["tests/test_finite.py", "tests/test_revelation_principle.py", "tests/test_bad_inputs.py"],
    "finite._uniform_noise": ["tests/test_finite.py", "tests/test_bad_inputs.py"],
}
# modules run uncompiled: their mutants are plain Python functions that numba would otherwise compile
NO_JIT = {"_bandit_kernels"}


def module_path(module: str) -> str:
    return "mdlib/" + module.replace(".", "/") + ".py"


def all_modules() -> list[str]:
    """Every mdlib module with code (package __init__ files only re-export)."""
    found = sorted(
        str(p.relative_to(ROOT / "mdlib").with_suffix("")).replace("/", ".")
        for p in (ROOT / "mdlib").rglob("*.py")
        if p.name != "__init__.py"
    )
    missing = [m for m in found if m not in MODULE_TESTS]
    if missing:
        sys.exit(f"tools/mutation.py: no tests listed for {missing}: add them to MODULE_TESTS")
    return found


def mutmut_table(module: str) -> str:
    selection = MODULE_TESTS[module] + [module_path(module)]  # + the module's doctests
    return (
        "\n\n[tool.mutmut]  # written by tools/mutation.py\n"
        'source_paths = ["mdlib"]\n'
        f'only_mutate = ["{module_path(module)}"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(selection)}\n"
        'pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-W", "ignore"]\n'
        "use_git_change_detection = false\n"
        "process_isolation = \"fork\"\n"  # forkserver (for numba's parallel thread pool) left mutants unactivated: false survivors

    )


def prepare(module: str) -> Path:
    """The work folder of a module: fresh copies of mdlib/ and tests/ (mutmut keeps its results in mutants/)."""
    work = WORK / module
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", ".hypothesis")
    for name in ("mdlib", "tests"):
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + mutmut_table(module))
    return work


def env_for(module: str) -> dict[str, str]:
    # one thread per process: mutmut forks a child per mutant, and a forked child must not inherit a
    # running thread pool (numba's parallel kernels, OpenBLAS)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if module in NO_JIT:
        env["NUMBA_DISABLE_JIT"] = "1"
    return env


def mutant_names(work: Path, module: str) -> list[str]:
    """Every mutant of the module, generated without running a test (for sampling)."""
    code = (
        "import mutmut.__main__ as m\n"
        "from mutmut.configuration import config\n"
        "m.set_mutant_under_test('mutant_generation')\n"
        "m.makedirs('mutants', exist_ok=True)\n"
        "m.copy_src_dir(); m.copy_also_copy_files(); m.create_mutants(1)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=work, env=env_for(module), check=True, capture_output=True)
    meta = json.loads((work / "mutants" / (module_path(module) + ".meta")).read_text())
    return sorted(meta["exit_code_by_key"])


def sampled(names: list[str], fraction: float) -> list[str]:
    """A fixed subset (the same on every run): the mutants whose name hashes below the fraction."""
    return [n for n in names if int(hashlib.sha256(n.encode()).hexdigest()[:8], 16) < fraction * 16**8]


def run_module(module: str, sample: float, jobs: int) -> dict:
    work = prepare(module)
    args = [shutil.which("nice") or "nice", "-n", "19", sys.executable, "-c",
            "import sys; from mutmut.__main__ import cli; sys.exit(cli())", "run", "--max-children", str(jobs)]
    names: list[str] = []
    if sample < 1:
        names = sampled(mutant_names(work, module), sample)
        if not names:
            return {"sample": sample, "run_seconds": 0.0}
    retest = _forget_survivors(work, module, names)
    print(f"== mutation: {module} ({len(names) if names else 'all'} mutants; {retest} survivors of an earlier run "
          "tried again)", flush=True)
    start = time.monotonic()
    log = work / "mutmut.log"
    with open(log, "w") as out:
        proc = subprocess.run(args + names, cwd=work, env=env_for(module), stdout=out, stderr=subprocess.STDOUT)
    seconds = round(time.monotonic() - start, 1)
    if proc.returncode != 0:
        print(log.read_text()[-3000:])
        print(f"mutmut failed on {module} (exit {proc.returncode}); its log: {log}", flush=True)
        return {"sample": sample, "run_seconds": seconds, "names": names, "failed": f"mutmut exit {proc.returncode}"}
    return {"sample": sample, "run_seconds": seconds, "names": names}


def _forget_survivors(work: Path, module: str, names: list[str]) -> int:
    """Clear the cached result of every mutant (of ``names``, or all) that an earlier run did not kill, so that
    tests added since get their chance; killed mutants keep their result (tests are only ever added)."""
    meta_file = work / "mutants" / (module_path(module) + ".meta")
    if not meta_file.exists():
        return 0
    meta = json.loads(meta_file.read_text())
    st = statuses(work, module)
    wanted = set(names) if names else set(st)
    again = [k for k, v in st.items() if k in wanted and v not in ("killed", "timeout", "caught by type check", "not checked")]
    for k in again:
        meta["exit_code_by_key"][k] = None
    meta_file.write_text(json.dumps(meta))
    return len(again)


# ---------------------------------------------------------------- the report
def statuses(work: Path, module: str) -> dict[str, str]:
    from mutmut.stats import status_by_exit_code  # the exit-code meaning of the pinned mutmut

    meta_file = work / "mutants" / (module_path(module) + ".meta")
    if not meta_file.exists():
        return {}
    codes = json.loads(meta_file.read_text())["exit_code_by_key"]
    return {k: status_by_exit_code[v] for k, v in codes.items()}


def changed_line(work: Path, name: str) -> str:
    """The mutant's changed line(s), from the mutated module (original function vs. mutant function)."""
    func = name.rsplit("__mutmut_", 1)[0].split(".")[-1]
    src = (work / "mutants" / module_path(".".join(name.split(".")[1:-1]))).read_text()

    def body(fname: str) -> list[str]:
        m = re.search(rf"^([ \t]*)def {re.escape(fname)}\(.*?(?=^\1(?:def |class |\S)|\Z)", src, re.M | re.S)
        if not m:
            return []
        lines = m.group(0).splitlines()
        return [ln.strip() for ln in lines[1:] if ln.strip()]

    orig, mutant = body(func + "__mutmut_orig"), body(func + "__mutmut_" + name.rsplit("__mutmut_", 1)[1])
    diff = [d for d in difflib.ndiff(orig, mutant) if d[:2] in ("- ", "+ ")]
    return " | ".join(d[:160] for d in diff[:2])


def report(ran: dict[str, dict], modules: list[str]) -> dict:
    equivalent = json.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    old = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    out: dict = {
        "tool": f"mutmut {_version('mutmut')}",
        "target": TARGET,
        "score": "killed / (total - equivalent); timeouts count as killed, mutants no test reaches as survived",
        "equivalent_file": str(EQUIVALENT.relative_to(ROOT)),
        "modules": {},
    }
    for module in modules:
        work = WORK / module
        st = statuses(work, module)
        previous = old.get("modules", {}).get(module)
        if module not in ran and previous is not None and previous.get("status") != "not run":
            out["modules"][module] = previous  # not run this time: the last measurement stands
            continue
        info = ran.get(module, {})
        if info.get("failed"):
            out["modules"][module] = {"status": f"failed ({info['failed']}; log in {WORK.relative_to(ROOT)}/{module}/mutmut.log)"}
            continue
        names = info.get("names") or []
        if names:
            st = {k: v for k, v in st.items() if k in set(names)}
        wanted = len(st)
        st = {k: v for k, v in st.items() if v != "not checked"}
        if not st:
            out["modules"][module] = {"status": "not run"}
            continue
        equiv = {k: v for k, v in equivalent.get(module, {}).items() if k in st}
        killed = sum(v in ("killed", "timeout", "caught by type check") for v in st.values())
        survivors = sorted(k for k, v in st.items() if v not in ("killed", "timeout", "caught by type check") and k not in equiv)
        total = len(st)
        score = killed / (total - len(equiv)) if total > len(equiv) else 1.0
        out["modules"][module] = {
            "status": ("run" if info.get("sample", 1.0) >= 1 else f"sampled {info['sample']}")
                      + (f" (partial: {len(st)} of {wanted} mutants)" if len(st) < wanted else ""),
            "date": date.today().isoformat(),
            "run_seconds": info.get("run_seconds", previous.get("run_seconds") if previous else None),
            "total": total,
            "killed": killed,
            "timeout": sum(v == "timeout" for v in st.values()),
            "survived": len(survivors),
            "no_tests": sum(v == "no tests" for v in st.values()),
            "equivalent": len(equiv),
            "score": round(score, 4),
            "meets_target": score >= TARGET,
            "survivors": {k: changed_line(work, k) for k in survivors},
        }
    REPORT.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    return out


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modules", nargs="*", help="modules to run (e.g. gittins finite._audit); default: all")
    ap.add_argument("--sample", type=float, default=1.0, help="fraction of each module's mutants to run (fixed subset)")
    ap.add_argument("--jobs", type=int, default=1, help="mutmut worker processes (--max-children)")
    ap.add_argument("--report-only", action="store_true", help="only rewrite the report from the work folders")
    ap.add_argument("--sample-of", nargs="*", metavar="MODULE=FRACTION",
                    help="with --report-only: the sample a module ran with, where the report does not say")
    a = ap.parse_args()
    modules = all_modules()
    chosen = modules if not a.modules else [m.removeprefix("mdlib.").removesuffix(".py").replace("/", ".") for m in a.modules]
    unknown = [m for m in chosen if m not in modules]
    if unknown:
        sys.exit(f"unknown modules {unknown}; the modules are: {' '.join(modules)}")
    ran: dict[str, dict] = {}
    if not a.report_only:
        for module in chosen:
            ran[module] = run_module(module, a.sample, a.jobs)
            rep = report(ran, modules)["modules"][module]
            print(f"   {module}: score {rep.get('score')} ({rep.get('killed')} killed, {rep.get('survived')} survived, "
                  f"{rep.get('equivalent')} equivalent) in {rep.get('run_seconds')} s", flush=True)
    else:  # the modules with results in their work folders, each as sampled when it ran (the report says how)
        EXPLICIT_SAMPLE = dict(item.split("=") for item in a.sample_of) if a.sample_of else {}
        EXPLICIT_SAMPLE = {k: float(v) for k, v in EXPLICIT_SAMPLE.items()}
        old = json.loads(REPORT.read_text()).get("modules", {}) if REPORT.exists() else {}
        ran = {}
        for m in modules:
            found = statuses(WORK / m, m)
            if found:
                label = str(old.get(m, {}).get("status", ""))
                sample = float(label.split()[1]) if label.startswith("sampled ") else a.sample
                sample = EXPLICIT_SAMPLE.get(m, sample)
                ran[m] = {"sample": sample, "names": sampled(sorted(found), sample) if sample < 1 else [],
                          "run_seconds": old.get(m, {}).get("run_seconds")}
    out = report(ran, modules)
    below = [m for m, r in out["modules"].items() if "meets_target" in r and not r["meets_target"]]
    failed = [m for m, r in out["modules"].items() if r.get("status", "").startswith("failed")]
    if failed:
        print(f"mutmut failed on: {' '.join(failed)}")
    print(f"report: {REPORT.relative_to(ROOT)}; below {TARGET:.0%}: {' '.join(below) or 'none'}")


if __name__ == "__main__":
    main()

"""Time ``mdlib.dynamic_pivot`` and ``mdlib.audit_pivot`` and print a table.

Target: 3 agents x 4 private states (64 joint states) x 4
decisions at discount 0.95 solves and audits in at most 1 s. The table also shows how
the time grows with the number of joint states (3 agents, 2 to 10 states each).

Each row is a random model (uniform flow values, Dirichlet kernels, seeded); times are
the best of ``--repeat`` runs after one warm-up run (the first call in a fresh process
also pays for importing quantecon/numba, reported separately as "cold").

Usage::

    python benchmarks/bench_pivot.py [--repeat 3] [--max-states 10]
"""

from __future__ import annotations

import time

from _timing import parse_args, timed

TARGET_S = 1.0


def main() -> None:
    args = parse_args(__doc__, "--max-states", 10, "largest number of private states per agent")

    t0 = time.perf_counter()
    import mdlib

    model = mdlib.random_model(0, 3, 4, 4, 0.95)
    res = mdlib.dynamic_pivot(model)
    check = mdlib.audit_pivot(model, res)
    cold = time.perf_counter() - t0
    print(f"cold start (import mdlib + quantecon, first solve and audit of the 64-state model): {cold:.2f} s\n")

    header = f"{'agents':>6} {'states':>6} {'decisions':>9} {'joint':>6} {'pivot [s]':>10} {'audit [s]':>10} {'total [s]':>10} {'max gain':>10} {'max |V-M|':>10}"
    print(header)
    print("-" * len(header))
    target_total = None
    for n_states in range(2, args.max_states + 1):
        model = mdlib.random_model(n_states, 3, n_states, 4, 0.95)
        mdlib.audit_pivot(model)  # warm-up
        t_pivot, res = timed(lambda: mdlib.dynamic_pivot(model), args.repeat)
        t_audit, check = timed(lambda: mdlib.audit_pivot(model, res), args.repeat)
        total = t_pivot + t_audit
        if model.n_joint == 64:
            target_total = total
        print(
            f"{3:>6} {n_states:>6} {4:>9} {model.n_joint:>6} {t_pivot:>10.4f} {t_audit:>10.4f} {total:>10.4f} "
            f"{check.max_gain:>10.1e} {check.max_value_error:>10.1e}"
        )
    if target_total is not None:
        verdict = "meets" if target_total <= TARGET_S else "MISSES"
        print(f"\n64 joint states: {target_total:.4f} s for solve + audit; {verdict} the {TARGET_S:.0f} s target.")


if __name__ == "__main__":
    main()

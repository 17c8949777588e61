"""Optimal finite dynamic mechanisms by linear programming: :func:`optimal_mechanism`, :func:`revenue_range`."""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, sparse

from .._validation import check_choice as _check_choice
from ._mechanism import Mechanism, make_mechanism
from ._tree import IR_KINDS, _check_kind, _check_model, _check_observed, _Tree

__all__ = ["optimal_mechanism", "revenue_range"]

_MAX_STRATEGIES = 16  # last-period strategies written out per deviator (history values; see _separable_lp)


class _Rows:
    """Sparse constraint rows, added in blocks of fixed width (column -1 = no entry)."""

    def __init__(self) -> None:
        self.r: list = []
        self.c: list = []
        self.v: list = []
        self.b: list = []
        self.n = 0

    def add(self, cols: NDArray[np.int64], vals: NDArray[np.float64], rhs: Any = 0.0) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, dtype=np.float64), cols.shape)
        k = cols.shape[0]
        if k == 0:
            return
        rows = np.broadcast_to(np.arange(self.n, self.n + k)[:, None], cols.shape)
        keep = cols >= 0
        self.r.append(rows[keep])
        self.c.append(cols[keep])
        self.v.append(vals[keep])
        self.b.append(np.broadcast_to(np.asarray(rhs, dtype=np.float64), (k,)))
        self.n += k

    def matrix(self, ncols: int) -> tuple[Any, Any]:
        if self.n == 0:
            return None, None
        A = sparse.coo_matrix(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))), shape=(self.n, ncols)
        ).tocsr()
        return A, np.concatenate(self.b)


def _solve_lp(c: NDArray[np.float64], ub: _Rows, eq: _Rows, bounds: NDArray[np.float64],
              method: str | None = None) -> NDArray[np.float64]:
    A_ub, b_ub = ub.matrix(len(c))
    A_eq, b_eq = eq.matrix(len(c))
    res = optimize.linprog(
        c,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=bounds,
        method=method or ("highs-ipm" if ub.n + eq.n > 20000 else "highs"),  # interior point (with crossover) scales better
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:
        raise RuntimeError(f"linear programme failed: {res.message}")
    return res.x


def _separable_lp(tree: _Tree, ir: str | None, fixed: list | None = None, sense: float = -1.0,
                observed: tuple[int, ...] = ()) -> tuple[list, NDArray[np.float64]]:
    T, m, H = tree.T, tree.m, tree.H
    nvar = 0
    lo: list = []
    hi: list = []

    def new_vars(k: int, low: float, high: float) -> NDArray[np.int64]:
        nonlocal nvar
        ids = np.arange(nvar, nvar + k)
        nvar += k
        lo.append(np.full(k, low))
        hi.append(np.full(k, high))
        return ids

    xid = []
    for t in range(T):
        ids = np.full(H[t + 1], -1, dtype=np.int64)
        s = np.flatnonzero(tree.supp[t + 1])
        ids[s] = new_vars(len(s), 0.0, 1.0 if np.any(tree.vh[t]) else 0.0)
        if fixed is not None:  # the allocation is given: pin it by its bounds
            lo[-1] = hi[-1] = np.asarray(fixed[t], dtype=np.float64).reshape(-1)[s]
        xid.append(ids)
    pid = np.full(H[T], -1, dtype=np.int64)
    sT = np.flatnonzero(tree.supp[T])
    pid[sT] = new_vars(len(sT), -np.inf, np.inf)
    # reachable (belief class, report history) pairs, level by level
    pairs = [np.zeros((1, 2), dtype=np.int64)]
    for t in range(T - 1):
        c, h = pairs[t].T
        cn = tree.cnext[t][c]  # (k, m_t)
        hs = h[:, None] * m[t] + np.arange(m[t])[None, :]
        if t in observed:  # the mechanism reads the true type k (a contradicted one as the canonical report)
            code = np.maximum(cn, 0) * H[t + 1] + tree.canon[t + 1][hs]
            new = np.unique(code[cn >= 0])
        else:
            mask = (cn[:, :, None] >= 0) & tree.supp[t + 1][hs][:, None, :]
            code = np.maximum(cn, 0)[:, :, None] * H[t + 1] + hs[:, None, :]
            new = np.unique(np.broadcast_to(code, mask.shape)[mask])
        pairs.append(np.stack([new // H[t + 1], new % H[t + 1]], axis=1))
    # truthful pairs get a value variable U; the others are written through Y(next type, next class, history)
    counts = tree.supp[T].reshape(H[T - 1], m[T - 1]).sum(axis=1)
    # histories of length T - 1 after which the last report is not the buyer's choice (a single
    # reachable report, or an observed last period): the deviator's value is written out, no Y
    single = (counts == 1) | (T - 1 in observed)
    # With values over type histories, a deviator's classes rarely share outcome keys, and the
    # auxiliary Y of the last period cost more than they save: when every off-truth pair of the
    # last level has at most _MAX_STRATEGIES last-period strategies, write its value as one
    # constraint per strategy instead (all appear on the small side of an inequality).
    expand_last = False
    if T >= 2 and tree.history_values and fixed is None:
        c_l, h_l = pairs[T - 1].T
        off_l = (tree.cls[T - 1][h_l] != c_l) & ~single[h_l]
        n_k = (tree.cq[T - 1][c_l[off_l]] > 0).sum(axis=1)
        expand_last = bool(np.all(counts[h_l[off_l]].astype(float) ** n_k <= _MAX_STRATEGIES))
    uid, ykeys, yid0 = [], [], []
    for t in range(T):
        c, h = pairs[t].T
        on = tree.cls[t][h] == c
        ids = np.full(len(c), -1, dtype=np.int64)
        ids[on] = new_vars(int(on.sum()), -np.inf, np.inf)
        uid.append(dict(zip((c * H[t] + h).tolist(), ids.tolist())) if t else {0: int(ids[0])})
        cf, hf = c[~on], h[~on]
        valid = tree.cq[t][cf] > 0
        key = np.maximum(tree.okey[t][cf], 0) * H[t] + hf[:, None]
        if t == T - 1:  # a history with a single reachable last report leaves the deviator no choice: no Y needed
            valid &= ~single[hf][:, None]
            if expand_last:
                valid[:] = False
        uk = np.unique(key[valid])
        ykeys.append(uk)
        yid0.append(new_vars(len(uk), -np.inf, np.inf)[0] if len(uk) else nvar)

    def nv(t1: int, c1: NDArray[np.int64], h1: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Columns and coefficients (rows padded with -1) of the continuation value at level t1 of pairs (c1, h1).

        Truthful pairs have a variable U; the value of another pair is the expectation over the
        next type k of Y(outcome key of (c1, k), h1), or, when the last report r after h1 is not
        the buyer's choice, of v(c1, k) x(h1 r) - p(h1 r) written out.
        """
        if t1 == T:
            return pid[h1][:, None], -np.ones((len(h1), 1))
        on = tree.cls[t1][h1] == c1
        rows = [np.flatnonzero(on)]
        cols = [np.array([uid[t1][k] for k in (c1[on] * H[t1] + h1[on]).tolist()], dtype=np.int64)]
        vals = [np.ones(int(on.sum()))]
        off = np.flatnonzero(~on)
        if len(off):
            q = tree.cq[t1][c1[off]]
            i, k = np.nonzero(q > 0)
            r, cc, hh, qq = off[i], c1[off][i], h1[off][i], q[i, k]
            key = tree.okey[t1][cc, k] * H[t1] + hh
            direct = single[hh] if t1 == T - 1 else np.zeros(len(hh), dtype=bool)
            ky = ~direct
            rows.append(r[ky])
            cols.append(yid0[t1] + np.searchsorted(ykeys[t1], key[ky]))
            vals.append(qq[ky])
            if direct.any():
                kid = tree.canon[T][hh[direct] * m[t1] + k[direct]]  # the only report, or the observed type
                rows += [r[direct], r[direct]]
                cols += [xid[t1][kid], pid[kid]]
                vals += [qq[direct] * tree.vq[t1][cc[direct], k[direct]], -qq[direct]]
        rows_a, cols_a, vals_a = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        order = np.argsort(rows_a, kind="stable")
        rows_a, cols_a, vals_a = rows_a[order], cols_a[order], vals_a[order]
        count = np.bincount(rows_a, minlength=len(h1))
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        slot = np.arange(len(rows_a)) - start[rows_a]
        width = max(1, int(count.max(initial=0)))
        out_c = np.full((len(h1), width), -1, dtype=np.int64)
        out_v = np.zeros((len(h1), width))
        out_c[rows_a, slot] = cols_a
        out_v[rows_a, slot] = vals_a
        return out_c, out_v

    def nvx(t1: int, c1: NDArray[np.int64], h1: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Like ``nv``, as rows ``(source pair, columns, coefficients)``; with ``expand_last`` an
        off-truth pair of the last level gives one row per last-period strategy."""
        if not (expand_last and t1 == T - 1):
            cols, vals = nv(t1, c1, h1)
            return np.arange(len(h1)), cols, vals
        expand = (tree.cls[t1][h1] != c1) & ~single[h1]
        ia, ib = np.flatnonzero(~expand), np.flatnonzero(expand)
        srcs, cols, vals = [ia], [], []
        if len(ia):
            ca, va = nv(t1, c1[ia], h1[ia])
            cols.append(ca)
            vals.append(va)
        if len(ib):
            cc, hh = c1[ib], h1[ib]
            live = tree.cq[t1][cc] > 0
            n_k, n_r = live.sum(axis=1), counts[hh]
            reach = tree.supp[T].reshape(H[t1], m[t1])
            for a, b in sorted(set(zip(n_k.tolist(), n_r.tolist()))):
                g = np.flatnonzero((n_k == a) & (n_r == b))
                ks = np.argsort(~live[g], axis=1, kind="stable")[:, :a]  # the possible next types
                qs = np.take_along_axis(tree.cq[t1][cc[g]], ks, axis=1)
                vs = np.take_along_axis(tree.vq[t1][cc[g]], ks, axis=1)
                rs = np.argsort(~reach[hh[g]], axis=1, kind="stable")[:, :b]  # the reports he can send
                phis = np.array(list(itertools.product(range(b), repeat=a)), dtype=np.int64).reshape(-1, a)
                kid = hh[g][:, None, None] * m[t1] + rs[:, phis]  # (pairs, strategies, next types)
                F = phis.shape[0]
                cols.append(np.concatenate([xid[t1][kid], pid[kid]], axis=2).reshape(len(g) * F, 2 * a))
                coef = np.concatenate([qs * vs, -qs], axis=1)[:, None, :]
                vals.append(np.broadcast_to(coef, (len(g), F, 2 * a)).reshape(len(g) * F, 2 * a))
                srcs.append(np.repeat(ib[g], F))
        if not cols:
            return np.zeros(0, dtype=np.int64), np.full((0, 1), -1, dtype=np.int64), np.zeros((0, 1))
        width = max(x.shape[1] for x in cols)
        cols = [np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=-1) for x in cols]
        vals = [np.pad(x, ((0, 0), (0, width - x.shape[1]))) for x in vals]
        return np.concatenate(srcs), np.concatenate(cols), np.concatenate(vals)

    ub, eq = _Rows(), _Rows()
    for t in range(T):
        c, h = pairs[t].T
        k_idx = np.arange(m[t])
        on = tree.cls[t][h] == c
        co, ho = c[on], h[on]
        if len(co):
            # truthful pairs: the value is the truthful continuation (an equality) ...
            q = tree.cq[t][co]
            cn = np.maximum(tree.cnext[t][co], 0)
            kid = ho[:, None] * m[t] + k_idx[None, :]
            valid = q > 0
            pi, ki = np.nonzero(valid)
            ncols, nvals = nv(t + 1, cn[pi, ki], kid[pi, ki])
            W = ncols.shape[1]
            rows_c = np.full((len(co), m[t], 1 + W), -1, dtype=np.int64)
            rows_v = np.zeros((len(co), m[t], 1 + W))
            rows_c[pi, ki, 0] = xid[t][kid[pi, ki]]
            rows_v[pi, ki, 0] = -q[pi, ki] * tree.vq[t][co[pi], ki]
            rows_c[pi, ki, 1:] = ncols
            rows_v[pi, ki, 1:] = -q[pi, ki][:, None] * nvals
            ucol = np.array([uid[t][k] for k in (co * H[t] + ho).tolist()] if t else [uid[0][0]])
            eq.add(np.concatenate([ucol[:, None], rows_c.reshape(len(co), -1)], axis=1),
                   np.concatenate([np.ones((len(co), 1)), rows_v.reshape(len(co), -1)], axis=1))
        if len(co) and t not in observed:
            # ... and no report r beats the truth k (r reachable after the reports so far)
            okr = tree.supp[t + 1][kid]
            mask = valid[:, :, None] & okr[:, None, :] & (k_idx[:, None] != k_idx[None, :])[None, :, :]
            pi, ki, ri = np.nonzero(mask)
            kid_r, kid_k, c1 = ho[pi] * m[t] + ri, ho[pi] * m[t] + ki, cn[pi, ki]
            src, cr, vr = nvx(t + 1, c1, kid_r)
            ck, vk = nv(t + 1, c1, kid_k)
            vv = tree.vq[t][co[pi], ki][:, None]
            ub.add(np.concatenate([xid[t][kid_r][src][:, None], cr, xid[t][kid_k][src][:, None], ck[src]], axis=1),
                   np.concatenate([vv[src], vr, -vv[src], -vk[src]], axis=1))
        # off-path pairs: Y(outcome key, history) is at least the value of every report the buyer can send
        uk = ykeys[t]
        if len(uk):
            yo, yh = uk // H[t], uk % H[t]
            yk, yc, yv = tree.ok_k[t][yo], tree.ok_c[t][yo], tree.ok_v[t][yo]
            if t in observed:  # the one "report" is the true type (canonical if contradicted)
                yi = np.arange(len(uk))
                kid_r = tree.canon[t + 1][yh * m[t] + yk]
            else:
                okr = tree.supp[t + 1][yh[:, None] * m[t] + k_idx[None, :]]
                yi, ri = np.nonzero(okr)
                kid_r = yh[yi] * m[t] + ri
            src, cr, vr = nvx(t + 1, yc[yi], kid_r)
            ub.add(np.concatenate([xid[t][kid_r][src][:, None], cr, (yid0[t] + yi)[src][:, None]], axis=1),
                   np.concatenate([yv[yi][src][:, None], vr, -np.ones((len(src), 1))], axis=1))
    if ir is None:  # the lowest first type (with positive probability) gets interim utility exactly 0
        s1 = np.flatnonzero(tree.supp[1])[:1]
        cols, vals = nv(1, tree.cls[1][s1], s1)
        eq.add(np.concatenate([xid[0][s1][:, None], cols], axis=1), np.concatenate([tree.vh[0][s1][:, None], vals], axis=1))
    else:
        _participation(tree, ir, ub, xid, pid, nv)
    cost = np.zeros(nvar)
    cost[pid[sT]] = sense * tree.P[T][sT]
    bounds = np.stack([np.concatenate(lo), np.concatenate(hi)], axis=1)
    sol = _solve_lp(cost, ub, eq, bounds, method="highs-ds" if expand_last else None)  # dual simplex: many rows, few columns
    alloc = [sol[xid[t][tree.canon[t + 1]]].reshape(m[: t + 1]) for t in range(T)]
    pay = sol[pid[tree.canon[T]]].reshape(m)
    return alloc, pay


def _participation(tree: _Tree, ir: str, ub: _Rows, xid: list, pid: NDArray[np.int64], nv: Any) -> None:
    T = tree.T
    if ir == "ex-ante":
        s = np.flatnonzero(tree.supp[1])
        cols, vals = nv(1, tree.cls[1][s], s)
        q = tree.P[1][s][:, None]
        ub.add(np.concatenate([xid[0][s], cols.reshape(-1)])[None, :],
               np.concatenate([-q[:, 0] * tree.vh[0][s], (-q * vals).reshape(-1)])[None, :])
    elif ir == "interim":
        s = np.flatnonzero(tree.supp[1])
        cols, vals = nv(1, tree.cls[1][s], s)
        ub.add(np.concatenate([xid[0][s][:, None], cols], axis=1),
               np.concatenate([-tree.vh[0][s][:, None], -vals], axis=1))
    else:
        s = np.flatnonzero(tree.supp[T])
        cols = [xid[t][tree.prefix(s, t + 1)] for t in range(T)] + [pid[s]]
        vals = [-tree.vh[t][tree.prefix(s, t + 1)] for t in range(T)] + [np.ones(len(s))]
        ub.add(np.stack(cols, axis=1), np.stack(vals, axis=1))


def _static_lp(tree: _Tree, ir: str) -> tuple[list, NDArray[np.float64]]:
    T, m = tree.T, tree.m
    S = np.flatnonzero(tree.supp[T])
    N = len(S)
    types = np.array(np.unravel_index(S, m)).T
    V = np.stack([tree.vh[t][tree.prefix(S, t + 1)] for t in range(T)], axis=1)  # (N, T)
    xcol = np.arange(N * T).reshape(T, N)  # x_t(path s) -> column
    pcol = N * T + np.arange(N)
    nvar = N * T + N
    ub, eq = _Rows(), _Rows()
    a, b = np.nonzero(~np.eye(N, dtype=bool))  # true path a, reported path b
    cols = np.concatenate([xcol[:, b].T, xcol[:, a].T, pcol[b][:, None], pcol[a][:, None]], axis=1)
    vals = np.concatenate([V[a], -V[a], -np.ones((len(a), 1)), np.ones((len(a), 1))], axis=1)
    ub.add(cols, vals)
    ucols = np.concatenate([xcol.T, pcol[:, None]], axis=1)  # utility of each path, as a row
    uvals = np.concatenate([V, -np.ones((N, 1))], axis=1)
    P = tree.P[T][S]
    if ir == "ex-post":
        ub.add(ucols, -uvals)
    elif ir == "ex-ante":
        ub.add(ucols.reshape(1, -1), (-uvals * P[:, None]).reshape(1, -1))
    else:
        first = types[:, 0]
        for k in np.unique(first):
            sel = first == k
            ub.add(ucols[sel].reshape(1, -1), (-uvals[sel] * P[sel, None]).reshape(1, -1))
    cost = np.zeros(nvar)
    cost[pcol] = -P
    bounds = np.array([[0.0, 1.0 if np.any(tree.vh[t]) else 0.0] for t in range(T) for _ in range(N)] + [[-np.inf, np.inf]] * N)
    sol = _solve_lp(cost, ub, eq, bounds)
    pos = np.full(tree.H[T], -1, dtype=np.int64)
    pos[S] = np.arange(N)
    where = pos[tree.canon[T]]
    alloc = [sol[xcol[t]][where].reshape(m) for t in range(T)]
    pay = sol[pcol][where].reshape(m)
    return alloc, pay


def _general_lp(tree: _Tree, ir: str) -> tuple[list, NDArray[np.float64]]:
    """The ``general`` programme: variables x_t(path), p(path), the truthful values U and the deviators' values Z.

    ``Z[(t, g, r)]`` bounds the best continuation of a buyer whose true history ``g`` has length
    ``t`` and whose reports ``r`` (length ``t - 1``, not a prefix of ``g``) already lie, just
    before he sends report ``t``; it only appears on the small side of incentive constraints,
    so the optimum may take it equal to that best continuation.
    """
    T, m, H = tree.T, tree.m, tree.H
    S = [np.flatnonzero(tree.supp[t]) for t in range(T + 1)]
    N = len(S[T])
    pos = np.full(H[T], -1, dtype=np.int64)
    pos[S[T]] = np.arange(N)
    V = np.stack([tree.vh[t][tree.prefix(S[T], t + 1)] for t in range(T)], axis=1)  # (N, T)
    nvar = (T + 1) * N  # x_t(path) at t * N + j, p(path) at T * N + j
    uvar: dict = {}
    for t in range(1, T):
        for g in S[t].tolist():
            uvar[(t, g)] = nvar
            nvar += 1
    zvar: dict = {}
    for t in range(2, T + 1):
        for g in S[t].tolist():
            for r in S[t - 1].tolist():
                if g // m[t - 1] != r:
                    zvar[(t, g, r)] = nvar
                    nvar += 1

    def final(g: int, s: int) -> tuple[list, list]:
        """Utility (as a row) of true path g after reporting path s."""
        j, i = int(pos[s]), int(pos[g])
        return [t * N + j for t in range(T)] + [T * N + j], V[i].tolist() + [-1.0]

    def truthful(t: int, g: int) -> tuple[list, list]:
        return final(g, g) if t == T else ([uvar[(t, g)]], [1.0])

    def lying(t: int, g: int, s: int) -> tuple[list, list]:
        """Best continuation (as a row) of true history g after reports s, both of length t, g != s."""
        if t == T:
            return final(g, s)
        ks = np.flatnonzero(tree.cond[t][g] > 0)
        return [zvar[(t + 1, g * m[t] + int(k), s)] for k in ks], tree.cond[t][g, ks].tolist()

    ub_rows: list = []
    eq_rows: list = []

    def row(store: list, *parts: tuple[list, list, float]) -> None:
        cols, vals = [], []
        for c, v, sign in parts:
            cols += c
            vals += [sign * x for x in v]
        store.append((cols, vals))

    for t in range(T):
        for g in S[t + 1].tolist():
            h = g // m[t]
            # no report r beats the truth, for a buyer who has told the truth so far
            for r in range(m[t]):
                s = h * m[t] + r
                if s != g and tree.supp[t + 1][s]:
                    row(ub_rows, (*lying(t + 1, g, s), 1.0), (*truthful(t + 1, g), -1.0))
            if 0 < t + 1 < T:  # the truthful value is the expected truthful continuation
                ks = np.flatnonzero(tree.cond[t + 1][g] > 0)
                parts = [([uvar[(t + 1, g)]], [1.0], 1.0)]
                for k in ks.tolist():
                    c, v = truthful(t + 2, g * m[t + 1] + k)
                    parts.append((c, v, -float(tree.cond[t + 1][g, k])))
                row(eq_rows, *parts)
    for (t, g, r), z in zvar.items():  # a liar's value bounds every report he can send next
        for k in range(m[t - 1]):
            s = r * m[t - 1] + k
            if tree.supp[t][s]:
                row(ub_rows, (*lying(t, g, s), 1.0), ([z], [1.0], -1.0))
    if ir == "ex-post":
        for g in S[T].tolist():
            row(ub_rows, (*final(g, g), -1.0))
    elif ir == "interim":
        for g in S[1].tolist():
            row(ub_rows, (*truthful(1, g), -1.0))
    else:
        row(ub_rows, *[(*truthful(1, g), -float(tree.P[1][g])) for g in S[1].tolist()])
    ub, eq = _Rows(), _Rows()
    for rows, store in ((ub_rows, ub), (eq_rows, eq)):
        if rows:
            width = max(len(c) for c, _ in rows)
            cols = np.full((len(rows), width), -1, dtype=np.int64)
            vals = np.zeros((len(rows), width))
            for i, (c, v) in enumerate(rows):
                cols[i, : len(c)] = c
                vals[i, : len(v)] = v
            store.add(cols, vals)
    cost = np.zeros(nvar)
    cost[T * N + np.arange(N)] = -tree.P[T][S[T]]
    bounds = np.array([[0.0, 1.0 if np.any(tree.vh[t]) else 0.0] for t in range(T) for _ in range(N)]
                      + [[-np.inf, np.inf]] * (nvar - T * N))
    sol = _solve_lp(cost, ub, eq, bounds)
    where = pos[tree.canon[T]]
    alloc = [sol[t * N + where].reshape(m) for t in range(T)]
    pay = sol[T * N + where].reshape(m)
    return alloc, pay


def optimal_mechanism(
    values: Sequence[Any],
    probs: Any,
    ir: str = "ex-post",
    kind: str = "separable",
    observed: Sequence[int] = (),
) -> Mechanism:
    """The revenue-maximising mechanism of a finite dynamic screening problem, by linear programming.

    Maximises expected payment subject to incentive compatibility against *every* reporting
    strategy and the participation constraint ``ir``, with scipy's HiGHS on a sparse programme.
    Incentive constraints are imposed only where the report history has positive probability;
    a deviator who reaches a history the mechanism never expects is covered by value variables
    indexed by (belief class of his true history, report history), so the result passes
    :func:`audit`. The unreachable entries of the returned arrays follow the convention of the
    module docstring.

    Parameters
    ----------
    values : sequence of T arrays
        ``values[t][k]``: value of good ``t + 1`` to a buyer whose period-``t + 1`` type is ``k``
        (all zeros for a period that only brings information); or an array of shape
        ``(m_1, ..., m_{t+1})`` when the value depends on the whole type history.
    probs : array of shape (m_1, ..., m_T)
        Joint probabilities of the type paths; non-negative, summing to 1 (tolerance 1e-9).
    ir : {"ex-ante", "interim", "ex-post"}
        Participation before period 1, after learning the first type, or on every type path.
    kind : {"separable", "general", "static"}
        Ashlagi, Daskalakis and Haghpanah's class names. ``"separable"``: a report every period,
        good ``t`` allocated in period ``t`` from the reports so far. ``"general"``: a report
        every period, all goods allocated after the last report (its linear programme has
        variables for pairs of true and reported histories, so keep it to a few hundred type
        paths). ``"static"``: one report of the whole path at the end. The former spelling
        ``"deferred"`` is refused with a message naming ``"general"``.
    observed : sequence of int
        0-based indices of the periods whose type the mechanism observes: the buyer sends no
        report there, the mechanism conditions on the true type, and there is no incentive
        constraint for lying about it (``separable`` kind only). With
        ``observed=(1, ..., T - 1)`` only the first type is private: the *relaxed* environment
        of Kakade, Lobel and Nazerzadeh, whose revenue bounds the dynamic one.

    Returns
    -------
    Mechanism
        With ``allocation``, ``payment``, ``revenue``, ``utility``, ``welfare`` and ``observed``.

    Raises
    ------
    ValueError
        For probabilities that are negative or do not sum to 1, ``values`` whose shapes do not
        match ``probs``, an unknown ``ir`` or ``kind``, or ``observed`` with indices that are
        not integers, out of range or repeated (or given with kind ``static``/``general``).

    Examples
    --------
    One good, two equally likely values 1 and 2: the optimal posted price is 2 (revenue 1,
    tied with price 1).

    >>> mech = optimal_mechanism([[1.0, 2.0]], [0.5, 0.5])
    >>> round(mech.revenue, 9)
    1.0

    Selling before the buyer learns anything extracts the whole surplus:

    >>> import numpy as np
    >>> from mdlib import audit, optimal_mechanism
    >>> mech = optimal_mechanism([[1.0, 2.0], [1.0, 3.0]], np.full((2, 2), 0.25), ir="ex-ante")
    >>> round(mech.revenue, 9), round(audit(mech).gain, 9)
    (3.5, 0.0)

    With negatively correlated values, allocating both goods after the last report (bundling
    across periods) beats allocating good 1 in period 1:

    >>> probs = np.array([[0.01, 0.49], [0.49, 0.01]])
    >>> [round(optimal_mechanism([[1, 2], [1, 2]], probs, kind=k).revenue, 9) for k in ("separable", "general")]
    [2.49, 2.97]

    A good whose value (1 or 2) is correlated with a first type that only brings information:
    if the mechanism observes the value, only the first type is private and the seller earns
    the mean value 1.6; if the value is private too, she earns the lower conditional mean 1.4.

    >>> probs = np.array([[0.3, 0.2], [0.1, 0.4]])
    >>> values = [[0.0, 0.0], [1.0, 2.0]]
    >>> [round(optimal_mechanism(values, probs, ir="interim", observed=o).revenue, 9) for o in [(1,), ()]]
    [1.6, 1.4]
    """
    vals, p = _check_model(values, probs)
    ir = _check_choice(ir, "ir", IR_KINDS)
    kind = _check_kind(kind)
    obs = _check_observed(observed, p.ndim, kind)
    tree = _Tree(vals, p)
    if kind == "static":
        alloc, pay = _static_lp(tree, ir)
    elif kind == "general":
        alloc, pay = _general_lp(tree, ir)
    else:
        alloc, pay = _separable_lp(tree, ir, observed=obs)
    alloc = [np.clip(a, 0.0, 1.0) for a in alloc]
    return Mechanism(vals, p, tuple(alloc), pay, kind, ir, obs)


def revenue_range(values: Sequence[Any], probs: Any, allocation: Sequence[Any]) -> tuple[float, float]:
    """Smallest and largest expected revenue of incentive-compatible payments for a given allocation rule.

    Payments range over all those that make the ``separable`` mechanism with this allocation
    incentive compatible (against every reporting strategy) and give the lowest first-period
    type (of positive probability) an interim expected utility of exactly 0. Dynamic revenue
    equivalence says that with continuous types the range is a single point; on a finite grid it
    is an interval whose width measures the slack of discrete incentive constraints.

    Parameters
    ----------
    values, probs
        The model, as in :func:`optimal_mechanism`.
    allocation : sequence of T arrays
        ``allocation[t]`` of shape ``(m_1, ..., m_{t+1})``, entries in [0, 1].

    Returns
    -------
    (float, float)
        The minimum and maximum expected revenue.

    Raises
    ------
    ValueError
        For a bad model, or an allocation of the wrong shape or outside [0, 1].

    Examples
    --------
    One good, values 1 and 2, sold to the high type only: the low type gets 0, and the high
    type's price can be anything in [1, 2].

    >>> revenue_range([[1.0, 2.0]], [0.5, 0.5], [[0.0, 1.0]])
    (0.5, 1.0)
    """
    mech = make_mechanism(values, probs, allocation, np.zeros(np.shape(probs)))
    tree = _Tree(mech.values, mech.probs)
    try:
        lo_mech = _separable_lp(tree, None, list(mech.allocation), sense=1.0)
        hi_mech = _separable_lp(tree, None, list(mech.allocation), sense=-1.0)
    except RuntimeError as exc:
        raise ValueError("allocation cannot be implemented: no payments make it incentive compatible") from exc
    lo_rev = float(np.sum(mech.probs * lo_mech[1]))
    hi_rev = float(np.sum(mech.probs * hi_mech[1]))
    return lo_rev, hi_rev

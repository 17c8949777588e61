"""Compiled kernels of :mod:`mdlib.gittins` and :mod:`mdlib.bandits` (numba).

Kept apart so that ``import mdlib`` does not import numba; the public functions import
this module on first use. ``cache=True`` stores the compiled code next to this file.

The kernels are compiled at the end of the module rather than by decorators: ``make mutation``
(mutmut, which leaves decorated functions alone) mutates the plain functions and runs them
uncompiled (``NUMBA_DISABLE_JIT=1``, under which ``numba.njit`` returns the function itself).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray


def _eliminate(P: NDArray, r: NDArray, d: float) -> NDArray:  # pragma: no cover - compiled
    n = r.shape[0]
    A = d * P  # discounted transitions to the states not yet eliminated
    R = r.copy()  # discounted reward until a not-yet-eliminated state is reached
    T = np.ones(n)  # discounted time until then
    perm = np.arange(n)  # perm[q] = original state at position q; positions < m are alive
    index = np.empty(n)
    for m in range(n, 0, -1):
        best = 0
        best_ratio = R[0] / T[0]
        for q in range(1, m):
            ratio = R[q] / T[q]
            if ratio > best_ratio:
                best, best_ratio = q, ratio
        index[perm[best]] = best_ratio
        last = m - 1
        if best != last:  # move the eliminated state to position m - 1
            for q in range(n):
                tmp = A[best, q]
                A[best, q] = A[last, q]
                A[last, q] = tmp
            for q in range(n):
                tmp = A[q, best]
                A[q, best] = A[q, last]
                A[q, last] = tmp
            R[best], R[last] = R[last], R[best]
            T[best], T[last] = T[last], T[best]
            perm[best], perm[last] = perm[last], perm[best]
        k = last
        c = 1.0 / (1.0 - A[k, k])
        Rk, Tk = R[k] * c, T[k] * c
        for i in range(last):
            f = A[i, k]
            if f != 0.0:
                R[i] += f * Rk
                T[i] += f * Tk
                fc = f * c
                for j in range(last):
                    A[i, j] += fc * A[k, j]
    return index


def _retirement_gap(a: float, b: float, d: float, depth: int, lam: float, V: NDArray, D: NDArray):  # pragma: no cover
    """g(lam) = value of playing once more - value of retiring, and dg/dlam, at the root.

    Backward induction over the posterior tree cut at ``depth`` trials, where the arm
    is valued as if its posterior froze (a lower bound on its true value).
    """
    ret = lam / (1.0 - d)
    d_ret = 1.0 / (1.0 - d)
    n = a + b + depth
    for s in range(depth + 1):
        mu = (a + s) / n
        play = mu / (1.0 - d)
        if play > ret:
            V[s], D[s] = play, 0.0
        else:
            V[s], D[s] = ret, d_ret
    start = 0  # below `start` every node of the current layer retires
    for k in range(depth - 1, -1, -1):
        n = a + b + k
        first = -1
        for s in range(start, k + 1):
            mu = (a + s) / n
            cont = mu + d * (mu * V[s + 1] + (1.0 - mu) * V[s])
            dcont = d * (mu * D[s + 1] + (1.0 - mu) * D[s])
            if k == 0:
                return cont - ret, dcont - d_ret
            if cont > ret:
                V[s], D[s] = cont, dcont
                if first < 0:
                    first = s
            else:
                V[s], D[s] = ret, d_ret
        # a node below first - 1 has two retiring children and a mean below lam: it retires
        if first < 0:
            first = k + 1
        start = max(0, first - 1)
    # every node of some layer retires, so every node above it does too (a node whose children both retire
    # has a mean below lam): the root retires, and playing once more is worth mean + d ret
    return a / (a + b) - lam, -1.0


def _newton_index(a: float, b: float, d: float, depth: int, tol: float, lam0: float, V: NDArray, D: NDArray) -> float:  # pragma: no cover
    lo = lam0  # g(lo) >= 0 (a lower bound of the index)
    hi = 1.0  # g(1) = mean - 1 <= 0
    lam = lo
    for _ in range(200):
        g, dg = _retirement_gap(a, b, d, depth, lam, V, D)
        if g >= 0.0:
            lo = lam
            if g <= tol:  # |dg| >= 1, so the root is within g of lam
                return lam
        else:
            hi = lam
        step = lam - g / dg
        if lo < step < hi:
            lam = step
        else:
            lam = 0.5 * (lo + hi)
        if hi - lo <= tol:
            return lo
    return lo


def _bernoulli_table(a: NDArray, b: NDArray, d: float, tol: float) -> NDArray:  # pragma: no cover
    out = np.empty(a.shape[0])
    for q in numba.prange(a.shape[0]):
        aq, bq = a[q], b[q]
        # depth: error of the frozen-posterior cut <= d^N sd / (2 (1 - d)) <= tol / 4
        depth = 1
        while d**depth / (4.0 * math.sqrt(aq + bq + depth + 1.0) * (1.0 - d)) > 0.25 * tol:
            depth += 1
        V = np.empty(depth + 2)
        D = np.empty(depth + 2)
        # shallower trees give lower bounds of the index (cheap starting points); finish on the full tree
        lam = aq / (aq + bq)
        for coarse in (depth // 9, depth // 3):
            if coarse >= 1:
                lam = _newton_index(aq, bq, d, coarse, 0.1 * tol, lam, V, D)
        out[q] = _newton_index(aq, bq, d, depth, 0.5 * tol, lam, V, D)
    return out


def _two_arm_dp(a1, b1, a2, b2, d, N, record, first):  # pragma: no cover - compiled
    # V_next[n2, s1, s2] holds layer n1 + 1; V_cur layer n1
    V_next = np.zeros((N + 1, N + 2, N + 2))
    V_cur = np.zeros((N + 1, N + 2, N + 2))
    root = 0.0
    for n1 in range(N, -1, -1):
        for n2 in range(N, -1, -1):
            for s1 in range(n1 + 1):
                mu1 = (a1 + s1) / (a1 + b1 + n1)
                for s2 in range(n2 + 1):
                    mu2 = (a2 + s2) / (a2 + b2 + n2)
                    if n1 == N and n2 == N:
                        v = max(mu1, mu2) / (1.0 - d)
                        play1 = mu1 / (1.0 - d)
                        play2 = mu2 / (1.0 - d)
                    else:
                        if n1 == N:  # arm 1 frozen: playing it once means playing it forever
                            play1 = mu1 / (1.0 - d)
                        else:
                            play1 = mu1 + d * (mu1 * V_next[n2, s1 + 1, s2] + (1.0 - mu1) * V_next[n2, s1, s2])
                        if n2 == N:
                            play2 = mu2 / (1.0 - d)
                        else:
                            play2 = mu2 + d * (mu2 * V_cur[n2 + 1, s1, s2 + 1] + (1.0 - mu2) * V_cur[n2 + 1, s1, s2])
                        v = max(play1, play2)
                    V_cur[n2, s1, s2] = v
                    if n1 <= record and n2 <= record:
                        gap = play1 - play2
                        scale = 1e-12 * (1.0 + abs(v))
                        first[n1, s1, n2, s2] = 0 if gap > scale else (1 if gap < -scale else -1)
        if n1 == 0:
            root = V_cur[0, 0, 0]
        tmp = V_next
        V_next = V_cur
        V_cur = tmp
    return root


# compiled here, not by decorators (see the module docstring); a kernel calling another resolves it at compile time
_eliminate = numba.njit(cache=True)(_eliminate)
_retirement_gap = numba.njit(cache=True)(_retirement_gap)
_newton_index = numba.njit(cache=True)(_newton_index)
_bernoulli_table = numba.njit(cache=True, parallel=True)(_bernoulli_table)
_two_arm_dp = numba.njit(cache=True)(_two_arm_dp)

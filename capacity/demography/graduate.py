"""Graduation solvers for :mod:`capacity.demography.residual`: fit ``CK m ≈ r`` (census-2
groups from annual migrants ``m`` by sex × single age) as smoothly as possible.

``D`` is the second-difference operator over single ages, per sex (no difference across
the two sexes).  ``σ_g = √max(|obs_g|, 1)`` weights the census groups (Poisson-like).

* :func:`smoothest` — min ‖D m‖ subject to ``CK m = r`` (null-space method).
* :func:`penalised` — min Σ ((CK m − r)/σ)² + λ ‖D m‖², optionally ``m ≥ lb`` (BVLS).
* :func:`gcv_lambda` — λ by generalised cross-validation.
* :func:`bounded_exact` — min ‖D m‖² subject to ``CK m = r`` and ``m ≥ lb`` (active set).
"""
from __future__ import annotations

import numpy as np

# scipy is imported inside the solvers: slow to import, and a run seldom needs it.
__all__ = ["second_differences", "smoothest", "penalised", "gcv_lambda", "bounded_exact"]


def second_differences(A: int) -> np.ndarray:
    """(2(A−2), 2A) second differences over ages 0..A-1, separately for each sex."""
    d = np.zeros((A - 2, A))
    i = np.arange(A - 2)
    d[i, i], d[i, i + 1], d[i, i + 2] = 1.0, -2.0, 1.0
    return np.kron(np.eye(2), d)


def smoothest(CK: np.ndarray, r: np.ndarray, A: int) -> np.ndarray:
    """min ‖D m‖ subject to CK m = r (D: second differences per sex)."""
    from scipy.linalg import null_space
    m0 = np.linalg.lstsq(CK, r, rcond=None)[0]
    N = null_space(CK)
    if N.shape[1] == 0:
        return m0
    D = second_differences(A)
    z = np.linalg.lstsq(D @ N, -(D @ m0), rcond=None)[0]
    return m0 + N @ z


def penalised(CK: np.ndarray, r: np.ndarray, obs: np.ndarray, A: int, lam: float,
              lb: np.ndarray) -> np.ndarray:
    """min Σ ((CK m − r)/σ)² + λ ‖D m‖², m ≥ lb (σ = √obs)."""
    from scipy.optimize import lsq_linear
    s = np.sqrt(np.maximum(np.abs(obs), 1.0))
    D = second_differences(A)
    Amat = np.vstack([CK / s[:, None], np.sqrt(lam) * D])
    rhs = np.concatenate([r / s, np.zeros(D.shape[0])])
    if not np.isfinite(lb).any():  # normal equations: non-singular for λ > 0
        return np.linalg.solve(Amat.T @ Amat, Amat.T @ rhs)
    res = lsq_linear(Amat, rhs, bounds=(lb, np.full(lb.shape, np.inf)), method="bvls",
                     tol=1e-12)
    return np.maximum(res.x, lb)


def gcv_lambda(CK: np.ndarray, r: np.ndarray, obs: np.ndarray, A: int) -> float:
    """λ minimising GCV(λ) = N·RSS / (N − tr S)² of the unbounded penalised fit.

    With ``m = Lβ + D⁺u`` (L: null space of D, the per-sex straight lines) the fit is a ridge
    regression in u after projecting out ``X = At L``; one SVD ``Q₂ᵀ At D⁺ = U Σ Vᵀ`` gives
    ``RSS(λ) = Σ (λ/(σ²+λ))² y² + ‖y⊥‖²`` and ``tr S = 4 + Σ σ²/(σ²+λ)``.
    """
    from scipy.optimize import minimize_scalar
    s = np.sqrt(np.maximum(np.abs(obs), 1.0))
    At, rt = CK / s[:, None], r / s
    D = second_differences(A)
    ages = np.arange(A, dtype=float)
    L = np.kron(np.eye(2), np.stack([np.ones(A), ages / A], axis=1))  # (2A, 4)
    Dp = D.T @ np.linalg.solve(D @ D.T, np.eye(D.shape[0]))  # D⁺
    X = At @ L
    Q = np.linalg.qr(X, mode="complete")[0][:, X.shape[1]:]  # ⊥ to X
    U, sig, _ = np.linalg.svd(Q.T @ (At @ Dp), full_matrices=False)
    z = Q.T @ rt
    y = U.T @ z
    rest = float(z @ z - y @ y)
    N, s2 = rt.size, sig ** 2

    def score(log_lam: float) -> float:
        lam = 10.0 ** log_lam
        rss = float(((lam / (s2 + lam)) ** 2 * y ** 2).sum()) + max(rest, 0.0)
        return N * rss / max(N - X.shape[1] - float((s2 / (s2 + lam)).sum()), 1e-9) ** 2

    grid = np.arange(-8.0, 8.01, 0.25)
    i = int(np.argmin([score(g) for g in grid]))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    return float(10.0 ** minimize_scalar(score, bounds=(lo, hi), method="bounded").x)


def _eqp(CK: np.ndarray, r: np.ndarray, D: np.ndarray, lb: np.ndarray,
         work: np.ndarray) -> tuple[np.ndarray, bool]:
    """min ‖D m‖ s.t. CK m = r and m = lb on ``work``; (m, whether the equations hold)."""
    from scipy.linalg import null_space
    free = ~work
    x = np.where(work, lb, 0.0)
    rf = r - CK[:, work] @ lb[work]
    Cf = CK[:, free]
    x0 = np.linalg.lstsq(Cf, rf, rcond=None)[0]
    N = null_space(Cf)
    if N.size:
        Df = D[:, free]
        x0 = x0 + N @ np.linalg.lstsq(Df @ N, -(Df @ x0 + D[:, work] @ lb[work]),
                                      rcond=None)[0]
    x[free] = x0
    ok = np.abs(Cf @ x0 - rf).max() <= 1e-9 * max(1.0, np.abs(r).max())
    return x, bool(ok)


def bounded_exact(CK: np.ndarray, r: np.ndarray, A: int, lb: np.ndarray) -> np.ndarray | None:
    """min ‖D m‖² s.t. CK m = r, m ≥ lb (primal active-set method); None if infeasible.

    The start is the equality-constrained optimum on the bounds that a weighted bounded
    least-squares fit leaves active, else a feasible vertex from a linear programme."""
    from scipy.optimize import linprog, lsq_linear
    D = second_differences(A)
    bounded = np.isfinite(lb)
    upper = np.full(lb.shape, np.inf)
    w = 1e4 / np.sqrt(np.maximum(np.abs(r), 1.0))[:, None]
    approx = lsq_linear(np.vstack([w * CK, D]), np.concatenate([w[:, 0] * r,
                        np.zeros(D.shape[0])]), bounds=(lb, upper), method="bvls").x
    scale = max(1.0, float(np.abs(approx).max()))
    work = bounded & (approx <= lb + 1e-6 * scale)
    x, ok = _eqp(CK, r, D, lb, work)
    if not ok or (x[bounded] < lb[bounded] - 1e-9 * scale).any():
        res = linprog(np.zeros(lb.size), A_eq=CK, b_eq=r, method="highs",
                      bounds=list(zip(np.where(bounded, lb, None), [None] * lb.size)))
        if res.status != 0:
            return None
        x = np.maximum(res.x, lb)
        work = bounded & (x <= lb + 1e-12 * scale)
    for _ in range(20 * lb.size):
        target, _ = _eqp(CK, r, D, lb, work)
        p = target - x
        if np.abs(p).max() <= 1e-10 * scale:
            g = D.T @ (D @ x)  # KKT: g = CKᵀλ + μ on the active bounds, μ ≥ 0 at the optimum
            lam = np.linalg.lstsq(CK[:, ~work].T, g[~work], rcond=None)[0]
            mult = g[work] - CK[:, work].T @ lam
            if mult.size == 0 or mult.min() >= -1e-9 * max(1.0, np.abs(g).max()):
                return x
            work[np.flatnonzero(work)[np.argmin(mult)]] = False
            continue
        block = bounded & ~work & (p < 0)
        steps = np.where(block, (lb - x) / np.where(block, p, -1.0), np.inf)
        i = int(np.argmin(steps))
        alpha = min(1.0, max(float(steps[i]), 0.0))
        x = x + alpha * p
        if alpha < 1.0:
            x[i] = lb[i]
            work[i] = True
    return x

"""A MILP held as arrays (objective, bounds, sparse constraint blocks) and its PuLP form.

Components add whole blocks of variables and rows at once, so model size never
costs Python-level work per coefficient until the model is handed to PuLP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pulp
import scipy.sparse as sp

INF = float("inf")


@dataclass
class LinearModel:
    """max (or min) c·x  s.t.  row_lo ≤ A x ≤ row_hi,  lb ≤ x ≤ ub,  x binary where ``binary``."""

    sense: str = "max"

    obj: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lb: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ub: np.ndarray = field(default_factory=lambda: np.zeros(0))
    binary: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    var_names: list[str] = field(default_factory=list)
    _blocks: list[tuple[str, sp.coo_matrix, np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        return len(self.obj)

    def add_vars(self, prefix: str, count: int, obj: np.ndarray | float = 0.0, lb: float | np.ndarray = 0.0, ub: float | np.ndarray = 1.0, binary: bool = True) -> np.ndarray:
        """Append ``count`` variables; return their column indices."""
        start = self.n_vars
        self.obj = np.concatenate([self.obj, np.broadcast_to(np.asarray(obj, float), (count,))])
        self.lb = np.concatenate([self.lb, np.broadcast_to(np.asarray(lb, float), (count,))])
        self.ub = np.concatenate([self.ub, np.broadcast_to(np.asarray(ub, float), (count,))])
        self.binary = np.concatenate([self.binary, np.full(count, binary)])
        self.var_names.extend(f"{prefix}_{k}" for k in range(count))
        return np.arange(start, start + count)

    def add_rows(self, name: str, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, n_rows: int) -> None:
        """Append ``n_rows`` constraints lo ≤ Σ vals·x[cols] ≤ hi given as coordinate triplets."""
        if n_rows == 0:
            return
        m = sp.coo_matrix((np.asarray(vals, float), (np.asarray(rows), np.asarray(cols))), shape=(n_rows, self.n_vars))
        self._blocks.append((name, m, np.broadcast_to(np.asarray(lo, float), (n_rows,)).copy(), np.broadcast_to(np.asarray(hi, float), (n_rows,)).copy()))

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, list[str]]:
        """The whole constraint matrix (CSR), row bounds, and each row's block name."""
        if not self._blocks:
            return sp.csr_matrix((0, self.n_vars)), np.zeros(0), np.zeros(0), []
        mats = [sp.coo_matrix((b.data, (b.row, b.col)), shape=(b.shape[0], self.n_vars)) for _, b, _, _ in self._blocks]
        a = sp.vstack(mats).tocsr()
        a.sum_duplicates()
        lo = np.concatenate([b[2] for b in self._blocks])
        hi = np.concatenate([b[3] for b in self._blocks])
        names = [n for n, b, _, _ in self._blocks for _ in range(b.shape[0])]
        return a, lo, hi, names

    @property
    def n_rows(self) -> int:
        return sum(b.shape[0] for _, b, _, _ in self._blocks)

    @property
    def nnz(self) -> int:
        """Coefficients in the constraint rows (before duplicates are summed)."""
        return sum(b.nnz for _, b, _, _ in self._blocks)

    def block_sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, b, _, _ in self._blocks:
            out[name] = out.get(name, 0) + b.shape[0]
        return out

    def to_pulp(self, name: str = "cluster_opt") -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
        """The same model as a PuLP problem (one LpVariable per column, one constraint per row)."""
        prob = pulp.LpProblem(name, pulp.LpMaximize if self.sense == "max" else pulp.LpMinimize)
        # Binaries are integers in [lb, ub] so that fixed bounds (include / exclude) survive:
        # PuLP resets the bounds of LpBinary variables to [0, 1].
        cat = np.where(self.binary, pulp.LpInteger, pulp.LpContinuous)
        xs = [
            prob.add_variable(n, lowBound=None if lo == -INF else lo, upBound=None if hi == INF else hi, cat=c)
            for n, lo, hi, c in zip(self.var_names, self.lb.tolist(), self.ub.tolist(), cat.tolist())
        ]
        nz = np.flatnonzero(self.obj)
        prob += pulp.LpAffineExpression(zip([xs[k] for k in nz], self.obj[nz].tolist()))
        a, lo, hi, names = self.matrix()
        indptr, indices, data = a.indptr, a.indices, a.data.tolist()
        counter: dict[str, int] = {}
        for r in range(a.shape[0]):
            s, e = indptr[r], indptr[r + 1]
            expr = pulp.LpAffineExpression(zip([xs[k] for k in indices[s:e]], data[s:e]))
            counter[names[r]] = counter.get(names[r], 0) + 1
            label = f"{names[r]}_{counter[names[r]]}"
            if lo[r] == hi[r]:
                prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, rhs=lo[r]), label)
                continue
            if lo[r] > -INF:
                prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, rhs=lo[r]), label + ("_lo" if hi[r] < INF else ""))
            if hi[r] < INF:
                prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=hi[r]), label + ("_hi" if lo[r] > -INF else ""))
        return prob, xs

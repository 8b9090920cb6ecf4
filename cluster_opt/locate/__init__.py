"""Classic location models on plain cost matrices (rows: demand points, columns: candidate sites).

Each is an exact MILP built from arrays, handed to PuLP and solved by HiGHS (CBC
selectable; p-median drives HiGHS itself), and returns a :class:`LocateResult`.

- :func:`p_median`: Benders decomposition of the radius formulation
  (Durán-Mateluna, Alès & Elloumi 2023) solved with HiGHS directly: LP cutting
  planes, reduced-cost fixing and a branch and bound over the LP master. The
  radius formulation truncated at each client's nearest distance levels (Elloumi
  2010; García, Labbé & Marín 2011) serves CBC.
- :func:`max_coverage`: the maximal covering location problem (Church & ReVelle 1974).
- :func:`capacitated_facility_location`: fixed-charge capacitated location with
  multi- or single-sourcing, with the strong linking rows x ≤ y.
"""

from ..config import Solver
from .capacitated import capacitated_facility_location
from .coverage import max_coverage
from .inputs import great_circle_matrix
from .pmedian import p_median
from .result import LocateResult

__all__ = ["LocateResult", "Solver", "p_median", "max_coverage", "capacitated_facility_location", "great_circle_matrix"]

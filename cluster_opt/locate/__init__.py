"""Classic location models on plain cost matrices (rows: demand points, columns: candidate sites).

Each is an exact MILP built from arrays, handed to PuLP and solved by HiGHS (CBC
selectable), and returns a :class:`LocateResult`.

- :func:`p_median`: the radius formulation (Elloumi 2010; García, Labbé & Marín
  2011), truncated to each client's nearest distance levels and enlarged until
  an optimality certificate holds, so large instances never build n² variables.
- :func:`max_coverage`: the maximal covering location problem (Church & ReVelle 1974).
- :func:`capacitated_facility_location` and :func:`capacitated_p_median`:
  capacitated location with multi- or single-sourcing and forced sites, with the
  strong linking rows x ≤ y, a Lagrangian bound and a first solution.
"""

from ..config import Solver
from .capacitated import capacitated_facility_location, capacitated_p_median
from .coverage import max_coverage
from .inputs import great_circle_matrix
from .pmedian import p_median
from .result import LocateResult

__all__ = ["LocateResult", "Solver", "p_median", "max_coverage", "capacitated_facility_location", "capacitated_p_median",
           "great_circle_matrix"]

"""Classic location models on plain cost matrices (rows: demand points, columns: candidate sites).

Each is an exact MILP built from arrays, handed to PuLP and solved by HiGHS (CBC
selectable; p-median drives HiGHS itself), and returns a :class:`LocateResult`. In the
models below, ``forced`` names sites that must be open, and an infinite cost marks a pair
that can never be served or covered.

- :func:`p_median`: Benders decomposition of the radius formulation
  (Durán-Mateluna, Alès & Elloumi 2023) solved with HiGHS directly: LP cutting
  planes, reduced-cost fixing and a branch and bound over the LP master. The
  radius formulation truncated at each client's nearest distance levels (Elloumi
  2010; García, Labbé & Marín 2011) serves CBC.
- :func:`p_center`: the smallest largest (weighted) distance to an open site, by a
  binary search over the distinct distances, each step a set-covering MILP.
- :func:`max_coverage`: the maximal covering location problem (Church & ReVelle 1974).
- :func:`set_covering`: the location set covering problem (Toregas et al. 1971), and
  with ``demand`` and ``capacity`` its capacitated form.
- :func:`p_dispersion`: p sites as far apart as possible (Kuby 1987), by a binary search
  over the distinct distances, each step an independent-set MILP.
- :func:`capacitated_facility_location` and :func:`capacitated_p_median`:
  capacitated location with multi- or single-sourcing and forced sites, with the
  strong linking rows x ≤ y, a Lagrangian bound and a first solution.

:func:`from_geodataframes` runs any of them on two GeoDataFrames (demand points, candidate
sites): great-circle kilometres for a geographic CRS, planar distances for a projected one,
and the answer in the frames' index labels (:class:`FrameResult`).
"""

from ..config import Solver
from .capacitated import capacitated_facility_location, capacitated_p_median
from .coverage import max_coverage
from .covering import set_covering
from .dispersion import p_dispersion
from .frames import FrameResult, from_geodataframes
from .inputs import great_circle_matrix
from .pcenter import p_center
from .pmedian import p_median
from .result import LocateResult

__all__ = ["LocateResult", "Solver", "p_median", "p_center", "max_coverage", "set_covering", "p_dispersion",
           "capacitated_facility_location", "capacitated_p_median", "great_circle_matrix", "from_geodataframes", "FrameResult"]

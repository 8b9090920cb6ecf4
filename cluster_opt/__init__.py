"""cluster-opt: choose where to build industrial clusters.

The pipeline: config → units → layers → features → scores → problem → solution → run directory.
"""

__version__ = "0.1.0"

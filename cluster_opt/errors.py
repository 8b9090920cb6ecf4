"""Errors a planner can act on. Each carries the exit code the CLI returns."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable

# Set when Ctrl-C or SIGTERM arrives. Some libraries catch the KeyboardInterrupt it raises and fail
# in their own words (PuLP then reports HiGHS "Not Available"); the flag keeps the stop a stop.
stop_requested = threading.Event()


class ClusterOptError(Exception):
    """Base class: a message in the planner's words and a process exit code."""

    exit_code = 1


class InputError(ClusterOptError):
    """A config or data file is wrong (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


class ConfigError(InputError):
    """The YAML config is wrong."""


class DataError(InputError):
    """A data file (a layer, a unit file) is wrong."""


class OutputError(InputError):
    """The output folder cannot be used: it is not an earlier output, holds the inputs, or cannot be written (exit code 2)."""


class InfeasibleError(ClusterOptError):
    """No selection meets every requirement (exit code 3)."""

    exit_code = 3


class SolverError(ClusterOptError):
    """The solver failed or returned a solution that does not check out."""

    exit_code = 4


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""

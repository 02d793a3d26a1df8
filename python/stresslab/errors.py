"""Exception types of stresslab.

Every error raised on bad input derives from :class:`StresslabError` and from the matching builtin
(``ValueError`` for bad parameters, ``MemoryError`` for oversized requests), so both
``except ValueError`` and ``except StresslabError`` catch it. The native module raises these same
classes (it imports them from here), so Python and Rust errors look alike.
"""

from __future__ import annotations


class StresslabError(Exception):
    """Base class of every stresslab error."""


class InvalidParameterError(StresslabError, ValueError):
    """A parameter is unknown or out of range. ``field`` names it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ScenarioValidationError(InvalidParameterError):
    """A scenario definition is invalid (unknown parameter, value out of range, bad file)."""


class InsufficientMemoryError(StresslabError, MemoryError):
    """A request would not fit in memory; the message says how much it needs."""


class DataError(StresslabError, ValueError):
    """Input market data cannot be used (missing columns, bad file, range not covered)."""


__all__ = [
    "StresslabError",
    "InvalidParameterError",
    "ScenarioValidationError",
    "InsufficientMemoryError",
    "DataError",
]

"""The application layer's error types, together: what each means and which exit code the CLI gives it is in
``quotaflow.commands.errors`` (the one error -> exit-code table)."""

from __future__ import annotations

import scenarios

__all__ = ["ComparisonError", "GridError", "MissingExtraError", "OutputError", "ReportError"]


class OutputError(OSError):
    """The output folder cannot be used (exists, is protected, is being written, cannot be written)."""


class GridError(ValueError):
    """A grid file or ``--set`` option that cannot be used; the message says where and how to fix it."""


class MissingExtraError(RuntimeError):
    """An option needs an optional extra that is not installed; the message names the ``pip install``."""


class ReportError(ValueError):
    """A folder that is not a finished sweep, or a metric it does not hold."""


class ComparisonError(scenarios.ScenarioError):
    """A comparison that cannot run (unknown or repeated pay plan ids, fewer than two replications); exit code 2."""

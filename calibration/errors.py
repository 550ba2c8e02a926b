"""The one error type of the calibration layer: an export, mapping or option that cannot be calibrated.

It carries ``scenarios.Problem`` records, so every message names the file, row, column and value and says how to
mend it, exactly as a broken scenario does; the command line maps it to exit code 2.
"""

from __future__ import annotations

from scenarios import Problem, ScenarioError

__all__ = ["CalibrationError", "Problem"]


class CalibrationError(ScenarioError):
    """A CRM export, mapping file or calibration option that cannot be used as it is.

    Examples
    --------
    >>> err = CalibrationError(Problem("Opportunity.csv", "amount is not a number", "write a number", line=3,
    ...                                column="Amount", value="n/a"))
    >>> print(err)
    Opportunity.csv line 3, column 'Amount': amount is not a number (value 'n/a'). Fix: write a number
    """

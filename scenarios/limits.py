"""The largest (and smallest) numbers a scenario or plan may hold: the range the engines compute correctly in.

Validation refuses values outside these bounds with a message naming file, line, column and value, instead of
letting a solver or the simulator fail later with a traceback or a silent wrong answer. Each bound has its reason
here; ``schema.csv`` (``why`` column) and the settings' fields use them, and docs/scenario-format.md lists them.

Measured (``optimizer.allocate`` on a generated 12-rep, 300-account scenario, every potential and the travel
weight scaled so that the largest potential is 1e9 ... 1e14): every run ends optimal within ``mip_gap`` with the
same objective up to the gap as the unscaled run; at 1e15 HiGHS rejects the model (its ``large_matrix_value``,
1e15, treats larger coefficients as infinite, and PuLP then fails reading the solution).
"""

from __future__ import annotations

__all__ = ["HOURS_PER_YEAR", "MAX_AMOUNT", "MAX_CV", "MAX_KM", "MAX_LEADS", "MAX_MULTIPLIER", "MAX_SKILL",
           "MAX_TOTAL", "MAX_TRAVEL_WEIGHT", "MIN_SKILL"]

MAX_AMOUNT = 1e13
"""Largest money amount of one entity (an account's yearly potential, a pair's value, a salary, a price, a quota,
a bonus, a month's spend): with a productivity of up to ``MAX_SKILL`` x 1.9 (role fit) it stays 5 times below
HiGHS's 1e15 coefficient limit. 1e13 is about 4e8 US dollars in Vietnamese dong; plan in thousands beyond that."""

MAX_TOTAL = 1e15
"""Largest company-wide money total (the annual target, the marketing budget, a channel's spend over the horizon):
sums stay exact to one currency unit in float64 (integers are exact up to 2**53, about 9.0e15)."""

HOURS_PER_YEAR = 8784.0
"""Hours in a leap year: one rep serves an account, so its yearly service need (and a pair's hours, and one funnel
stage's effort) cannot exceed them; larger values make every plan infeasible or a deal never close."""

MAX_KM = 1e7
"""Largest travel distance of a pair per year (250 times round the Earth): with ``MAX_TRAVEL_WEIGHT`` the travel
term stays within ``MAX_AMOUNT``."""

MAX_TRAVEL_WEIGHT = 1e6
"""Largest objective penalty per km (currency per km): ``MAX_KM`` x 1e6 = ``MAX_AMOUNT``."""

MAX_SKILL = 10.0
"""Largest stage skill multiplier (10 times the average rep): a pair's value is potential x skill, which must stay
below HiGHS's coefficient limit (see ``MAX_AMOUNT``)."""

MIN_SKILL = 0.01
"""Smallest stage skill multiplier: a pair's hours are service hours / skill, so a skill of 0 gives infinite hours
(the solver rejects the model); 0.01 keeps them within 100 times the need."""

MAX_CV = 10.0
"""Largest coefficient of variation of a duration, deal value or effort: the lognormal's variance is log(1 + cv^2),
and at 10 already nine in ten draws fall below a tenth of the mean; far beyond, cv^2 overflows float64."""

MAX_LEADS = 1e6
"""Largest expected number of leads of one channel in one region and month: the simulator runs one process per
lead, and a million leads a month already takes hours per replication."""

MAX_MULTIPLIER = 100.0
"""Largest relative weight or multiplier (seasonality, product mix, lead quality, share of base salary): these are
normalised or multiply amounts bounded by ``MAX_AMOUNT``; 100 times the neutral level keeps products within range."""

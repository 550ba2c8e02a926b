"""Quota setting: the company target, decomposed top-down (region, period, product) and personalised per rep.

``set_quotas`` reads as its steps, each in its own module and callable alone: ``ramp_factors`` (months in seat
and ramp curve per rep and period) and ``expected_sales`` (territory potential and the skill model; both live in
``scenarios.skill`` so the simulator's default quotas use the same model, and are re-exported here) ->
``split_target`` (``optimizer.quota_targets``: target x over-assignment by region, period and product, rounded to
currency units with exact sums) -> ``rep_totals`` (``optimizer.quota_methods``: rep totals by the chosen method
within tier bounds) -> ``spread_and_round`` (``optimizer.quota_spreading``: over periods and products, rounded so
every period-product total is exact) -> an independent check -> the gap analysis against potential and expected
sales. This module holds the entry point and the result.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import QuotaSolverError
from optimizer.quota_methods import check_pools, expected_shares, rep_totals, tier_bounds
from optimizer.quota_spreading import spread_and_round
from optimizer.quota_targets import ALL, Pool, pools, split_target
from optimizer.solvers import SOLVERS
from optimizer.status import Status
from scenarios import Problem, Scenario, ScenarioError, write_atomic, write_csv
from scenarios.plan import QUOTA_COLUMNS
from scenarios.quotas import QUOTA_METHODS
from scenarios.skill import expected_sales, horizon_weights, ramp_factors

__all__ = ["QuotaResult", "expected_sales", "ramp_factors", "set_quotas", "split_target"]


@dataclass(frozen=True, eq=False)
class QuotaResult:
    """Rep quotas by period and product, with the per-rep gap analysis.

    Parameters
    ----------
    quotas
        Columns ``rep_id, period, product, quota`` (whole units); what goes into ``scenarios.Plan.quotas``.
    reps
        Index ``rep_id``: ``region, tier, accounts, potential, productivity, coverage, ramp, expected_sales,
        min_quota, max_quota, quota, share_of_potential, relative_deviation, attainment_probability, flagged``.
        ``min_quota``/``max_quota`` are the tier bounds over the horizon pro-rated by ramp; ``flagged`` marks
        quotas above ``max_potential_share`` of the territory potential.
    targets
        Columns ``region, period, product, target``: the pool totals the quotas sum to exactly.
    method, status
        Method used and how the result was obtained: ``optimal`` when the fair LP was solved to proven
        optimality (an LP has no gap) and the quotas passed the independent check; ``solved`` when a direct method
        (no optimisation) met every constraint, or when the fair LP's totals had to be moved to cover months with
        few reps in seat (the LP optimum then no longer describes the result, and a warning says so).
    target, over_assignment, total
        Company annual target, over-assignment factor, and the sum of all quotas.
    max_relative_deviation
        Largest ``|quota share / expected-sales share - 1|`` over reps with expected sales (after rounding).
    attainment_probability
        For ``equal_probability``: the common chance of reaching quota per pool; empty otherwise.
    warnings
        Planner-worded findings (flagged reps, low chances).
    seconds, solver
        Wall time and the LP solver (``fair`` only).
    lp_objective
        ``fair`` only: the LP's proven optimal largest relative deviation (before rounding).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> r = set_quotas(s, scenarios.Plan.current(s).assignment, method="potential")
    >>> print(repr(r)[:60])
    QuotaResult(potential, solved): 6 reps, 12 periods x 3 produ
    >>> r.summary()["quota_total"]
    770000.0
    """

    quotas: pd.DataFrame
    reps: pd.DataFrame
    targets: pd.DataFrame
    method: str
    status: Status
    target: float
    over_assignment: float
    total: float
    max_relative_deviation: float
    attainment_probability: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    solver: str | None = None
    lp_objective: float | None = None

    def summary(self) -> dict[str, Any]:
        """The headline figures as a JSON-ready dict (what ``quotaflow quotas`` writes to summary.json).

        For ``fair`` it carries the LP's proven optimum (``objective``: the smallest possible largest relative
        deviation before rounding to whole units), its ``bound`` (the same: an LP solved to optimality has no
        gap) and ``gap`` 0; other methods solve no optimisation problem and report ``null`` there.
        """
        return {
            "kind": "quotas",
            "method": self.method,
            "status": str(self.status),
            "solver": self.solver,
            "target": self.target,
            "over_assignment": self.over_assignment,
            "quota_total": self.total,
            "reps": len(self.reps),
            "periods": int(self.quotas["period"].nunique()),
            "products": int(self.quotas["product"].nunique()),
            "objective": self.lp_objective,
            "bound": self.lp_objective,
            "gap": 0.0 if self.lp_objective is not None else None,
            "max_relative_deviation": self.max_relative_deviation,
            "attainment_probability": self.attainment_probability,
            "flagged_reps": [str(r) for r in self.reps.index[self.reps["flagged"]]],
            "warnings": list(self.warnings),
            "seconds": self.seconds,
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """The exported tables by file stem: ``quotas`` (rep_id, period, product, quota; whole currency units
        as integers when every quota is whole) and ``quota_reps`` (the gap analysis)."""
        quotas = self.quotas[QUOTA_COLUMNS]
        if (quotas["quota"] % 1 == 0).all():  # whole currency units read better as 44629 than 44629.0
            quotas = quotas.assign(quota=quotas["quota"].astype("int64"))
        return {"quotas": quotas, "quota_reps": self.reps.rename_axis("rep_id").reset_index()}

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write ``quotas.csv``, ``quota_reps.csv`` (gap analysis; ``scenarios.write_csv``, a BOM when ``excel``)
        and ``quota_summary.json`` to ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables().items():
            write_csv(frame, out / f"{name}.csv", excel=excel)
        write_atomic(out / "quota_summary.json", (json.dumps(self.summary(), indent=2, ensure_ascii=False)
                                                  + "\n").encode("utf-8"))

    def __repr__(self) -> str:
        flagged = int(self.reps["flagged"].sum())
        chance = ""
        if self.attainment_probability:
            chance = "; chance of reaching quota " + ", ".join(
                f"{k} {v:.0%}" for k, v in self.attainment_probability.items())
        return (f"QuotaResult({self.method}, {self.status}): {len(self.reps)} reps, "
                f"{self.quotas['period'].nunique()} periods x {self.quotas['product'].nunique()} products; "
                f"quota total {self.total:,.0f} = target {self.target:,.0f} x {self.over_assignment:g}"
                f"{'' if abs(self.total - self.target * self.over_assignment) < 1 else ' (horizon-adjusted)'}; "
                f"max relative deviation from expected-sales share {self.max_relative_deviation:.1%}; "
                f"{flagged} rep(s) flagged above {self.reps.attrs.get('max_potential_share', 0):.0%} of "
                f"potential{chance}")


def _samples_matrix(scenario: Scenario, samples: np.ndarray | pd.DataFrame) -> np.ndarray:
    reps = scenario.reps.index
    if isinstance(samples, pd.DataFrame):
        missing = reps.difference(samples.index)
        if len(missing):
            raise ScenarioError(Problem("sales samples", "no simulated sales for a rep",
                                        "give one row of samples per rep of the scenario", column="rep_id",
                                        value=str(missing[0])))
        matrix = samples.reindex(reps).to_numpy(dtype=float)
    else:
        matrix = np.asarray(samples, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != len(reps) or matrix.shape[1] < 1:
        raise ScenarioError(Problem("sales samples", f"has shape {matrix.shape}",
                                    f"pass a 2-D array of {len(reps)} reps (rows, in reps.csv order) x "
                                    "samples (columns)"))
    bad = ~np.isfinite(matrix) | (matrix < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ScenarioError(Problem("sales samples", "simulated sales must be finite and >= 0",
                                    "check the simulation output", column=f"rep {reps[r]}, sample {c}",
                                    value=str(matrix[r, c])))
    return np.sort(matrix, axis=1)


def set_quotas(scenario: Scenario, assignment: pd.Series, *, method: str | None = None,
               sales_distribution: np.ndarray | pd.DataFrame | None = None, solver: str | None = None,
               time_limit: float | None = None) -> QuotaResult:
    """Set each rep's quota by period and product so the quotas add up to target x over-assignment exactly.

    Steps: split the target (``split_target``); per pool (region when ``targets.by_region`` is given, else the
    company) compute rep totals by ``method`` within the tier bounds pro-rated for ramp-up; spread each rep's
    total over the periods (IPF on the seasonality x ramp profile, so period totals are met) and over products
    (the pool's product shares); round each region-period-product column to whole ``quotas.unit`` amounts
    (largest remainder, exact sums) and repair any rep pushed over a bound by rounding; check everything again
    independently; run the gap analysis.

    Parameters
    ----------
    scenario
        The scenario.
    assignment
        Series ``account_id -> rep_id`` (e.g. ``Plan.current(scenario).assignment`` or ``Plan.load(...)``).
    method
        ``even``, ``potential``, ``expected_sales``, ``fair`` or ``equal_probability``; default
        ``scenario.settings.quotas.method``.
    sales_distribution
        For ``equal_probability``: simulated horizon sales per rep, a 2-D array reps (rows, in ``scenario.reps``
        order) x samples, or a DataFrame indexed by ``rep_id``. Quotas become ``clip(Q_r(1 - p), min, max)``
        with ``Q_r`` the rep's empirical quantile function and the common chance ``p`` found by bisection so
        the pool total is met.
    solver, time_limit
        LP solver (``highs`` or ``cbc``) and limit in seconds for ``fair``; default ``[optimizer]``.

    Returns
    -------
    QuotaResult

    Raises
    ------
    QuotaError
        The target cannot be met within the tier bounds (names the pool, the amounts and the fix).
    QuotaSolverError
        The LP solver failed or the answer failed the independent check.
    scenarios.ScenarioError
        Bad inputs (unknown method, missing samples, unknown reps in the assignment).

    Examples
    --------
    ``tiny``'s own target is below what its tiers' min_quota demand (a ``QuotaError``), so the example raises
    the target first:

    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> r = set_quotas(s, scenarios.Plan.current(s).assignment, method="fair")
    >>> r.status
    <Status.OPTIMAL: 'optimal'>
    >>> sums = r.quotas.groupby(["period", "product"])["quota"].sum()
    >>> bool((sums == r.targets.groupby(["period", "product"])["target"].sum()).all())
    True
    >>> float(r.quotas["quota"].sum()) == 700_000 * 11 / 10
    True
    >>> t = scenarios.modify(scenarios.load("tiny"), {"targets.annual": 100_000})
    >>> set_quotas(t, scenarios.Plan.current(t).assignment)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    optimizer.errors.QuotaError: region North's quota total 52,976 (target 100,000 x ...) is less than its 3 reps ...
    """
    started = time.perf_counter()
    s = scenario.settings
    method = method or s.quotas.method
    if method not in QUOTA_METHODS:
        raise ScenarioError(Problem("scenario.toml", f"unknown quota method '{method}'",
                                    f"use one of {', '.join(QUOTA_METHODS)}", column="quotas.method",
                                    value=method))
    if solver is not None and solver not in SOLVERS:
        raise ScenarioError(Problem("command line", f"unknown solver '{solver}'", "use highs or cbc",
                                    column="solver", value=solver))
    lp_solver = solver or s.optimizer.solver
    limit = time_limit or s.optimizer.time_limit_s
    unit = s.quotas.unit
    periods, season, share_of_year = horizon_weights(scenario)
    info = expected_sales(scenario, assignment)
    targets = split_target(scenario)
    lo, hi = tier_bounds(scenario, info["ramp"], share_of_year, unit)
    blocks = pools(scenario, info["region"].to_numpy(), targets)
    check_pools(scenario, blocks, lo, hi)
    shares = expected_shares(info["expected_sales"].to_numpy(), blocks)
    sorted_samples = None
    if method == "equal_probability":
        if sales_distribution is None:
            raise ScenarioError(Problem("sales samples", "method equal_probability needs simulated sales per rep",
                                        "pass sales_distribution (reps x samples), or --samples FILE on the "
                                        "command line, or choose another method"))
        sorted_samples = _samples_matrix(scenario, sales_distribution)
    q, lp_objective, chance = rep_totals(method, info, shares, blocks, lo, hi, sorted_samples, lp_solver, limit)

    # Columns are (period, product) in the order split_target uses.
    profile = ramp_factors(scenario).to_numpy() * season[None, :]
    products = list(targets["product"].iloc[: len(s.products)])
    units, adjusted = spread_and_round(q, profile, targets, blocks, lo, hi, unit, len(periods), len(products),
                                       lp_solver, limit)
    rep_units = units.sum(axis=1)
    _validate(units, rep_units, blocks, targets, lo / unit, hi / unit, unit)
    n_cols = units.shape[1]
    quotas = pd.DataFrame({
        "rep_id": np.repeat(info.index.to_numpy(dtype=object), n_cols),
        "period": np.tile(np.repeat(np.asarray(periods, dtype=object), len(products)), len(info)),
        "product": np.tile(np.asarray(products, dtype=object), len(periods) * len(info)),
        "quota": units.ravel().astype(float) * unit,
    })
    reps, max_dev, warnings = _gap_analysis(scenario, info, rep_units * unit, lo, hi, shares, blocks,
                                            sorted_samples, chance)
    if adjusted:
        warnings.append(f"{', '.join(adjusted)}: some months have few reps in seat (hire dates), so rep totals "
                        f"were moved as little as possible from what method '{method}' gave, to cover them")
    return QuotaResult(
        quotas=quotas, reps=reps, targets=targets, method=method,
        status=Status.OPTIMAL if method == "fair" and not adjusted else Status.SOLVED,
        target=s.targets.annual, over_assignment=s.targets.over_assignment,
        total=float(rep_units.sum() * unit), max_relative_deviation=max_dev,
        attainment_probability=chance, warnings=tuple(warnings),
        seconds=time.perf_counter() - started, solver=lp_solver if method == "fair" else None,
        lp_objective=lp_objective,
    )


def _validate(units: np.ndarray, rep_units: np.ndarray, blocks: list[Pool], targets: pd.DataFrame,
              lo: np.ndarray, hi: np.ndarray, unit: float) -> None:
    """Independent re-check of the rounded quotas against the inputs (exact sums, signs, bounds)."""
    for b in blocks:
        want = np.round(targets.loc[targets["region"] == b.name, "target"].to_numpy() / unit).astype(np.int64)
        got = units[b.reps].sum(axis=0)
        if not np.array_equal(got, want) and (len(b.reps) or want.any()):
            raise QuotaSolverError(f"quota check failed: pool {b.name} does not sum to its target per period "
                                   "and product; please report this scenario")
    if (units < 0).any():
        raise QuotaSolverError("quota check failed: a negative quota; please report this scenario")
    if (rep_units < lo - 1e-6).any() or (rep_units > hi + 1e-6).any():
        raise QuotaSolverError("quota check failed: a rep outside the tier bounds; please report this scenario")


def _gap_analysis(scenario: Scenario, info: pd.DataFrame, quota: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                  shares: np.ndarray, blocks: list[Pool], sorted_samples: np.ndarray | None,
                  chance: dict[str, float]) -> tuple[pd.DataFrame, float, list[str]]:
    """Quota against potential and expected sales, per rep; flags and planner-worded warnings."""
    qs = scenario.settings.quotas
    reps = info.copy()
    reps["min_quota"] = lo
    reps["max_quota"] = hi
    reps["quota"] = quota
    potential = reps["potential"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        reps["share_of_potential"] = np.where(potential > 0, quota / np.where(potential > 0, potential, 1.0),
                                              np.where(quota > 0, np.inf, 0.0))
    quota_share = np.zeros(len(reps))
    for b in blocks:
        if len(b.reps) and b.total > 0:
            quota_share[b.reps] = quota[b.reps] / quota[b.reps].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(shares > 0, np.abs(quota_share / np.where(shares > 0, shares, 1.0) - 1.0), np.nan)
    reps["relative_deviation"] = rel
    max_dev = float(np.nanmax(rel)) if np.isfinite(rel).any() else 0.0
    if sorted_samples is not None:
        reps["attainment_probability"] = (sorted_samples >= quota[:, None] - 1e-9).mean(axis=1)
    else:
        reps["attainment_probability"] = np.nan
    reps["flagged"] = reps["share_of_potential"] > qs.max_potential_share
    reps.attrs["max_potential_share"] = qs.max_potential_share
    warnings = []
    flagged = reps.index[reps["flagged"]]
    if len(flagged):
        names = ", ".join(str(r) for r in flagged[:10]) + (" ..." if len(flagged) > 10 else "")
        warnings.append(f"{len(flagged)} rep(s) need more than {qs.max_potential_share:.0%} of their territory's "
                        f"potential to make quota ({names}): most of them will miss; lower the target or "
                        "over-assignment, or give them more accounts")
    for pool, p in chance.items():
        if p < qs.attainment_probability:
            where = "company" if pool == ALL else f"region {pool}"
            warnings.append(f"{where}: each rep has a {p:.0%} chance of reaching quota, below the planned "
                            f"{qs.attainment_probability:.0%}; the target asks more than the simulated sales "
                            "support")
    return reps, max_dev, warnings

"""The assignment model: its numeric inputs (objective coefficients, resolved bands, disruption budget) and the
PuLP problem built from them.

``prepare`` turns a scenario into ``AllocationInputs`` (numbers only, no solver objects); ``build`` makes a PuLP
problem over all candidate pairs or over a subset (the relax-and-fix step), as a MIP or its LP relaxation.
The validator re-checks solutions against ``AllocationInputs`` without looking at the PuLP problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pulp
from numpy.typing import NDArray

from optimizer.constraints import add_balance, add_capacity, add_cover, add_disruption_budget, add_locks, groups
from optimizer.errors import AllocationError
from optimizer.pairs import Candidates, candidate_pairs
from scenarios import OptimizerSettings, Scenario

__all__ = ["AllocationInputs", "AllocationModel", "Band", "build", "prepare"]


@dataclass(frozen=True, eq=False)
class Band:
    """A balance band resolved to numbers: pair weights and each rep's low/high limit."""

    attribute: str
    weight: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    mean: float


@dataclass(frozen=True, eq=False)
class AllocationInputs:
    """Everything the model and the validator need, as plain arrays.

    Parameters
    ----------
    candidates
        Candidate pairs, capacities, potentials and current reps.
    settings
        The optimizer settings used.
    coef
        Objective coefficient of each pair in the maximising form.
    uncovered_coef
        Objective coefficient of leaving each account uncovered (maximising form; 0 when not allowed).
    bands
        Resolved balance bands.
    max_moves, max_moved_value
        Disruption budget (None = no limit).
    sense
        ``max`` (value mode) or ``min`` (cost mode): reported objectives are in this sense.
    """

    candidates: Candidates
    settings: OptimizerSettings
    coef: NDArray[np.float64]
    uncovered_coef: NDArray[np.float64]
    bands: tuple[Band, ...]
    max_moves: float | None
    max_moved_value: float | None
    sense: Literal["max", "min"]

    @property
    def n_pairs(self) -> int:
        """Number of candidate pairs (model variables)."""
        return len(self.candidates.pairs)

    def natural(self, internal: float) -> float:
        """An objective of the maximising form expressed in the reported sense."""
        return internal if self.sense == "max" else -internal


def _band(scenario: Scenario, cand: Candidates, attribute: str, low: float | None, high: float | None,
          relative: bool, scope: str) -> Band:
    pairs = cand.pairs
    n_reps = len(cand.rep_ids)
    acc = pairs["account"].to_numpy()
    if attribute == "hours":
        weight = pairs["hours"].to_numpy(dtype=float)
        per_account = pd.Series(weight).groupby(acc).mean().reindex(range(len(cand.account_ids))).fillna(0.0)
        base = per_account.to_numpy(dtype=float)
    elif attribute == "accounts":
        weight = np.ones(len(pairs))
        base = np.ones(len(cand.account_ids))
    elif attribute in scenario.accounts.columns and pd.api.types.is_numeric_dtype(scenario.accounts[attribute]):
        column = scenario.accounts[attribute].to_numpy(dtype=float)
        weight = column[acc]
        base = np.nan_to_num(column)
    else:
        raise AllocationError(
            f"balance band attribute '{attribute}' is neither 'hours', 'accounts' nor a numeric accounts column",
            "set [optimizer] balance attribute to hours, accounts or a numeric accounts.csv column such as "
            "annual_potential")
    mean_all = float(base.sum()) / max(n_reps, 1)
    if scope == "region":
        rep_region = scenario.reps["region"].to_numpy()
        total = pd.Series(base).groupby(scenario.accounts["region"].to_numpy()).sum()
        count = pd.Series(rep_region).value_counts()
        mean = (total / count).reindex(rep_region).fillna(0.0).to_numpy(dtype=float)
    else:
        mean = np.full(n_reps, mean_all)
    scale = mean if relative else np.ones(n_reps)
    lo = np.full(n_reps, -np.inf) if low is None else low * scale
    hi = np.full(n_reps, np.inf) if high is None else high * scale
    return Band(attribute=attribute, weight=np.nan_to_num(weight), low=lo, high=hi, mean=mean_all)


def prepare(scenario: Scenario, settings: OptimizerSettings | None = None) -> AllocationInputs:
    """Candidate pairs and the model's numbers for ``scenario``.

    Raises
    ------
    AllocationError
        When a setting refers to something the scenario does not have (unknown lock ids, band attribute).

    Examples
    --------
    >>> import scenarios
    >>> inputs = prepare(scenarios.load("tiny"))
    >>> inputs.sense, inputs.n_pairs > 0
    ('max', True)
    """
    st = settings or scenario.settings.optimizer
    for acc_id, rep_id in st.locks.items():
        if acc_id not in scenario.accounts.index or rep_id not in scenario.reps.index:
            raise AllocationError(f"lock {acc_id} -> {rep_id} names an unknown account or rep",
                                  "use account_id and rep_id values of the scenario in [optimizer] locks")
    cand = candidate_pairs(scenario, st)
    pairs = cand.pairs
    acc = pairs["account"].to_numpy()
    moved = pairs["moved"].to_numpy(dtype=float)
    pot = cand.potential
    value = pairs["value"].to_numpy(dtype=float)
    travel = pairs["travel_km"].to_numpy(dtype=float)
    disruption = st.disruption_weight * pot[acc] * moved
    if st.objective == "value":
        coef = value - st.travel_weight * travel - disruption
        sense: Literal["max", "min"] = "max"
    else:
        coef = -(value + st.travel_weight * travel + disruption)
        sense = "min"
    if st.allow_uncovered:
        uncovered = -(st.uncovered_penalty * pot + st.disruption_weight * pot * cand.has_current)
    else:
        uncovered = np.zeros(len(cand.account_ids))
    bands = tuple(_band(scenario, cand, b.attribute, b.min, b.max, b.relative, b.scope) for b in st.balance)
    today_value = float(pot[cand.has_current].sum())
    max_value = None if st.max_moved_share is None else st.max_moved_share * today_value
    return AllocationInputs(candidates=cand, settings=st, coef=coef, uncovered_coef=uncovered, bands=bands,
                            max_moves=None if st.max_moves is None else float(st.max_moves),
                            max_moved_value=max_value, sense=sense)


@dataclass(eq=False)
class AllocationModel:
    """A built PuLP problem with its variables and rows (pair positions refer to ``inputs.candidates.pairs``)."""

    inputs: AllocationInputs
    problem: pulp.LpProblem
    pair_index: NDArray[np.int64]
    x: list[pulp.LpVariable]
    uncovered: dict[int, pulp.LpVariable]
    capacity_rows: dict[int, pulp.LpConstraint]
    band_rows: list[dict[int, tuple[pulp.LpConstraint | None, pulp.LpConstraint | None]]]
    relaxed: bool
    slacks: list[pulp.LpVariable]


def build(inputs: AllocationInputs, *, relax: bool = False, pair_index: NDArray[np.int64] | None = None,
          fixed: NDArray[np.bool_] | None = None, fixed_uncovered: NDArray[np.bool_] | None = None,
          elastic: bool = False) -> AllocationModel:
    """Build the PuLP problem.

    Parameters
    ----------
    inputs
        From ``prepare``.
    relax
        Continuous :math:`0 \\le x \\le 1` (the LP relaxation) instead of binaries.
    pair_index
        Candidate pairs to model (default all); accounts with no modelled pair are left out.
    fixed
        Per modelled pair: fix to 1 (relax-and-fix). Pairs of other accounts must not be in ``pair_index``.
    fixed_uncovered
        Per account: fix the account as uncovered.
    elastic
        Give capacity, band and disruption rows a penalised slack (``slack_<row>`` variables), so that a
        restricted set of pairs always has a solution; used to start column generation.

    Examples
    --------
    >>> import scenarios
    >>> m = build(prepare(scenarios.load("tiny")))
    >>> len(m.x) == m.inputs.n_pairs
    True
    """
    cand = inputs.candidates
    st = inputs.settings
    n_acc, n_rep = len(cand.account_ids), len(cand.rep_ids)
    idx = np.arange(inputs.n_pairs, dtype=np.int64) if pair_index is None else np.asarray(pair_index, dtype=np.int64)
    pairs = cand.pairs
    rep = pairs["rep"].to_numpy()[idx]
    acc = pairs["account"].to_numpy()[idx]
    prob = pulp.LpProblem("allocation", pulp.LpMaximize)
    cat = pulp.LpContinuous if relax else pulp.LpBinary
    x = [prob.add_variable(f"x_{i}", lowBound=0.0, upBound=1.0, cat=cat) for i in idx.tolist()]
    accounts = np.unique(acc) if pair_index is not None else np.arange(n_acc, dtype=np.int64)
    if fixed_uncovered is not None:
        accounts = np.union1d(accounts, np.flatnonzero(fixed_uncovered))
    uncovered: dict[int, pulp.LpVariable] = {}
    if st.allow_uncovered:
        for a in accounts.tolist():
            lb = 1.0 if fixed_uncovered is not None and fixed_uncovered[a] else 0.0
            uncovered[a] = prob.add_variable(f"u_{a}", lowBound=lb, upBound=1.0, cat=pulp.LpContinuous)
    local = np.arange(idx.size, dtype=np.int64)
    by_account = [np.empty(0, dtype=np.int64)] * n_acc
    for a, g in zip(accounts.tolist(), _split(acc, accounts, local), strict=True):
        by_account[a] = g
    by_rep = groups(rep.astype(np.int64), n_rep)
    add_cover(prob, x, by_account, uncovered if st.allow_uncovered else None, accounts)
    hours = pairs["hours"].to_numpy(dtype=float)[idx]
    slacks: list[tuple[pulp.LpVariable, float]] | None = [] if elastic else None
    # A slack unit must cost more than any pair could earn with it: the largest coefficient per smallest use.
    top = 10.0 * max(float(np.abs(inputs.coef).max(initial=0.0)), 1.0)

    def per_unit(values: NDArray[np.float64]) -> float:
        pos = np.abs(values[values != 0])
        return top / float(pos.min()) if pos.size else top

    capacity_rows = add_capacity(prob, x, by_rep, hours, cand.capacity, slacks, per_unit(pairs["hours"].to_numpy()))
    band_rows = [add_balance(prob, x, by_rep, band.weight[idx], band.low, band.high, str(k), slacks,
                             per_unit(band.weight)) for k, band in enumerate(inputs.bands)]
    locked = pairs["locked"].to_numpy(dtype=bool)[idx]
    if fixed is not None:
        locked = locked | fixed
    add_locks(x, locked)
    add_disruption_budget(prob, x, pairs["moved"].to_numpy(dtype=bool)[idx], cand.potential[acc],
                          uncovered if st.allow_uncovered else None, cand.potential, cand.has_current,
                          inputs.max_moves, inputs.max_moved_value, slacks, top, per_unit(cand.potential))
    coef = inputs.coef[idx]
    terms = [(v, c) for v, c in zip(x, coef.tolist(), strict=True) if c != 0.0]
    terms += [(v, float(inputs.uncovered_coef[a])) for a, v in uncovered.items() if inputs.uncovered_coef[a] != 0.0]
    terms += [(v, -p) for v, p in (slacks or [])]
    prob.setObjective(pulp.LpAffineExpression(terms))
    return AllocationModel(inputs=inputs, problem=prob, pair_index=idx, x=x, uncovered=uncovered,
                           capacity_rows=capacity_rows, band_rows=band_rows, relaxed=relax,
                           slacks=[v for v, _ in slacks or []])


def _split(keys: NDArray[np.int64], wanted: NDArray[np.int64], local: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """Local positions of ``keys`` per value in ``wanted`` (sorted unique)."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    lo = np.searchsorted(sk, wanted, side="left")
    hi = np.searchsorted(sk, wanted, side="right")
    return [local[order[a:b]] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]

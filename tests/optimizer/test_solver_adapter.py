"""The solver adapter reads every backend's outcome back as our ``Status``: proven optima, infeasibility (CBC
proves it through the problem status alone), a MIP's proven bound in the problem's own sense, and a solver
failure as an ``error`` run rather than an exception."""

from __future__ import annotations

import pulp
import pytest

from optimizer import SOLVERS, SolverError, Status
from optimizer.solvers import CBC, HiGHS, run, status_of


def _knapsack(sense: int = pulp.LpMaximize) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """max 5a + 4b + 3c with 2a + 3b + c <= 5, binaries: optimum 9 (a and b), LP relaxation 10.67 (b at 2/3)."""
    prob = pulp.LpProblem("knapsack", sense)
    xs = [prob.add_variable(n, cat=pulp.LpBinary) for n in "abc"]
    sign = 1.0 if sense == pulp.LpMaximize else -1.0
    prob.setObjective(pulp.LpAffineExpression([(v, sign * c) for v, c in zip(xs, (5.0, 4.0, 3.0), strict=True)]))
    prob += (pulp.LpAffineExpression(list(zip(xs, (2.0, 3.0, 1.0), strict=True))) <= 5.0, "room")
    return prob, xs


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_mip_solved_to_optimality_is_optimal(solver: str) -> None:
    prob, xs = _knapsack()
    out = run(prob, solver, 30.0)
    assert out.status is Status.OPTIMAL
    assert [v.value() for v in xs] == [1.0, 1.0, 0.0]
    assert out.seconds >= 0.0


@pytest.mark.parametrize("sense", [pulp.LpMaximize, pulp.LpMinimize])
def test_highs_bound_is_in_the_problems_own_sense(sense: int) -> None:
    prob, _ = _knapsack(sense)
    out = run(prob, "highs", 30.0)
    assert out.bound == pytest.approx(9.0 if sense == pulp.LpMaximize else -9.0, abs=1e-6)


def test_cbc_gives_no_bound_and_an_lp_has_none_either() -> None:
    prob, _ = _knapsack()
    out = run(prob, "cbc", 30.0)
    assert out.status is Status.OPTIMAL and out.bound != out.bound  # NaN
    relaxed, _ = _knapsack()
    out = run(relaxed, "highs", 30.0, mip=False)
    assert out.status is Status.OPTIMAL and out.bound != out.bound
    assert pulp.value(relaxed.objective) == pytest.approx(5.0 + 3.0 + 4.0 * 2.0 / 3.0, abs=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_infeasible_model_is_infeasible(solver: str) -> None:
    prob = pulp.LpProblem("clash", pulp.LpMinimize)
    v = prob.add_variable("v", lowBound=0.0)
    prob.setObjective(pulp.LpAffineExpression([(v, 1.0)]))
    prob += (pulp.LpAffineExpression([(v, 1.0)]) <= -1.0, "below_zero")
    assert run(prob, solver, 30.0).status is Status.INFEASIBLE


def test_a_solver_failure_is_an_error_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: pulp.LpProblem, solver: object = None, **kwargs: object) -> int:
        raise pulp.PulpSolverError("solver crashed")

    prob, _ = _knapsack()
    monkeypatch.setattr(pulp.LpProblem, "solve", broken)
    assert run(prob, "highs", 30.0).status is Status.ERROR


def test_pulp_solution_states_map_onto_our_words() -> None:
    prob, _ = _knapsack()
    cases = [((pulp.LpStatusOptimal, pulp.LpSolutionOptimal), Status.OPTIMAL),
             ((pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible), Status.FEASIBLE),
             ((pulp.LpStatusInfeasible, pulp.LpSolutionNoSolutionFound), Status.INFEASIBLE),
             ((pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible), Status.INFEASIBLE),
             ((pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded), Status.ERROR),
             ((pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound), Status.NO_SOLUTION)]
    for (status, sol), want in cases:
        prob.status, prob.sol_status = status, sol
        assert status_of(prob) is want, (status, sol)


def test_backends_get_at_least_half_a_second_and_unknown_names_are_refused() -> None:
    assert HiGHS(0.0).time_limit == 0.5 and CBC(7.0).time_limit == 7.0
    with pytest.raises(SolverError, match="unknown solver 'gurobi'"):
        run(_knapsack()[0], "gurobi", 10.0)

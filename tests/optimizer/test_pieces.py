"""Large allocations piece by piece: pieces follow eligibility, the whole-model bound is proven (and equals the LP
bound at the LP's duals), the plan passes the independent check, every executor gives the same plan to the last
digit, and the deadline holds on a model too large to finish."""

from __future__ import annotations

import concurrent.futures as cf
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optimizer.allocation as allocation
import scenarios
from optimizer import Deadline, Status, allocate, build, prepare, solve, validate
from optimizer.decomposition import _restrict, _shares, pieces
from optimizer.piece_bound import best_multiplier, split_bound, whole_bound


@pytest.fixture(scope="module")
def regional() -> scenarios.Scenario:
    return scenarios.generate(reps=24, accounts=1200, seed=3, regions=3)


@pytest.fixture
def pieced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Solve piece by piece at any size (the switch is at 200,000 pairs)."""
    monkeypatch.setattr(allocation, "_PIECE_PAIRS", 0)


def test_pieces_are_the_regions(regional: scenarios.Scenario) -> None:
    inputs = prepare(regional)
    parts = pieces(inputs)
    assert len(parts) == 3
    rep_region = regional.reps["region"].to_numpy()
    acc_region = regional.accounts["region"].to_numpy()
    seen = np.concatenate([a for _, a in parts])
    assert np.array_equal(np.sort(seen), np.arange(len(regional.accounts)))
    for reps, accounts in parts:
        assert len(set(rep_region[reps])) == 1
        assert set(acc_region[accounts]) == set(rep_region[reps])


def test_whole_bound_is_the_lp_bound_at_the_lp_duals(regional: scenarios.Scenario) -> None:
    inputs = prepare(regional)
    lp = solve(build(inputs, relax=True))
    assert lp.claim is Status.OPTIMAL
    # The disruption multiplier is chosen afresh, so it must reach the LP optimum from the rep duals alone ...
    rep_duals = {k: v for k, v in lp.row_duals.items() if not k.startswith(("disruption_", "cover_"))}
    assert whole_bound(inputs, rep_duals) == pytest.approx(lp.objective, rel=1e-7)
    # ... and any other rep duals give a valid, larger bound.
    assert whole_bound(inputs, {k: 1.5 * v for k, v in rep_duals.items()}) >= lp.objective * (1 - 1e-9)
    assert whole_bound(inputs, {}) >= lp.objective * (1 - 1e-9)


@settings(max_examples=60, deadline=None)
# Weights are an account's potential (money) or 1 (a move): 0 or at least a millionth, never a subnormal number
# whose break point overflows.
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.one_of(st.just(0.0), st.floats(1e-6, 3))),
                min_size=1, max_size=12),
       st.floats(0, 10))
def test_best_multiplier_minimises_the_piecewise_linear_bound(rows: list[tuple[float, float, float]],
                                                              budget: float) -> None:
    stay, move, weight = (np.array(c, dtype=float) for c in zip(*rows, strict=True))

    def f(lam: float) -> float:
        return lam * budget + float(np.maximum(stay, move - lam * weight).sum())

    lam = best_multiplier(stay, move, weight, budget)
    assert lam >= 0
    grid = np.concatenate([np.linspace(0, 20, 2001), [(m - s) / w for s, m, w in rows if w > 0 and m > s]])
    assert f(lam) <= min(f(g) for g in grid if g >= 0) + 1e-9


@pytest.mark.usefixtures("pieced")
def test_pieced_plan_is_checked_and_its_bound_proven(regional: scenarios.Scenario) -> None:
    st_ = regional.settings.optimizer.model_copy(update={"time_limit_s": 120.0})
    r = allocate(regional, st_, workers=1)
    assert r.ok, r.explanation
    assert r.method.startswith("pieces (3 pieces")
    inputs = prepare(regional, st_)
    assert validate(inputs, inputs.candidates.pairs.index.to_numpy()[:0]).ok is False  # the check can fail ...
    chosen = _chosen(inputs, r)
    assert validate(inputs, chosen).ok  # ... and this plan passes it
    # Cross-check against the whole model's LP: the bound can never be below it, nor the plan above it.
    lp = solve(build(inputs, relax=True))
    assert r.bound >= lp.objective * (1 - 1e-9)
    assert r.objective <= lp.objective * (1 + 1e-9)
    assert r.gap == pytest.approx((r.bound - r.objective) / r.bound)


def _chosen(inputs: object, r: object) -> np.ndarray:
    cand = inputs.candidates  # type: ignore[attr-defined]
    pairs = cand.pairs
    rep_pos = {rid: i for i, rid in enumerate(cand.rep_ids)}
    want = np.array([rep_pos[x] for x in r.assignments["rep_id"]])  # type: ignore[attr-defined]
    key = {(a, p): i for i, (a, p) in enumerate(zip(pairs["account"], pairs["rep"], strict=True))}
    return np.array([key[(a, want[a])] for a in range(len(cand.account_ids))], dtype=np.int64)


# At a 0.5 % target one round of pieces meets the gap (about 3 s a run); at 0.2 % the budget is re-split and a second
# round runs, whose largest piece's MIP takes about 100 s to reach its own target, so that case is slow.
@pytest.mark.usefixtures("pieced")
@pytest.mark.parametrize("mip_gap", [0.005, pytest.param(0.002, marks=pytest.mark.slow)],
                         ids=["one_round", "two_rounds"])
def test_every_executor_gives_the_same_plan(regional: scenarios.Scenario, mip_gap: float) -> None:
    st_ = regional.settings.optimizer.model_copy(update={"time_limit_s": 300.0, "mip_gap": mip_gap})
    here = allocate(regional, st_, workers=1)
    pool = allocate(regional, st_, workers=2)
    with cf.ThreadPoolExecutor(max_workers=2) as threads:
        threaded = allocate(regional, st_, executor=threads)
    results = [pool, threaded]
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False}) as c, \
            distributed.Client(c) as client:
        results.append(allocate(regional, st_, executor=client))
    assert here.method == f"pieces (3 pieces, {1 if mip_gap == 0.005 else 2} rounds)"
    for other in results:
        assert other.assignments.equals(here.assignments)
        assert other.objective == here.objective and other.bound == here.bound
        assert other.reps.equals(here.reps)


@pytest.mark.usefixtures("pieced")
def test_deadline_holds_on_a_model_too_large_to_finish() -> None:
    s = scenarios.generate(reps=200, accounts=20000, seed=1, regions=8)
    limit = 8.0
    start = time.perf_counter()
    r = allocate(s, deadline=Deadline.after(limit), workers=2)
    wall = time.perf_counter() - start
    assert wall <= limit * 1.1 + 10.0
    assert r.status in (Status.FEASIBLE, Status.OPTIMAL, Status.NO_SOLUTION)
    assert r.status is Status.NO_SOLUTION or validate(prepare(s), _chosen(prepare(s), r)).ok


def _local(duals: dict[str, float], reps: np.ndarray) -> dict[str, float]:
    """The whole model's rep-row duals of one piece, renamed to the piece's local rep positions."""
    local = {int(g): i for i, g in enumerate(reps)}
    out = {}
    for name, value in duals.items():
        head, _, pos = name.rpartition("_")
        if head and pos.isdigit() and not name.startswith(("cover_", "disruption_")) and int(pos) in local:
            out[f"{head}_{local[int(pos)]}"] = value
    return out


def test_split_bound_is_valid_tighter_and_exact_at_the_lp_duals(regional: scenarios.Scenario) -> None:
    inputs = prepare(regional)
    assert inputs.max_moved_value is not None and inputs.max_moves is None
    parts = pieces(inputs)
    lp = solve(build(inputs, relax=True))
    assert lp.claim is Status.OPTIMAL
    values, _ = _shares(inputs, parts)
    subs, own, scanned = [], [], []
    for (reps, accounts), v in zip(parts, values, strict=True):
        sub, _ = _restrict(inputs, reps, accounts, None, v)
        subs.append(sub)
        cands = []
        for f in (1.0, 0.6, 1.4):
            piece_lp = solve(build(replace(sub, max_moved_value=float(v or 0.0) * f), relax=True))
            assert piece_lp.claim is Status.OPTIMAL
            cands.append({k: y for k, y in piece_lp.row_duals.items() if not k.startswith("cover_")})
        own.append(cands[:1])
        scanned.append(cands)
    # The pieces' LPs at their own shares carry budget duals that differ from piece to piece ...
    lams = [c[0]["disruption_value"] for c in scanned]
    assert max(lams) - min(lams) > 1e-3 * max(lams)
    assembled = whole_bound(inputs, {f"{head}_{int(reps[int(pos)])}": y
                                     for (reps, _), c in zip(parts, own, strict=True)
                                     for name, y in c[0].items() if not name.startswith("disruption_")
                                     for head, _, pos in [name.rpartition("_")]})
    # ... so one common multiplier over those duals proves less than the LP; every bound stays valid, and the
    # duals read at other budgets let each piece suit the common multiplier better.
    at_own, _ = split_bound(inputs, subs, own)
    at_scan, _ = split_bound(inputs, subs, scanned)
    assert lp.objective * (1 - 1e-9) <= at_scan <= at_own * (1 + 1e-12)
    assert at_own <= assembled * (1 + 1e-9)
    # Here the excess over the LP falls from 113,800 to 23,000 (of 135.6 M).
    assert at_scan - lp.objective < 0.5 * (at_own - lp.objective)
    # At the whole model's own LP duals the bound is the LP value.
    exact, lam = split_bound(inputs, subs, [[_local(lp.row_duals, reps)] for reps, _ in parts],
                              (lp.row_duals["disruption_value"],))
    assert exact == pytest.approx(lp.objective, rel=1e-7)
    assert lam == pytest.approx(lp.row_duals["disruption_value"])

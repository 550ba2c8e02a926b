"""Cross-checks of the allocator's start-up in numpy against straightforward pandas references: ``candidate_pairs``
(the same table to the last digit with locks, exclusions, ``k_nearest``, pair tables and repeated pairs, and
Hypothesis properties of random locks and exclusions on the bundled ``tiny`` scenario), the per-account ranks
of ``initial_columns``, and the shortcuts of ``precheck``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
from optimizer import candidate_pairs, prepare, scenario_from_pairs
from optimizer.diagnosis import _most_within_hours, _surely_reached
from optimizer.pairs import _derived, _eligible
from optimizer.pricing import _first_in_account, initial_columns
from scenarios import OptimizerSettings


def _figures(s: scenarios.Scenario, rep: np.ndarray, acc: np.ndarray) -> pd.DataFrame:
    """Value and hours as candidate_pairs derives them, travel from great_circle_km on the gathered points."""
    value, hours, _ = _derived(s, rep, acc)
    travel = scenarios.great_circle_km(s.reps["latitude"].to_numpy()[rep], s.reps["longitude"].to_numpy()[rep],
                                       s.accounts["latitude"].to_numpy()[acc], s.accounts["longitude"].to_numpy()[acc])
    return pd.DataFrame({"value": value, "hours": hours, "travel_km": travel})


def _reference(s: scenarios.Scenario, opt: OptimizerSettings) -> pd.DataFrame:
    """The candidate table built row by row in pandas: listed pairs (the pair table, else the rules and then the
    locks), the first of repeated pairs, exclusions out, the k nearest by pandas' rank, sorted by account, rep."""
    rep_index, acc_index = pd.Index(s.reps.index), pd.Index(s.accounts.index)
    current = rep_index.get_indexer(s.accounts["current_rep_id"].to_numpy(dtype=object))
    lock_acc = acc_index.get_indexer(list(opt.locks))
    lock_rep = rep_index.get_indexer(list(opt.locks.values()))
    if s.rep_accounts is not None:
        ra = s.rep_accounts
        rep = rep_index.get_indexer(ra.index.get_level_values("rep_id"))
        acc = acc_index.get_indexer(ra.index.get_level_values("account_id"))
        frame = _figures(s, rep, acc)
        for col in ("value", "hours", "travel_km"):
            if col in ra.columns:
                listed = ra[col].to_numpy(dtype=float)
                frame[col] = np.where(np.isnan(listed), frame[col].to_numpy(), listed)
    else:
        rep, acc = _eligible(s, opt)
        rep, acc = np.r_[rep, lock_rep], np.r_[acc, lock_acc]
        frame = _figures(s, rep, acc)
    frame.insert(0, "rep", rep.astype(np.int64))
    frame.insert(1, "account", acc.astype(np.int64))
    frame = frame.drop_duplicates(["account", "rep"])
    pair = list(zip(frame["account"], frame["rep"], strict=True))
    excluded = {(acc_index.get_loc(a), rep_index.get_loc(r)) for a, rs in opt.exclusions.items() for r in rs}
    frame = frame[np.array([p not in excluded for p in pair], dtype=bool)]
    locked = set(zip(lock_acc.tolist(), lock_rep.tolist(), strict=True))
    frame["locked"] = np.array([p in locked for p in zip(frame["account"], frame["rep"], strict=True)], dtype=bool)
    if opt.k_nearest > 0 and s.rep_accounts is None:
        rank = frame.groupby("account")["travel_km"].rank(method="first")
        today = current[frame["account"].to_numpy()]
        frame = frame[(rank <= opt.k_nearest) | frame["locked"] | (frame["rep"] == today)]
    frame = frame.sort_values(["account", "rep"], kind="stable").reset_index(drop=True)
    today = current[frame["account"].to_numpy()]
    frame["moved"] = (today >= 0) & (frame["rep"].to_numpy() != today)
    return frame


def _same(s: scenarios.Scenario, opt: OptimizerSettings) -> pd.DataFrame:
    got = candidate_pairs(s, opt).pairs
    want = _reference(s, opt)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    for col in want.columns:
        assert np.array_equal(got[col].to_numpy(), want[col].to_numpy()), col
    return got


def _locks_and_exclusions(s: scenarios.Scenario, seed: int, n: int
                          ) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Random locks (some on pairs the rules allow anyway, so they are listed twice) and exclusions (some on
    locked pairs, which the exclusion removes)."""
    rng = np.random.default_rng(seed)
    accs, reps = list(s.accounts.index), list(s.reps.index)
    locks = {accs[i]: reps[int(rng.integers(len(reps)))] for i in rng.choice(len(accs), n, replace=False)}
    for a in list(locks)[: n // 3]:
        same = s.reps.index[s.reps["region"] == s.accounts.loc[a, "region"]]
        locks[a] = str(same[0])
    exclusions = {accs[i]: [reps[j] for j in rng.choice(len(reps), 3, replace=False)]
                  for i in rng.choice(len(accs), n, replace=False)}
    for a, r in list(locks.items())[-2:]:
        exclusions.setdefault(a, []).append(r)
    return locks, exclusions


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("variant", ["rules", "locks", "exclusions", "both", "k_nearest", "k_nearest_locks",
                                     "anywhere", "tiers"])
def test_generated_scenarios_match_the_reference(seed: int, variant: str) -> None:
    s = scenarios.generate(reps=24, accounts=900, seed=seed, regions=3)
    locks, exclusions = _locks_and_exclusions(s, seed, 12)
    update = {"rules": {}, "locks": {"locks": locks}, "exclusions": {"exclusions": exclusions},
              "both": {"locks": locks, "exclusions": exclusions}, "k_nearest": {"k_nearest": 2},
              "k_nearest_locks": {"k_nearest": 3, "locks": locks, "exclusions": exclusions},
              "anywhere": {"same_region": False, "k_nearest": 5, "locks": locks},
              "tiers": {"eligible_tiers": {"A": ["senior"], "B": ["mid", "senior"]}, "locks": locks}}[variant]
    got = _same(s, s.settings.optimizer.model_copy(update=update))
    assert len(got) > 0


def test_tied_travel_ranks_by_listing_order() -> None:
    # Reps at one place tie on travel for every account: k_nearest keeps the first listed, a lock listed last.
    s = scenarios.generate(reps=12, accounts=300, seed=4, regions=2)
    s = s.replace(reps=s.reps.assign(latitude=50.0, longitude=8.0))
    locks, _ = _locks_and_exclusions(s, 4, 9)
    _same(s, s.settings.optimizer.model_copy(update={"k_nearest": 2, "same_region": False, "locks": locks}))


def test_pair_table_with_repeated_and_blank_rows_matches_the_reference() -> None:
    rng = np.random.default_rng(7)
    reps, accs = [f"r{i}" for i in range(6)], [f"a{j}" for j in range(40)]
    rr, aa = np.nonzero(rng.random((6, 40)) < 0.6)
    pairs = pd.DataFrame({"rep_id": [reps[i] for i in rr], "account_id": [accs[j] for j in aa],
                          "value": rng.uniform(1, 9, rr.size), "hours": rng.uniform(1, 5, rr.size)})
    s = scenario_from_pairs(pairs.sample(frac=1.0, random_state=3), {r: 500.0 for r in reps},
                            current={a: reps[j % 6] for j, a in enumerate(accs)}, account_order=accs)
    ra = s.rep_accounts
    assert ra is not None
    # Repeated pairs with other figures (the first row counts) and blank figures (derived ones fill them).
    again = ra.iloc[::4].assign(value=-1.0)
    blank = ra.copy()
    blank.iloc[::5, blank.columns.get_loc("hours")] = np.nan
    s2 = s.replace(rep_accounts=pd.concat([blank, again]))
    locks = {accs[0]: str(ra.index[0][0])}
    got = _same(s2, s2.settings.optimizer.model_copy(update={"locks": locks, "exclusions": {accs[1]: reps[:3]}}))
    assert not (got["value"] == -1.0).any()


def test_empty_candidate_table(tiny: scenarios.Scenario) -> None:
    opt = tiny.settings.optimizer.model_copy(update={"eligible_tiers": {t: [] for t in ("A", "B", "C")}})
    got = _same(tiny, opt)
    assert got.empty


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_locks_and_exclusions_on_tiny(tiny: scenarios.Scenario, data: st.DataObject) -> None:
    accs, reps = list(tiny.accounts.index), list(tiny.reps.index)
    locks = data.draw(st.dictionaries(st.sampled_from(accs), st.sampled_from(reps), max_size=8))
    exclusions = data.draw(st.dictionaries(st.sampled_from(accs), st.lists(st.sampled_from(reps), max_size=3),
                                           max_size=8))
    k = data.draw(st.sampled_from([0, 1, 2]))
    opt = tiny.settings.optimizer.model_copy(update={"locks": locks, "exclusions": exclusions, "k_nearest": k})
    pairs = _same(tiny, opt)
    acc_ids, rep_ids = tiny.accounts.index.to_numpy(), tiny.reps.index.to_numpy()
    listed = set(zip(acc_ids[pairs["account"]], rep_ids[pairs["rep"]], strict=True))
    excluded = {(a, r) for a, rs in exclusions.items() for r in rs}
    assert not listed & excluded
    assert {(a, r) for a, r in locks.items() if (a, r) not in excluded} <= listed
    locked = set(zip(acc_ids[pairs["account"][pairs["locked"]]], rep_ids[pairs["rep"][pairs["locked"]]],
                     strict=True))
    assert locked == set(locks.items()) - excluded
    key = pairs["account"].to_numpy() * len(rep_ids) + pairs["rep"].to_numpy()
    assert (np.diff(key) > 0).all(), "sorted by account, then rep, with no pair twice"


def _first_by_pandas(acc: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    frame = pd.DataFrame({"account": acc, "v": values})
    return np.asarray(frame.sort_values("v", kind="stable").groupby("account").cumcount().sort_index() < k)


@settings(max_examples=200, deadline=None)
@given(acc=st.lists(st.integers(0, 6), max_size=60), data=st.data(), k=st.integers(0, 4),
       sort=st.booleans())
def test_first_in_account_ranks_as_a_stable_sort(acc: list[int], data: st.DataObject, k: int, sort: bool) -> None:
    # Few distinct values, so ties, NaN, infinities and both zeros are common.
    pool = st.sampled_from([0.0, -0.0, 1.5, -2.0, 3.0, np.inf, -np.inf, np.nan])
    values = np.array(data.draw(st.lists(pool, min_size=len(acc), max_size=len(acc))), dtype=float)
    a = np.array(sorted(acc) if sort else acc, dtype=np.int64)
    assert np.array_equal(_first_in_account(a, values, k), _first_by_pandas(a, values, k))


@pytest.mark.parametrize("locks", [False, True])
def test_initial_columns_match_pandas_ranks(locks: bool) -> None:
    s = scenarios.generate(reps=24, accounts=900, seed=5, regions=3)
    opt = s.settings.optimizer.model_copy(update={"locks": _locks_and_exclusions(s, 5, 12)[0] if locks else {}})
    inputs = prepare(s, opt)
    pairs = inputs.candidates.pairs
    acc = pairs["account"].to_numpy()
    by_value = _first_by_pandas(acc, -inputs.coef, 2)
    by_km = _first_by_pandas(acc, pairs["travel_km"].to_numpy(), 3)
    today = inputs.candidates.current[acc] == pairs["rep"].to_numpy()
    want = np.flatnonzero(by_value | by_km | today | pairs["locked"].to_numpy())
    assert np.array_equal(initial_columns(inputs), want)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n_rep=st.integers(1, 4), budget=st.lists(
    st.sampled_from([0.0, -1.0, 0.5, 3.0, 10.0, np.inf]), min_size=4, max_size=4))
def test_surely_reached_floors_are_reached_by_the_greedy_fill(data: st.DataObject, n_rep: int,
                                                               budget: list[float]) -> None:
    n = data.draw(st.integers(0, 30))
    rep = np.array(data.draw(st.lists(st.integers(0, n_rep - 1), min_size=n, max_size=n)), dtype=np.int64)
    figures = st.lists(st.sampled_from([0.0, -1.0, 0.25, 1.0, 2.5, 7.0, np.nan]), min_size=n, max_size=n)
    weight = np.nan_to_num(np.array(data.draw(figures), dtype=float))  # as Band.weight is
    hours = np.array(data.draw(figures), dtype=float)
    low = np.array(data.draw(st.lists(st.floats(0.0, 20.0), min_size=n_rep, max_size=n_rep)))
    caps = np.array(budget[:n_rep])
    sure = _surely_reached(rep, weight, hours, caps, low)
    for r in np.flatnonzero(sure).tolist():
        assert low[r] <= _most_within_hours(weight[rep == r], hours[rep == r], float(caps[r]))


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)), max_size=600))
def test_nansum_adds_as_pandas_sum(values: list[float]) -> None:
    # precheck's region totals were pandas sums of per-account figures; its messages must not change.
    x = np.array(values, dtype=float)
    assert float(np.nansum(x)) == float(pd.Series(x).sum())

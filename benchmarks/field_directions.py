"""Measure the field-study directions that are effect sizes rather than pass/fail: year-end bunching of
bookings under an annual lump sum (and under the accelerator plan, Larkin's 2014 setting) versus flat commission,
and the lift of low performers under quarterly versus annual lump sums. Every plan runs on the same customers
(common random numbers); intervals are paired 95 % t.

Usage: python benchmarks/field_directions.py [--replications 16] [--root 1] [--quotas fair|default]
                                             [--bonus-only] [--no-timing-games] [--push-risk P] [--set PATH=VALUE]

``--quotas fair`` (default) takes quotas from the quota optimizer (``optimizer.set_quotas``, the demo's quotas);
``default`` uses the simulator's own rule (target by share of expected sales, the skill model). ``--bonus-only``
turns the bundled ``annual_bonus`` / ``quarterly_bonus`` into plans paying the whole variable pay as the lump sum
(no commission, 100 % / 25 % of base at full attainment), as in ``tests/sim/test_incentive_behaviour_effects.py``.
Low performers are the bottom third of an independent flat-commission pilot (6 replications, another seed).
Timing games are on by default (``[behaviour] timing_games``: reps pull committed deals of willing customers
into a month at ``pull_in_discount`` (customers in ``customer_pull_share``) and push signatures (customers in
``customer_push_share``) to the next month when their plan pays more for it);
``--no-timing-games`` turns them off. The script reports how many deals moved, the pull-in discounts as a share of
revenue (Larkin 2014 reports 6-8 % of revenue lost to such mispricing), the share of bookings in the last month of
each quarter under every plan minus flat commission's, and flat commission with games on minus off.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

import optimizer
import scenarios
import sim
from sim.incentives import IncentiveBehaviour

BONUS_ONLY = {"pay_plans.annual_bonus.commission_rate": 0.0,
              "pay_plans.annual_bonus.bonuses.0.steps.0.share_of_base": 1.0,
              "pay_plans.quarterly_bonus.commission_rate": 0.0,
              "pay_plans.quarterly_bonus.bonuses.0.steps.0.share_of_base": 0.25}


def _runs(s: scenarios.Scenario, model: sim.Model, plan: str, root: int, n: int) -> list[sim.RunRecord]:
    behaviour = IncentiveBehaviour.from_model(model, [plan] * model.n_seats)
    pay = sim.PayPlanPay.from_model(model, [plan] * model.n_seats)
    return [sim.run_replication(model, seed, behaviour, pay)[1] for seed in np.random.SeedSequence(root).spawn(n)]


def _bookings(s: scenarios.Scenario, model: sim.Model, plan: str, root: int, n: int) -> list[np.ndarray]:
    return [np.asarray(r.bookings) for r in _runs(s, model, plan, root, n)]


def _ci(d: list[float]) -> str:
    x = np.asarray(d, dtype=float)
    half = float(stats.t.ppf(0.975, len(x) - 1)) * float(x.std(ddof=1)) / np.sqrt(len(x))
    return f"{x.mean():+.4f}  (95 % CI {x.mean() - half:+.4f} to {x.mean() + half:+.4f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replications", type=int, default=16)
    ap.add_argument("--root", type=int, default=1)
    ap.add_argument("--quotas", choices=("fair", "default"), default="fair")
    ap.add_argument("--bonus-only", action="store_true")
    ap.add_argument("--no-timing-games", action="store_true")
    ap.add_argument("--push-risk", type=float, default=None, help="[behaviour] push_risk (default: the scenario's)")
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                    help="any scenarios.modify change, e.g. behaviour.closing_share=0.9 (repeatable)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    s = scenarios.load("baseline")
    if a.bonus_only:
        s = scenarios.modify(s, BONUS_ONLY)
    if a.no_timing_games:
        s = scenarios.modify(s, {"behaviour.timing_games": False})
    if a.push_risk is not None:
        s = scenarios.modify(s, {"behaviour.push_risk": a.push_risk})
    for change in a.set:
        path, _, value = change.partition("=")
        s = scenarios.modify(s, {path: float(value)})
    if a.quotas == "fair":
        today = scenarios.Plan.current(s)
        plan = scenarios.Plan(assignment=today.assignment, quotas=optimizer.set_quotas(s, today.assignment).quotas)
        model = sim.build(s, plan)
    else:
        model = sim.build(s)
    quota = model.quotas.sum(axis=1)
    pilot = np.mean([b.sum(axis=1) for b in _bookings(s, model, "flat_commission", 999, 6)], axis=0) / quota
    low = pilot <= np.quantile(pilot, 1.0 / 3.0)
    runs = {p: _runs(s, model, p, a.root, a.replications)
            for p in ("flat_commission", "annual_bonus", "quarterly_bonus", "tiered_accelerator")}
    flat, annual, quarterly = ([np.asarray(r.bookings) for r in runs[p]]
                               for p in ("flat_commission", "annual_bonus", "quarterly_bonus"))
    b = s.settings.behaviour
    print(f"baseline, quotas {a.quotas}, bonus-only {a.bonus_only}, timing games {b.timing_games} "
          f"(push_risk {b.push_risk if b.push_risk is not None else 'from the funnel'}, customer pull / push "
          f"shares {b.customer_pull_share} / {b.customer_push_share}), changes {a.set}, "
          f"{a.replications} replications, root {a.root}")
    for p, rs in runs.items():
        print(f"{p}: deals pulled in {np.mean([r.pulled.sum() for r in rs]):.1f}, pushed out "
              f"{np.mean([r.pushed.sum() for r in rs]):.1f} per replication; discounts "
              f"{np.mean([r.pull_discount.sum() for r in rs]):,.0f} "
              f"({np.mean([r.pull_discount.sum() / np.sum(r.bookings) for r in rs]):.2%} of revenue)")
    print(f"attainment P10/P50/P90 under flat commission: {np.round(np.percentile(pilot, [10, 50, 90]), 2)}")
    dec = [float(x[:, 11].sum() / x.sum() - f[:, 11].sum() / f.sum()) for x, f in zip(annual, flat, strict=True)]
    q4 = [float(x[:, 9:].sum() / x.sum() - f[:, 9:].sum() / f.sum()) for x, f in zip(annual, flat, strict=True)]
    lift = [float((q.sum(axis=1) / quota)[low].mean() - (x.sum(axis=1) / quota)[low].mean())
            for q, x in zip(quarterly, annual, strict=True)]
    print(f"December share of the year, annual_bonus - flat_commission: {_ci(dec)}")
    print(f"Q4 share of the year,       annual_bonus - flat_commission: {_ci(q4)}")
    accel = [np.asarray(r.bookings) for r in runs["tiered_accelerator"]]
    dec_acc = [float(x[:, 11].sum() / x.sum() - f[:, 11].sum() / f.sum()) for x, f in zip(accel, flat, strict=True)]
    print(f"December share of the year, tiered_accelerator - flat_commission: {_ci(dec_acc)}")
    print(f"low performers' attainment, quarterly_bonus - annual_bonus: {_ci(lift)}")
    ends = np.zeros(12, dtype=bool)
    ends[[2, 5, 8, 11]] = True
    for p in ("annual_bonus", "quarterly_bonus", "tiered_accelerator"):
        xs = [np.asarray(r.bookings) for r in runs[p]]
        d = [float(x[:, ends].sum() / x.sum() - f[:, ends].sum() / f.sum()) for x, f in zip(xs, flat, strict=True)]
        print(f"quarter-end months' share, {p} - flat_commission: {_ci(d)}")
    if s.settings.behaviour.timing_games:
        off = scenarios.modify(s, {"behaviour.timing_games": False})
        off_model = sim.build(off, model.plan)
        plain = [np.asarray(r.bookings) for r in _runs(off, off_model, "flat_commission", a.root, a.replications)]
        d = [float(x[:, 11].sum() / x.sum() - f[:, 11].sum() / f.sum()) for x, f in zip(flat, plain, strict=True)]
        print(f"December share, flat_commission with timing games - without: {_ci(d)}")
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

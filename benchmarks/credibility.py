"""Measure whether the simulator and the skill model agree with what an account can buy: simulated revenue over
total potential (and the largest account's revenue over its own potential), expected sales over potential, and
each tier's median attainment under the quota optimizer's quotas, on every bundled scenario.

Usage: python benchmarks/credibility.py [SCENARIO ...] [--replications 8] [--seed 1] [--allocate]
                                        [--quotas fair|default] [--behaviour plan|norm] [--set PATH=VALUE]

``--quotas fair`` (default) takes quotas from ``optimizer.set_quotas`` with the scenario's method (the demo's
quotas); ``default`` uses the simulator's own rule. ``--allocate`` runs the account allocator first (as the demo
does; slower), otherwise today's assignment is used. ``--behaviour plan`` (default) runs every rep on
``flat_commission`` with the plan-aware behaviour the comparison uses; ``norm`` runs the norm behaviour.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import optimizer
import scenarios
import sim
from scenarios.skill import expected_sales, horizon_weights
from sim.incentives import IncentiveBehaviour


def measure(name: str, *, replications: int, seed: int, allocate: bool, quotas: str, behaviour: str,
            changes: dict[str, float | str]) -> None:
    s = scenarios.load(name)
    if changes:
        s = scenarios.modify(s, changes)
    t0 = time.perf_counter()
    assignment = scenarios.Plan.current(s).assignment
    if allocate:
        assignment = optimizer.allocate(s).plan().assignment
    if quotas == "fair":
        plan = scenarios.Plan(assignment=assignment, quotas=optimizer.set_quotas(s, assignment).quotas,
                              source="credibility")
    else:
        plan = scenarios.Plan(assignment=assignment, source="credibility")
    model = sim.build(s, plan)
    potential = s.accounts["annual_potential"].to_numpy(float)
    _, _, share_of_year = horizon_weights(s)
    horizon_potential = potential * share_of_year
    e = expected_sales(s, assignment)
    beh: sim.Behaviour = (IncentiveBehaviour.from_model(model, ["flat_commission"] * model.n_seats)
                          if behaviour == "plan" else sim.NormBehaviour())
    pay = (sim.PayPlanPay.from_model(model, ["flat_commission"] * model.n_seats) if behaviour == "plan"
           else sim.commission_pay)
    revenue, worst, attain, cut = [], [], [], []
    for child in np.random.SeedSequence(seed).spawn(replications):
        _, rec = sim.run_replication(model, child, beh, pay)
        cut.append(float(rec.potential_cut.sum()))
        acc_rev = rec.account_bookings
        revenue.append(float(rec.bookings.sum()))
        with np.errstate(divide="ignore", invalid="ignore"):
            worst.append(float(np.nanmax(np.where(horizon_potential > 0, acc_rev / horizon_potential, np.nan))))
        q = rec.quotas.sum(axis=1)
        attain.append(np.where(q > 0, rec.bookings.sum(axis=1) / np.where(q > 0, q, 1.0), np.nan))
    att = pd.DataFrame({"tier": np.tile(s.reps["tier"].to_numpy(), replications),
                        "attainment": np.concatenate(attain)})
    total = float(horizon_potential.sum())
    print(f"{name}: {len(s.reps)} reps, {len(s.accounts)} accounts, quotas "
          f"{s.settings.quotas.method if quotas == 'fair' else 'simulator default'}"
          f"{', changes ' + str(changes) if changes else ''}"
          f"{' (allocated)' if allocate else ' (today)'}, behaviour {behaviour}, {replications} replications, "
          f"seed {seed}")
    print(f"  potential over the horizon {total:,.0f}; target x over-assignment "
          f"{s.settings.targets.annual * s.settings.targets.over_assignment * share_of_year:,.0f}")
    print(f"  expected sales (skill model) {e['expected_sales'].sum():,.0f} = "
          f"{e['expected_sales'].sum() / e['potential'].sum():.3f} of assigned potential; largest rep "
          f"{(e['expected_sales'] / e['potential'].where(e['potential'] > 0)).max():.3f}")
    r = np.asarray(revenue)
    print(f"  simulated revenue mean {r.mean():,.0f} = {r.mean() / total:.3f} of potential (max over "
          f"replications {r.max() / total:.3f}); largest account revenue / its potential: max "
          f"{max(worst):.3f}; cut because an account had bought its potential {np.mean(cut) / r.mean():.3f} "
          "of revenue")
    qs = att.groupby("tier")["attainment"].quantile([0.1, 0.5, 0.9]).unstack()
    for tier, row in qs.iterrows():
        print(f"  {tier:<8} attainment P10 {row[0.1]:.2f}  P50 {row[0.5]:.2f}  P90 {row[0.9]:.2f}")
    print(f"  {time.perf_counter() - t0:.1f} s")


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", default=["tiny", "baseline"])
    ap.add_argument("--replications", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--allocate", action="store_true")
    ap.add_argument("--quotas", choices=("fair", "default"), default="fair")
    ap.add_argument("--behaviour", choices=("plan", "norm"), default="plan")
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                    help="a scenarios.modify change, e.g. tiers.junior.attrition_per_year=0 (repeatable)")
    a = ap.parse_args()
    changes = {path: _number(value) for path, _, value in (c.partition("=") for c in a.set)}
    for name in a.scenarios:
        measure(name, replications=a.replications, seed=a.seed, allocate=a.allocate, quotas=a.quotas,
                behaviour=a.behaviour, changes=changes)


if __name__ == "__main__":
    main()

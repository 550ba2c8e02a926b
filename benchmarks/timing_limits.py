"""What limits pull-ins: every question the engine asks a rep about pulling a committed deal into a quarter's last
month, classed by how far the deal is due after the month end and by the rep's attainment of the quarter's quota,
with the rep's answer under the scenario's pull window and the answer the same rep would give with no window.

Usage: python benchmarks/timing_limits.py SCENARIO [--plan quarterly_bonus] [--replications 4] [--seed 1]
                                           [--set PATH=VALUE ...]

Every rep is put on ``--plan``; ``[behaviour] customer_pull_share`` is set to 1 and ``customer_push_share`` to 0,
so that every committed deal is asked about and only pulls move deals (the upper bound of what pulls can do).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter
from typing import Any

import numpy as np

import scenarios
import sim
from sim.incentives import IncentiveBehaviour
from sim.policy import DealView, RepState, Timing


@dataclasses.dataclass
class Counting:
    """An `IncentiveBehaviour` whose pull questions at quarter ends are counted."""

    inner: IncentiveBehaviour
    counts: Counter[tuple[str, str, str, str]] = dataclasses.field(default_factory=Counter)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def timing_games(self) -> bool:
        return self.inner.timing_games

    def timing(self, rep: RepState, deal: DealView, close_month: int, weeks_after_month_end: float,
               push_risk: float) -> Timing:
        answer = self.inner.timing(rep, deal, close_month, weeks_after_month_end, push_risk)
        if close_month > rep.month and rep.month % 3 == 2:
            unlimited = self.inner.timing(rep, deal, close_month, 0.0, push_risk)
            window = "within window" if weeks_after_month_end <= self.inner.incentives[0].behaviour.max_pull_in_weeks \
                else "beyond window"
            att = rep.bookings_quarter / rep.quota_quarter if rep.quota_quarter > 0 else float("inf")
            band = "no quota" if rep.quota_quarter <= 0 else ("< 0.8" if att < 0.8 else
                                                            "0.8-1.0" if att < 1.0 else ">= 1.0")
            self.counts[(window, band, answer, unlimited)] += 1
        return answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("--plan", default="quarterly_bonus")
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    a = ap.parse_args()
    changes: dict[str, object] = {"behaviour.customer_pull_share": 1.0, "behaviour.customer_push_share": 0.0,
                                  "behaviour.timing_games": True}
    for item in a.set:
        path, _, value = item.partition("=")
        changes[path] = json.loads(value)
    s = scenarios.modify(scenarios.load(a.scenario), changes)
    model = sim.build(s)
    plans = [a.plan] * model.n_seats
    behaviour = Counting(IncentiveBehaviour.from_model(model, plans))
    pay = sim.PayPlanPay.from_model(model, plans)
    pulled = wins = 0.0
    for child in np.random.SeedSequence(a.seed).spawn(a.replications):
        _, rec = sim.run_replication(model, child, behaviour, pay)  # type: ignore[arg-type]
        pulled += float(rec.pulled.sum())
        wins += float((np.asarray(rec.status) == sim.deals.WON).sum())
    n = a.replications
    print(f"{a.scenario}, reps on {a.plan}, {n} replications, changes {changes}")
    print(f"pulls a year {pulled / n:.1f}, wins a year {wins / n:.0f}")
    print("pull questions at quarter ends, a year: window | quarter attainment so far | answer | answer with no window")
    for key, c in sorted(behaviour.counts.items()):
        print(f"  {' | '.join(key)}: {c / n:.1f}")


if __name__ == "__main__":
    main()

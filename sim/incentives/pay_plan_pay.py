"""The simulator's pay function under each seat's full pay plan (`PayPlanPay`): commission tiers, quota bonuses,
caps, draws, team bonuses and contests, month by month and causal, through the pay engine of this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from scenarios import PayPlanSettings, Problem, Scenario, ScenarioError
from sim.incentives.components import annual_base, cap_amounts, next_quota, variable_parts
from sim.incentives.team import whole_force_amounts
from sim.model import Model

__all__ = [
    "PayPlanPay",
]


@dataclass(frozen=True)
class PayPlanPay:
    """Pay under each seat's pay plan, through the pay engine (``pay_statement``): commission tiers,
    quota bonuses, caps, draws as the pay plan says, and, when the seats' pay plan ids and regions are given (as
    `from_scenario` does), team / region bonuses and contest prizes over the whole sales force
    (``whole_force_amounts``, the array twin of the ``team_bonuses`` and ``contest_awards`` that
    ``pay_statements`` uses; a team's attainment counts vacant seats' quotas, and a seat empty in the payout
    month is paid nothing). The base salary in force each month, under the pay plan's base rules, is prorated by
    the share of the month the seat was filled.

    Parameters
    ----------
    pay_plans
        The pay plan of each seat, in the order of ``scenario.reps``.
    pay_plan_ids, regions
        Per seat, for team bonuses and contests (empty = both left out).

    Examples
    --------
    >>> import scenarios
    >>> pay = PayPlanPay.from_scenario(scenarios.load("tiny"))
    >>> out = pay(np.full((6, 2), 10_000.0), np.full((6, 2), 8_000.0), np.ones((6, 2)),
    ...           np.full((6, 2), 60_000.0), np.zeros(6))
    >>> out.shape, float(out[0, 0])
    ((6, 2), 5500.0)
    """

    pay_plans: tuple[PayPlanSettings, ...]
    pay_plan_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    _caps: dict[tuple[int, float, bytes], np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        seats = len(self.pay_plans)
        if (self.pay_plan_ids or self.regions) and not (len(self.pay_plan_ids) == len(self.regions) == seats):
            raise ValueError(f"PayPlanPay: pay_plan_ids ({len(self.pay_plan_ids)}) and regions ({len(self.regions)}) "
                             f"need one entry per seat ({seats})")

    @property
    def whole_force(self) -> bool:
        """Some seat's pay plan pays a team bonus or contest prizes, and the seats' pay plan ids and regions are
        known."""
        return bool(self.pay_plan_ids) and any(p.team_bonus is not None or p.contests for p in self.pay_plans)

    def __repr__(self) -> str:
        distinct = len({p.model_dump_json() for p in self.pay_plans})
        return f"PayPlanPay({len(self.pay_plans)} seats on {distinct} distinct pay plan(s))"

    def __getstate__(self) -> dict[str, object]:
        return {"pay_plans": self.pay_plans, "pay_plan_ids": self.pay_plan_ids, "regions": self.regions}

    def __setstate__(self, state: dict[str, object]) -> None:
        for key in ("pay_plans", "pay_plan_ids", "regions"):
            object.__setattr__(self, key, state.get(key, ()))
        object.__setattr__(self, "_caps", {})

    @classmethod
    def from_scenario(cls, scenario: Scenario, pay_plan_id: str | None = None) -> PayPlanPay:
        """Each rep's own pay plan (``reps.pay_plan_id``), or everyone on ``pay_plan_id`` (to compare pay
        plans)."""
        ids = [pay_plan_id] * len(scenario.reps) if pay_plan_id is not None else list(scenario.reps["pay_plan_id"])
        return cls._seats(scenario, ids, list(scenario.reps["region"]))

    @classmethod
    def _seats(cls, scenario: Scenario, pay_plan_ids: Sequence[str], regions: Sequence[str]) -> PayPlanPay:
        """One pay plan id and region per seat, the ids checked against the scenario's pay plans."""
        pay_plans = scenario.settings.pay_plans
        unknown = sorted({p for p in pay_plan_ids if p not in pay_plans})
        if unknown:
            raise ScenarioError(Problem("scenario.toml", f"pay plan(s) {unknown} are not defined",
                                        f"use one of {sorted(pay_plans)}", column="pay_plans"))
        return cls(pay_plans=tuple(pay_plans[p] for p in pay_plan_ids),
                   pay_plan_ids=tuple(str(p) for p in pay_plan_ids), regions=tuple(str(r) for r in regions))

    def ratchet(self, seat: int, quota: float, attainment: float) -> float | None:
        """Next plan year's quota for ``seat`` after a year at ``attainment`` of ``quota`` under its pay plan's
        ratchet (``next_quota``); None when the pay plan has none. The simulator calls it at each plan-year
        end of a horizon longer than a year."""
        pay_plan = self.pay_plans[seat]
        return None if pay_plan.ratchet is None else next_quota(quota, attainment, pay_plan.ratchet)

    @classmethod
    def from_model(cls, model: Model, pay_plan_ids: Sequence[str]) -> PayPlanPay:
        """One pay plan id per seat of an already built ``sim.Model`` (as ``IncentiveBehaviour.from_model``)."""
        if len(pay_plan_ids) != model.n_seats:
            raise ValueError(f"PayPlanPay.from_model: {len(pay_plan_ids)} pay plan ids for {model.n_seats} seats")
        regions = [str(model.region_ids[k]) for k in model.seat_region.tolist()]
        return cls._seats(model.scenario, pay_plan_ids, regions)

    def __call__(self, bookings: np.ndarray, quotas: np.ndarray, active_share: np.ndarray,
                 base_salary: np.ndarray, commission_rate: np.ndarray) -> np.ndarray:
        """Pay per seat and month (see ``PayFunction``); ``commission_rate`` is ignored (the pay plan has its
        own)."""
        del commission_rate
        out = np.empty_like(bookings, dtype=float)
        base_cache: dict[tuple[int, float], float] = {}
        for r, pay_plan in enumerate(self.pay_plans):
            # variable_parts is pay_statement without the frame: the same numbers at a fraction of the cost,
            # which matters because the simulator pays every seat at every month end
            b_r, q_r, salary = np.asarray(bookings[r], dtype=float), np.asarray(quotas[r], dtype=float), \
                float(base_salary[r, 0])
            cap = None
            if pay_plan.cap is not None and pay_plan.cap.amount is None:
                # the cap depends only on the quotas so far, which repeat every replication
                key = (id(pay_plan), salary, q_r.tobytes())
                cap = self._caps.get(key)
                if cap is None or bool((cap <= 0).any()):  # a zero cap is re-checked: it is an error with bookings
                    cap = self._caps[key] = cap_amounts(b_r, q_r, salary, pay_plan)
            parts = variable_parts(b_r, q_r, salary, pay_plan, cap)
            variable = parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
            base_in_force = np.empty(bookings.shape[1])
            for j, b in enumerate(base_salary[r].tolist()):
                bkey = (id(pay_plan), b)
                if bkey not in base_cache:
                    base_cache[bkey] = annual_base(b, pay_plan) / 12.0
                base_in_force[j] = base_cache[bkey]
            out[r] = variable + base_in_force * active_share[r]
        if self.whole_force:
            out += self._whole_force(bookings, quotas, active_share, base_salary)
        return out

    def _whole_force(self, bookings: np.ndarray, quotas: np.ndarray, active_share: np.ndarray,
                     base_salary: np.ndarray) -> np.ndarray:
        """Team / region bonuses and contest prizes per seat and month, over all seats at once."""
        amounts = whole_force_amounts(bookings, quotas, np.asarray(base_salary)[:, -1], self.pay_plans,
                                      self.pay_plan_ids, self.regions)
        paid: np.ndarray = amounts * (np.asarray(active_share) > 0)
        return paid

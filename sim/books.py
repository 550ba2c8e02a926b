"""The sales books of one replication: quotas, bookings and gross margin by seat, region and company, what each
account can still buy, and the pay the run's pay function computes from them.

Quotas start as the plan's; a pay function with a quota ratchet (``sim.pay_function.QuotaRatchet``) rewrites
next year's at each plan-year end. Team quotas and bookings are kept beside the seats' because ``RepState``
holds live views of them (team and region bonuses read them).
"""

from __future__ import annotations

import numpy as np

from sim.model import Model
from sim.pay_function import PayFunction, quota_ratchet
from sim.policy import RepState

__all__ = ["Books"]


class Books:
    """Quotas, bookings, margin, account wallets and pay (state owned here, changed in place).

    Parameters
    ----------
    model
        Arrays of the scenario and plan.
    pay
        The run's pay function.
    """

    def __init__(self, model: Model, pay: PayFunction) -> None:
        m = model
        n_seats, n_months, n_regions = m.n_seats, m.n_months, len(m.region_ids)
        self.m, self.pay_fn = m, pay
        self.quotas = m.quotas.copy()
        self.ratchet = quota_ratchet(pay)
        self.bookings = [[0.0] * n_months for _ in range(n_seats)]
        self.region_bookings = [[0.0] * n_months for _ in range(n_regions)]  # for team bonuses
        self.company_bookings = [0.0] * n_months
        self.margin = [[0.0] * n_months for _ in range(n_seats)]
        self.pay = np.zeros((n_seats, n_months))
        # what each account can still buy in each plan year; a deal beyond it books only the rest
        self.wallet_left: list[list[float]] = m.wallet.tolist()
        self.potential_cut = [0.0] * n_seats
        self.account_bookings = [0.0] * len(m.account_ids)
        self.seat_region: list[int] = m.seat_region.tolist()
        self.region_quotas = np.zeros((n_regions, n_months))
        self.company_quotas = np.zeros(n_months)
        self.team_quotas()

    def rep_states(self) -> list[RepState]:
        """A fresh ``RepState`` per seat, holding live views of this book's bookings and quotas."""
        m = self.m
        seat_tier: list[int] = m.seat_tier.tolist()
        seat_hours: list[float] = m.seat_hours.tolist()
        return [RepState(seat=r, rep_id=m.rep_ids[r], tier=m.tier_ids[seat_tier[r]], norm_hours=seat_hours[r],
                         bookings_by_month=self.bookings[r],
                         region_bookings_by_month=self.region_bookings[self.seat_region[r]],
                         company_bookings_by_month=self.company_bookings, quotas_by_month=self.quotas[r],
                         region_quotas_by_month=self.region_quotas[self.seat_region[r]],
                         company_quotas_by_month=self.company_quotas)
                for r in range(m.n_seats)]

    def book(self, account: int, seat: int, mo: int, value: float, margin: float) -> float:
        """Book a won deal on ``account`` for ``seat`` in month ``mo``; return the value booked (no more than the
        account can still buy in the plan year, the rest recorded as cut)."""
        wallet = self.wallet_left[mo // 12]
        left = wallet[account]
        if value > left:  # the account has bought its potential for the plan year: it buys only what is left
            self.potential_cut[seat] += value - left
            margin = margin * left / value if value > 0 else 0.0
            value = left
        wallet[account] = left - value
        self.account_bookings[account] += value
        self.bookings[seat][mo] += value
        self.region_bookings[self.seat_region[seat]][mo] += value
        self.company_bookings[mo] += value
        self.margin[seat][mo] += margin
        return value

    def month_state(self, state: list[RepState], mo: int) -> None:
        """Start month ``mo`` in the reps' states: its quotas, and bookings of the month (and quarter) at 0."""
        q0 = (mo // 3) * 3
        month = self.quotas[:, mo].tolist()
        quarter = self.quotas[:, q0:q0 + 3].sum(axis=1).tolist()
        horizon = self.quotas.sum(axis=1).tolist()
        for r, st in enumerate(state):
            st.month = mo
            st.bookings_month = 0.0
            if mo == q0:
                st.bookings_quarter = 0.0
            st.quota_month = month[r]
            st.quota_quarter = quarter[r]
            st.quota_horizon = horizon[r]

    def pay_month(self, mo: int, active_share: np.ndarray, base_salary: np.ndarray,
                  state: list[RepState]) -> np.ndarray:
        """Month ``mo`` ends: pay every seat for the months so far (``active_share`` and ``base_salary`` are
        ``seats x months``) and tell each rep its pay to date; return the pay each seat expects for the plan
        year (``expected_pay``)."""
        bookings = np.asarray(self.bookings)[:, :mo + 1]
        pay = self.pay_fn(bookings, self.quotas[:, :mo + 1], active_share, base_salary[:, :mo + 1],
                          self.m.commission_rate)
        self.pay[:, :mo + 1] = pay
        expected = self.expected_pay(bookings, active_share, base_salary)
        to_date = pay.sum(axis=1).tolist()
        for r, st in enumerate(state):
            st.pay_to_date = to_date[r]
        return expected

    def expected_pay(self, bookings: np.ndarray, active_share: np.ndarray, base_salary: np.ndarray) -> np.ndarray:
        """Pay each seat expects over the plan year (annualised), judged at a month end from the bookings and
        active shares of the months so far (``seats x months``): bookings so far, then the rest of the horizon at
        the seat's attainment so far (its monthly run rate when it had no quota yet), paid by the run's pay
        function in full.

        A pay plan that pays mostly through a year-end bonus is judged by the bonus the rep is on course for, not
        by the salary-only months before it is paid (a trailing window of pay would make every lump-sum pay plan
        look underpaid and inflate attrition).
        """
        m = self.m
        n = m.n_months
        mo = bookings.shape[1] - 1
        proj = bookings
        if mo + 1 < n:
            quota_so_far = self.quotas[:, :mo + 1].sum(axis=1)
            booked = bookings.sum(axis=1)
            pace = np.divide(booked, quota_so_far, out=np.zeros_like(booked), where=quota_so_far > 0)
            later = np.where(quota_so_far[:, None] > 0, pace[:, None] * self.quotas[:, mo + 1:],
                             (booked / (mo + 1))[:, None])
            proj = np.concatenate([bookings, later], axis=1)
        share = np.ones((m.n_seats, n))
        share[:, :mo + 1] = active_share
        pay = self.pay_fn(proj, self.quotas, share, base_salary, m.commission_rate)
        out: np.ndarray = pay.sum(axis=1) * 12.0 / n
        return out

    def apply_ratchet(self, mo: int, full_year: list[bool]) -> None:
        """Plan-year end (month ``mo``): each seat filled all year (``full_year``) whose pay plan has a quota
        ratchet gets next year's quota from the pay function's ``ratchet(seat, quota, attainment)`` (the months
        keep their shape)."""
        if self.ratchet is None:
            return
        lo = mo - 11
        for r in range(self.m.n_seats):
            if not full_year[r]:
                continue
            quota = float(self.quotas[r, lo:mo + 1].sum())
            attainment = sum(self.bookings[r][lo:mo + 1]) / quota if quota > 0 else 0.0
            new_total = self.ratchet(r, quota, attainment)
            nxt = self.quotas[r, mo + 1:mo + 13]
            total = float(nxt.sum())
            if new_total is not None and total > 0:
                nxt *= new_total / total  # in place: RepState.quotas_by_month views this row
        self.team_quotas()

    def team_quotas(self) -> None:
        """Region and company quota per month from the seats' quotas, in place (RepState holds views of them)."""
        for k in range(len(self.region_quotas)):
            self.region_quotas[k] = self.quotas[self.m.seat_region == k].sum(axis=0)
        self.company_quotas[:] = self.quotas.sum(axis=0)

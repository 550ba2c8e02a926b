"""Where a rep's pay is computed during and after a simulated run: one swappable function.

The default, ``commission_pay``, is the prorated base salary plus the pay plan's flat ``commission_rate`` times
bookings; ``sim.incentives.PayPlanPay`` runs each seat's full pay plan through the pay engine. The simulator
calls the pay function at every month end for all seats at once, on the months so far (attrition reacts to pay),
so a pay function must be causal: pay for a month may not change when later months are added.

A pay function may also carry a quota ratchet (the optional ``QuotaRatchet`` protocol, found by
``quota_ratchet``): the simulator then asks it for each seat's next-year quota at every plan-year end.
"""

from __future__ import annotations

from collections.abc import Callable
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "PayFunction",
    "QuotaRatchet",
    "commission_pay",
    "pay_name",
    "quota_ratchet",
]


class PayFunction(Protocol):
    """Pay per seat and month from bookings, quotas and time in post.

    Parameters (arrays are ``seats x months`` up to the current month; ``commission_rate`` is per seat)
    ----------
    bookings
        Revenue booked by the seat in each month.
    quotas
        The seat's quota in each month.
    active_share
        Share of each month the seat was filled (prorates the base salary).
    base_salary
        Annual base salary in force for each seat and month (a promotion or a backfill hire changes it).
    commission_rate
        Flat commission rate of each seat's pay plan.

    Returns
    -------
    numpy.ndarray
        Pay per seat and month, same shape as ``bookings``.
    """

    def __call__(self, bookings: np.ndarray, quotas: np.ndarray, active_share: np.ndarray,
                 base_salary: np.ndarray, commission_rate: np.ndarray) -> np.ndarray: ...


def commission_pay(bookings: np.ndarray, quotas: np.ndarray, active_share: np.ndarray,
                   base_salary: np.ndarray, commission_rate: np.ndarray) -> np.ndarray:
    """Prorated monthly base salary plus flat commission on bookings.

    .. math:: \\text{pay}_{r,m} = \\frac{\\text{base}_r}{12}\\,a_{r,m} + c_r\\,b_{r,m}

    Examples
    --------
    >>> commission_pay(np.array([[1000.0, 0.0]]), np.zeros((1, 2)), np.array([[1.0, 0.5]]),
    ...                np.array([[12000.0, 12000.0]]), np.array([0.1]))
    array([[1100.,  500.]])
    """
    del quotas  # a flat commission ignores quotas; quota-based pay plans use them
    pay: np.ndarray = base_salary / 12.0 * active_share + commission_rate[:, None] * bookings
    return pay


@runtime_checkable
class QuotaRatchet(Protocol):
    """Optional capability of a pay function: a quota ratchet that sets next year's quota from this year's."""

    def ratchet(self, seat: int, quota: float, attainment: float) -> float | None:
        """Next plan year's total quota for ``seat`` from this year's ``quota`` and ``attainment``; None keeps
        the quota the run started with."""
        ...


def quota_ratchet(pay: PayFunction) -> Callable[[int, float, float], float | None] | None:
    """The pay function's quota ratchet, or None when it has none (``commission_pay`` has none).

    Examples
    --------
    >>> quota_ratchet(commission_pay) is None
    True
    """
    return pay.ratchet if isinstance(pay, QuotaRatchet) else None


def pay_name(pay: PayFunction) -> str:
    """How a run's facts name its pay function: a function by its name, any other callable by its ``repr``.

    Examples
    --------
    >>> pay_name(commission_pay)
    'commission_pay'
    """
    if isinstance(pay, FunctionType | BuiltinFunctionType | MethodType):
        return pay.__name__
    return repr(pay)

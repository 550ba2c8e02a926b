"""The open pipeline a run starts from: deals already in the funnel on day 0, each with its owner rep, stage, days
already spent in that stage, age and value (a CRM's open opportunities at a cutoff).

``open_deals`` checks a pipeline frame against a built ``Model`` and resolves its ids; ``with_pipeline`` adds the
deals to one replication's leads. With a pipeline the warm-up's leads are dropped: the pipeline *is* the funnel on
day 0, so leads drawn before it would count the same work twice. New leads from day 0 on are drawn exactly as
without a pipeline (the same streams), so runs with and without one see the same new customers.

How a deal of the pipeline moves. On day 0 it is with the customer at its stage (the rep has done the stage's work:
a CRM records that a deal is in a stage, not whether the rep still owes it hours). The time left in the stage is
drawn from the stage's duration distribution *conditioned on having lasted the days already spent*: the stage
takes ``D = mean_days / skill x Z`` with ``Z`` the stage's mean-1 multiplier (log-normal or gamma, coefficient of
variation ``spread``), so given ``D > e`` the remaining time is ``F^-1(F(c) + V (1 - F(c))) x mean_days / skill - e``
with ``c = e x skill / mean_days``, ``F`` the multiplier's distribution function and ``V`` uniform on (0, 1)
(inverse-transform sampling of the left-truncated law). The outcome of the stage is drawn as for any deal: passed
with probability ``conversion x skill x account-tier multiplier`` (capped at 1), which the simulator keeps
independent of the time in stage, so no conditioning applies to it. After the stage the deal goes on like any
other, through the queue of its owner while that rep's seat is filled (else its account's owner).

Deals that never get a decision (a stage's ``no_decision_share`` ``q``) are the exception: they never leave on
their own, so the longer a deal has been open in its stage the more likely it is one of them. A deal still open
after ``e`` days is one with probability ``q / (q + (1 - q) S(e))`` (Bayes' rule, ``S`` the survival function of
the decided deals' stage time), and that is the share compared with its no-decision uniform on day 0: an open
deal far older than decided deals ever take carries almost no chance of winning, as in the CRM.

Every draw of the pipeline's deals comes from its own stream (the replication's seed sequence child after the
five of ``sim.demand.STREAMS``), all of them up front, so two pay plans run from the same pipeline and seed see
the same deals, values, stage times and outcomes (common random numbers).

A deal's first stage is left out of the stage statistics (entered, converted, days): it began before the run, so
counting it would measure a left-truncated spell. Its win, booking and value count like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scenarios import Problem
from sim.demand import STREAMS, Leads, _mean_one
from sim.model import Model, SimulationError

__all__ = ["PIPELINE_COLUMNS", "OpenDeals", "no_decision_given_open", "open_deals", "pipeline_stream", "remaining_days",
           "with_pipeline"]

PIPELINE_COLUMNS = ("owner", "stage", "days_in_stage", "age_days")
"""Required columns of a pipeline frame; optional: ``opportunity_id``, ``account``, ``product`` and ``value`` (or
``amount``, as ``calibration.open_pipeline`` names it). Missing values of the optional ones are drawn."""


@dataclass(frozen=True, eq=False)
class OpenDeals:
    """A pipeline resolved against a model (arrays of length ``n``, indices into the model's tables).

    ``value`` and ``product`` are NaN / -1 where the pipeline did not give them (drawn per replication).
    """

    ids: list[str]
    seat: np.ndarray
    account: np.ndarray
    stage: np.ndarray
    in_stage: np.ndarray  # days already spent in the stage on day 0
    age: np.ndarray  # days since creation on day 0 (at least ``in_stage``)
    value: np.ndarray
    product: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def _problem(row: int | None, column: str, value: object, what: str, fix: str) -> Problem:
    """A problem of pipeline row ``row`` (0-based), named by its line in the pipeline as a CSV (header line 1)."""
    return Problem("pipeline", what, fix, line=None if row is None else row + 2, column=column, value=str(value))


def _stage_index(model: Model, value: object) -> int | None:
    """A stage given by index, id or name (names compared without case and surrounding spaces)."""
    n = len(model.stage_ids)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value) if 0 <= int(value) < n else None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value) if 0 <= int(value) < n else None
    text = " ".join(str(value).split()).casefold()
    for i, stage in enumerate(model.scenario.settings.funnel.stages):
        if text in (stage.id.casefold(), " ".join(stage.name.split()).casefold()):
            return i
    return None


def open_deals(model: Model, pipeline: pd.DataFrame) -> OpenDeals:
    """Check ``pipeline`` against ``model`` and resolve its reps, stages, accounts and products.

    Parameters
    ----------
    model
        The built model the run uses.
    pipeline
        One row per open deal: ``owner`` (a rep id of the scenario), ``stage`` (index, id or name of a funnel
        stage), ``days_in_stage`` and ``age_days`` (>= 0; an age below the days in stage is raised to them), and
        optionally ``opportunity_id``, ``account`` (an account id; default: the owner's account of largest
        potential under the plan, else the largest account of the owner's region), ``product`` (a product id;
        default drawn from the mix) and ``value`` or ``amount`` (> 0; NaN: drawn as for a new lead of the
        account).

    Raises
    ------
    SimulationError
        Naming the row, column and value of every unknown rep, stage, account or product and every missing,
        negative or non-finite number.

    Examples
    --------
    >>> import scenarios
    >>> from sim.model import build
    >>> m = build(scenarios.load("tiny"))
    >>> frame = pd.DataFrame({"owner": [m.rep_ids[0]], "stage": ["demo"], "days_in_stage": [3.0],
    ...                       "age_days": [20.0]})
    >>> d = open_deals(m, frame)
    >>> int(d.stage[0]), int(d.seat[0]), bool(np.isnan(d.value[0]))
    (2, 0, True)
    """
    problems: list[Problem] = []
    missing = [c for c in PIPELINE_COLUMNS if c not in pipeline.columns]
    if missing:
        raise SimulationError(_problem(None, ", ".join(missing), "", "lacks required column(s)",
                                       f"give columns {', '.join(PIPELINE_COLUMNS)}"))
    n = len(pipeline)
    seat_of = {r: i for i, r in enumerate(model.rep_ids)}
    account_of = {a: i for i, a in enumerate(model.account_ids)}
    product_of = {p: i for i, p in enumerate(model.product_ids)}
    ids = ([str(x) for x in pipeline["opportunity_id"]] if "opportunity_id" in pipeline.columns
           else [f"open-{i + 1}" for i in range(n)])
    seat = np.full(n, -1, dtype=np.int64)
    stage = np.full(n, -1, dtype=np.int64)
    account = np.full(n, -1, dtype=np.int64)
    product = np.full(n, -1, dtype=np.int64)
    value_col = "value" if "value" in pipeline.columns else "amount" if "amount" in pipeline.columns else None
    value = (pd.to_numeric(pipeline[value_col], errors="coerce").to_numpy(dtype=float) if value_col
             else np.full(n, np.nan))
    in_stage = pd.to_numeric(pipeline["days_in_stage"], errors="coerce").to_numpy(dtype=float)
    age = pd.to_numeric(pipeline["age_days"], errors="coerce").to_numpy(dtype=float)
    owners = pipeline["owner"].tolist()
    stages = pipeline["stage"].tolist()
    accounts = pipeline["account"].tolist() if "account" in pipeline.columns else [None] * n
    products = pipeline["product"].tolist() if "product" in pipeline.columns else [None] * n
    for i in range(n):
        row = i
        s = seat_of.get(str(owners[i]))
        if s is None:
            problems.append(_problem(row, "owner", owners[i], "is not a rep of the scenario",
                                     "give a rep_id of reps.csv"))
        else:
            seat[i] = s
        k = _stage_index(model, stages[i])
        if k is None:
            problems.append(_problem(row, "stage", stages[i], "is not a stage of the scenario's funnel",
                                     f"give an index 0..{len(model.stage_ids) - 1}, an id or a name of "
                                     f"{model.stage_ids}"))
        else:
            stage[i] = k
        for column, values in (("days_in_stage", in_stage), ("age_days", age)):
            if not (math.isfinite(values[i]) and values[i] >= 0.0):
                problems.append(_problem(row, column, values[i], "must be a number of days >= 0",
                                         "give the days elapsed on day 0"))
        if value_col is not None and not (math.isnan(value[i]) or (math.isfinite(value[i]) and value[i] > 0.0)):
            problems.append(_problem(row, value_col, value[i], "must be > 0 (or empty: drawn)",
                                     "give the deal's value or leave it empty"))
        if not _blank(accounts[i]):
            a = account_of.get(str(accounts[i]))
            if a is None:
                problems.append(_problem(row, "account", accounts[i], "is not an account of the scenario",
                                         "give an account_id of accounts.csv or leave it empty"))
            else:
                account[i] = a
        if not _blank(products[i]):
            p = product_of.get(str(products[i]))
            if p is None:
                problems.append(_problem(row, "product", products[i], "is not a product of the scenario",
                                         f"give one of {model.product_ids} or leave it empty"))
            else:
                product[i] = p
    if problems:
        raise SimulationError(problems)
    for j in np.flatnonzero(account < 0).tolist():
        account[j] = _default_account(model, int(seat[j]))
    return OpenDeals(ids=ids, seat=seat, account=account, stage=stage, in_stage=in_stage,
                     age=np.maximum(age, in_stage), value=value, product=product)


def _blank(value: object) -> bool:
    """An empty optional cell: None, NaN or empty text."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _default_account(model: Model, seat: int) -> int:
    """The owner's account of largest potential under the plan, else the largest of the seat's region (a deal
    needs an account for its tier multiplier and its booking; ties to the first)."""
    own = np.flatnonzero(model.owner == seat)
    if len(own) == 0:
        own = np.flatnonzero(model.account_region == model.seat_region[seat])
    if len(own) == 0:
        own = np.arange(len(model.account_ids))
    return int(own[np.argmax(model.potential[own])])


def pipeline_stream(seed: np.random.SeedSequence) -> np.random.Generator:
    """The pipeline's own generator: the replication's child number ``len(STREAMS)``, built from the seed's
    entropy and spawn key so that it does not depend on how many children were spawned before.

    Examples
    --------
    >>> a = pipeline_stream(np.random.SeedSequence(3)).random()
    >>> a == pipeline_stream(np.random.SeedSequence(3)).random()
    True
    """
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, len(STREAMS)),
                                   pool_size=seed.pool_size)
    return np.random.default_rng(child)


def with_pipeline(model: Model, leads: Leads, deals: OpenDeals, rng: np.random.Generator) -> Leads:
    """The replication's leads without the warm-up's, followed by the pipeline's deals (arrival day ``-age``),
    with every draw for them taken from ``rng`` in a fixed order: product, value multiplier, stage-duration and
    effort multipliers, stage-outcome uniforms, and the uniform of the remaining time in the current stage."""
    sim = model.scenario.settings.simulation
    n_stages = len(model.stage_ids)
    n = len(deals)
    drawn_product = rng.choice(len(model.mix), size=n, p=model.mix)
    noise = _mean_one(rng, np.array([sim.value_cv]), np.array([False]), n)[:, 0]
    duration_x = _mean_one(rng, model.spread, model.gamma_stage, n)
    effort_x = _mean_one(rng, np.full(n_stages, sim.effort_cv), np.ones(n_stages, dtype=bool), n)
    outcome_u = rng.random((n, n_stages))
    stage_u = rng.random(n)
    product = np.where(deals.product >= 0, deals.product, drawn_product)
    mean_price = float(model.price @ model.mix)
    relative_price = model.price / mean_price if mean_price > 0 else np.ones(len(model.price))
    value = np.where(np.isnan(deals.value), model.deal_value[deals.account] * relative_price[product] * noise,
                     deals.value)
    keep = leads.time >= 0.0
    k = int(keep.sum())
    owner = np.concatenate([np.full(k, -1, dtype=np.int64), deals.seat])
    in_stage = np.concatenate([np.full(k, np.nan), deals.in_stage])
    return replace(
        leads, time=np.concatenate([leads.time[keep], -deals.age]),
        account=np.concatenate([leads.account[keep], deals.account]),
        channel=np.concatenate([leads.channel[keep], np.full(n, -1, dtype=np.int64)]),
        entry_stage=np.concatenate([leads.entry_stage[keep], deals.stage]),
        quality=np.concatenate([leads.quality[keep], np.ones(n)]),
        value=np.concatenate([leads.value[keep], value]),
        product=np.concatenate([leads.product[keep], product]),
        outcome_u=np.concatenate([leads.outcome_u[keep], outcome_u]),
        duration_x=np.concatenate([leads.duration_x[keep], duration_x]),
        effort_x=np.concatenate([leads.effort_x[keep], effort_x]),
        owner=owner, in_stage=in_stage, stage_u=np.concatenate([np.full(k, np.nan), stage_u]), n_open=n)


def no_decision_given_open(mean_days: np.ndarray, spread: np.ndarray, gamma: np.ndarray, elapsed: np.ndarray,
                           share: np.ndarray) -> np.ndarray:
    """Probability that a deal still open after ``elapsed`` days in a stage is one that gets no decision, when a
    share ``share`` of the stage's deals gets none and the others take a time of mean ``mean_days`` (already
    divided by the rep's skill) and coefficient of variation ``spread`` (gamma or log-normal): Bayes' rule
    ``share / (share + (1 - share) S(elapsed))``. A stage without spread lasts exactly its mean (``S`` is 1 before
    it and 0 from it on).

    Examples
    --------
    >>> p = no_decision_given_open(np.array([30.0, 30.0, 30.0]), np.array([0.5, 0.5, 0.5]),
    ...                            np.array([False, False, False]), np.array([0.0, 30.0, 300.0]),
    ...                            np.array([0.2, 0.2, 0.2]))
    >>> round(float(p[0]), 3), bool(p[0] < p[1] < p[2]), bool(p[2] > 0.999)
    (0.2, True, True)
    """
    mean_days = np.asarray(mean_days, dtype=float)
    spread = np.asarray(spread, dtype=float)
    elapsed = np.asarray(elapsed, dtype=float)
    share = np.asarray(share, dtype=float)
    c = elapsed / np.maximum(mean_days, 1e-300)
    surv = np.where(c < 1.0, 1.0, 0.0)
    for is_gamma in (False, True):
        sel = (spread > 0) & (np.asarray(gamma, dtype=bool) == is_gamma)
        if sel.any():
            surv[sel] = _multiplier_law(spread[sel], is_gamma).sf(c[sel])
    denominator = share + (1.0 - share) * surv
    return np.asarray(np.where(denominator > 0, share / np.maximum(denominator, 1e-300), 1.0), dtype=float)


def _multiplier_law(cv: np.ndarray, is_gamma: bool) -> Any:
    """The stage time's mean-1 multiplier (frozen scipy law) of coefficient of variation ``cv``."""
    if is_gamma:
        shape = 1.0 / (cv * cv)
        return stats.gamma(shape, scale=1.0 / shape)
    sigma = np.sqrt(np.log1p(cv * cv))
    return stats.lognorm(sigma, scale=np.exp(-sigma * sigma / 2.0))


def remaining_days(mean_days: np.ndarray, spread: np.ndarray, gamma: np.ndarray, elapsed: np.ndarray,
                   u: np.ndarray) -> np.ndarray:
    """Days left in a stage of mean ``mean_days`` (already divided by the rep's skill) and coefficient of
    variation ``spread`` (gamma or log-normal, mean 1 multiplier), given ``elapsed`` days spent in it, by inverse
    transform of the left-truncated law at uniforms ``u``. A stage without spread lasts exactly its mean (0 left
    once it is exceeded).

    Examples
    --------
    >>> left = remaining_days(np.array([10.0]), np.array([0.0]), np.array([False]), np.array([4.0]),
    ...                       np.array([0.5]))
    >>> float(left[0])
    6.0
    """
    mean_days = np.asarray(mean_days, dtype=float)
    spread = np.asarray(spread, dtype=float)
    elapsed = np.asarray(elapsed, dtype=float)
    u = np.asarray(u, dtype=float)
    out = np.maximum(mean_days - elapsed, 0.0)
    c = elapsed / np.maximum(mean_days, 1e-300)
    for is_gamma in (False, True):
        sel = (spread > 0) & (np.asarray(gamma, dtype=bool) == is_gamma)
        if not sel.any():
            continue
        law = _multiplier_law(spread[sel], is_gamma)
        # survival form keeps precision deep in the tail: S(z) = S(c) (1 - V)
        tail = law.sf(c[sel]) * (1.0 - u[sel])
        z = np.asarray(law.isf(np.maximum(tail, 1e-300)), dtype=float)
        out[sel] = np.maximum(z * mean_days[sel] - elapsed[sel], 0.0)
    return np.asarray(out, dtype=float)

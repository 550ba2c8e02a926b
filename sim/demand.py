"""Demand for one replication, drawn up front: every lead with its arrival day, account, source, value,
product and the random numbers its journey through the funnel will use.

Drawing it all before the run, from streams that only depend on the replication's seed, means two variants of
a plan or behaviour see the same customers and the same luck at each stage (common random numbers), and keeps
random-number work out of the event loop.

New-business leads arrive per channel x region x month as a Poisson count at uniform times within the month
and land on the region's prospects with probability proportional to their annual potential (all accounts of
the region when it has no prospects). Repeat, renewal and upsell leads come from the accounts that are
customers at the start, as a Poisson process with ``simulation.repeat_orders_per_year`` of their tier, times
calendar seasonality; they skip ``simulation.repeat_skip_stages`` stages. A lead's value is the account's
expected deal value (``scenarios.demand.account_demand``: its annual potential over the leads it brings a year
at today's spend, at least one) times the product's price over the mix's mean price, times mean-1 lognormal
noise (``simulation.value_cv``), so at today's spend the deals an account brings in a year are worth its
potential.

Demand starts ``simulation.warmup_months`` before the horizon (at today's channel spend), so that the funnel
holds a realistic pipeline on the first day; those leads have negative arrival days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import DAYS_PER_YEAR, Model

__all__ = ["STREAMS", "Leads", "draw_leads", "no_decision_stream", "streams"]

STREAMS = ("arrivals", "values", "durations", "outcomes", "lifecycle")


def streams(seed: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One independent generator per purpose, spawned from the replication's seed sequence.

    Examples
    --------
    >>> g = streams(np.random.SeedSequence(1))
    >>> sorted(g) == sorted(STREAMS)
    True
    """
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, seed.spawn(len(STREAMS)),
                                                                         strict=True)}


def no_decision_stream(seed: np.random.SeedSequence) -> np.random.Generator:
    """The generator of the no-decision draws: the replication's child number ``len(STREAMS) + 1`` (after the open
    pipeline's), built from the seed's entropy and spawn key, so turning the stale exit on leaves every other draw
    of the replication unchanged.

    Examples
    --------
    >>> a = no_decision_stream(np.random.SeedSequence(3)).random()
    >>> a == no_decision_stream(np.random.SeedSequence(3)).random()
    True
    """
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, len(STREAMS) + 1),
                                   pool_size=seed.pool_size)
    return np.random.default_rng(child)


@dataclass(frozen=True, eq=False)
class Leads:
    """The leads of one replication, sorted by arrival day (arrays of length ``n``; ``(n, S)`` per stage)."""

    time: np.ndarray
    account: np.ndarray
    channel: np.ndarray  # -1 for repeat/renewal/upsell leads
    entry_stage: np.ndarray
    quality: np.ndarray  # multiplier on the entry stage's conversion
    value: np.ndarray
    product: np.ndarray
    outcome_u: np.ndarray  # (n, S) uniforms: the stage is passed when u < conversion probability
    duration_x: np.ndarray  # (n, S) duration multipliers with mean 1
    effort_x: np.ndarray  # (n, S) effort multipliers with mean 1
    # deals of an open pipeline (``sim.pipeline``), the last ``n_open`` rows: the seat each stays with (-1 for
    # every other lead), the days already spent in its stage on day 0 and the uniform of the time left in it
    owner: np.ndarray | None = None
    in_stage: np.ndarray | None = None
    stage_u: np.ndarray | None = None
    n_open: int = 0
    # (n, S) uniforms of whether a stage's deal gets no decision (``u < no_decision_share``), from their own stream
    # (``no_decision_stream``); None when no stage has such deals, so those runs draw nothing more
    silent_u: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time)


def _mean_one(rng: np.random.Generator, cv: np.ndarray, gamma: np.ndarray, n: int) -> np.ndarray:
    """Columns of mean-1 multipliers with coefficient of variation ``cv``: gamma or lognormal per column."""
    out = np.ones((n, len(cv)))
    for j, (c, is_gamma) in enumerate(zip(cv, gamma, strict=True)):
        if c <= 0:
            rng.standard_normal(n)  # keep the stream aligned whatever the spreads are
            continue
        if is_gamma:
            shape = 1.0 / (c * c)
            out[:, j] = rng.gamma(shape, 1.0 / shape, n)
        else:
            sigma2 = np.log1p(c * c)
            out[:, j] = np.exp(np.sqrt(sigma2) * rng.standard_normal(n) - sigma2 / 2.0)
    return out


def draw_leads(model: Model, rng: dict[str, np.random.Generator]) -> Leads:
    """Draw all leads of one replication from the ``arrivals``, ``values``, ``durations`` and ``outcomes``
    streams.

    Examples
    --------
    >>> import scenarios
    >>> from sim.model import build
    >>> leads = draw_leads(build(scenarios.load("tiny")), streams(np.random.SeedSequence(0)))
    >>> bool(len(leads) > 0 and (np.diff(leads.time) >= 0).all())
    True
    """
    arr = rng["arrivals"]
    ms = model.demand_start
    sim = model.scenario.settings.simulation
    n_stages = len(model.stage_ids)

    counts = arr.poisson(model.source_rate)
    src = np.repeat(np.arange(len(counts)), counts)
    month = model.source_month[src]
    t_new = ms[month] + arr.random(len(src)) * (ms[month + 1] - ms[month])
    region = model.source_region[src]
    acc_new = np.empty(len(src), dtype=np.int64)
    for k in range(len(model.region_ids)):
        idx = np.flatnonzero(region == k)
        pool = model.region_accounts[k]
        if len(idx):
            acc_new[idx] = pool[arr.choice(len(pool), size=len(idx), p=model.region_weights[k])] if len(pool) \
                else -1
    channel_new = model.source_channel[src]

    days = np.diff(ms)
    rate = model.repeat_rate[:, None] * (model.demand_season * days / DAYS_PER_YEAR)[None, :]
    rep_counts = arr.poisson(rate)  # (A, M)
    acc_rep, month_rep = np.nonzero(rep_counts)
    reps = rep_counts[acc_rep, month_rep]
    acc_rep = np.repeat(acc_rep, reps)
    month_rep = np.repeat(month_rep, reps)
    t_rep = ms[month_rep] + arr.random(len(acc_rep)) * days[month_rep]

    time = np.concatenate([t_new, t_rep])
    account = np.concatenate([acc_new, acc_rep])
    channel = np.concatenate([channel_new, np.full(len(acc_rep), -1, dtype=np.int64)])
    keep = account >= 0
    order = np.lexsort((np.arange(len(time)), time))
    order = order[keep[order]]
    time, account, channel = time[order], account[order], channel[order]
    n = len(time)

    skip = min(sim.repeat_skip_stages, n_stages - 1)
    entry_stage = np.where(channel < 0, skip, 0).astype(np.int64)
    quality = np.where(channel >= 0, model.channel_quality[np.maximum(channel, 0)], 1.0) \
        if len(model.channel_quality) else np.ones(n)

    val = rng["values"]
    product = val.choice(len(model.mix), size=n, p=model.mix)
    noise = _mean_one(val, np.array([sim.value_cv]), np.array([False]), n)[:, 0]
    mean_price = float(model.price @ model.mix)
    relative_price = model.price / mean_price if mean_price > 0 else np.ones(len(model.price))
    value = model.deal_value[account] * relative_price[product] * noise

    dur = rng["durations"]
    duration_x = _mean_one(dur, model.spread, model.gamma_stage, n)
    effort_x = _mean_one(dur, np.full(n_stages, sim.effort_cv), np.ones(n_stages, dtype=bool), n)
    outcome_u = rng["outcomes"].random((n, n_stages))
    return Leads(time=time, account=account, channel=channel, entry_stage=entry_stage, quality=quality,
                 value=value, product=product, outcome_u=outcome_u, duration_x=duration_x, effort_x=effort_x)

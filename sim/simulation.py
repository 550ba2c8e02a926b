"""``simulate``: the public pipeline ``check -> build processes -> run replications -> collect`` and its
``SimulationResult``.

Replication ``i`` gets child ``i`` of ``numpy.random.SeedSequence(seed)``, and inside it one stream per purpose
(arrivals, values, durations, outcomes, lifecycle), so results depend only on the seed, never on the number
of worker processes, and two pay plans or behaviours run with the same seed see the same customers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from scenarios import Plan, Scenario, write_csv
from sim.crm import crm_frames, stack_logs
from sim.demand import Leads, draw_leads, no_decision_stream, streams
from sim.memory import check_memory
from sim.model import Model, SimulationError, build, check
from sim.pay_function import PayFunction, commission_pay, pay_name
from sim.pipeline import OpenDeals, open_deals, pipeline_stream, with_pipeline
from sim.policy import Behaviour, NormBehaviour
from sim.processes import Funnel
from sim.record import RunRecord
from sim.statistics import ReplicationStats, collect, mean_ci

__all__ = ["SimulationResult", "run_replication", "simulate", "summarise"]


def run_replication(model: Model | Scenario, seed: np.random.SeedSequence, behaviour: Behaviour | None = None,
                    pay: PayFunction | None = None, *, pipeline: OpenDeals | None = None,
                    trace: bool = False) -> tuple[Leads, RunRecord]:
    """Run one replication: draw its leads and run the funnel (``run replications`` for one seed).

    ``model`` is a built ``Model`` (build it once to run many replications) or a scenario, built here with
    today's assignment. ``pipeline`` (``sim.pipeline.open_deals``) starts the run from deals already in the
    funnel instead of the warm-up; ``trace`` keeps every stage entry in ``RunRecord.trail`` (the run's deal log).

    Examples
    --------
    >>> import scenarios
    >>> m = build(scenarios.load("tiny"))
    >>> leads, rec = run_replication(m, np.random.SeedSequence(1))
    >>> int((rec.status >= 0).sum()) == len(leads)
    True
    """
    if isinstance(model, Scenario):
        model = build(model)
    rng = streams(seed)
    leads = draw_leads(model, rng)
    if pipeline is not None:
        leads = with_pipeline(model, leads, pipeline, pipeline_stream(seed))
    if model.no_decision.any():
        silent = no_decision_stream(seed).random((len(leads), len(model.stage_ids)))
        leads = replace(leads, silent_u=silent)
    beh: Behaviour = behaviour if behaviour is not None else NormBehaviour()
    funnel = Funnel(model, leads, rng["lifecycle"], beh, pay or commission_pay, trace)
    return leads, funnel.run()


CSV_FLOAT_FORMAT = "%.10g"
"""Floats in the simulator's CSVs: 10 significant digits, far below the Monte Carlo error of any figure."""

_WORKER: dict[str, Any] = {}

# Replication measures that are shares of a whole, so their interval also stays at or below 1.
_SHARES = frozenset({"share_reps_at_quota", "win_rate", "churn_rate", "selling_share_of_hours"})


def _init_worker(model: Model, behaviour: Behaviour, pay: PayFunction, pipeline: OpenDeals | None = None,
                 deal_log: bool = False) -> None:
    _WORKER.update(model=model, behaviour=behaviour, pay=pay, pipeline=pipeline, deal_log=deal_log)


def _one(seed: np.random.SeedSequence) -> tuple[ReplicationStats, tuple[pd.DataFrame, pd.DataFrame] | None]:
    model, behaviour, pay = _WORKER["model"], _WORKER["behaviour"], _WORKER["pay"]
    pipeline, deal_log = _WORKER.get("pipeline"), bool(_WORKER.get("deal_log", False))
    leads, rec = run_replication(model, seed, behaviour, pay, pipeline=pipeline, trace=deal_log)
    frames = crm_frames(model, leads, rec, pipeline) if deal_log else None
    return collect(model, leads.time, rec), frames


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Summarised results of a Monte Carlo run (means and t-based 95 % intervals over replications).

    Parameters
    ----------
    kpis
        ``metric, mean, ci_low, ci_high``.
    monthly
        One row per period: bookings (with interval), margin, quota, leads, won, WIP at month end, pay.
    reps
        Per-rep scorecard: bookings, quota, attainment and pay (with intervals), wins, win rate, cycle time,
        utilisation, probability of leaving and of promotion, conversion per stage.
    funnel
        One row per stage: entered, converted, conversion (with interval), mean days.
    replications
        One row per replication with every scalar measure (for paired comparisons).
    replication_monthly
        One row per replication and period: bookings, gross margin, leads, won, WIP at month end, pay.
    replication_reps
        One row per replication and rep: bookings, quota, attainment, pay, wins, left, promoted (for
        distributions such as attainment percentiles or pay dispersion, paired across variants).
    deal_log
        When the run kept it (``simulate(..., deal_log=True)``): every deal of every replication in
        ``sim.crm.DEAL_COLUMNS`` and ``history``, its stage changes in ``sim.crm.HISTORY_COLUMNS``, each with a
        ``replication`` column first (``calibration.write_crm_export`` writes one replication as a CRM export).
    info
        Run facts: scenario, plan source, replications, seed, quota source, behaviour.
    """

    kpis: pd.DataFrame
    monthly: pd.DataFrame
    reps: pd.DataFrame
    funnel: pd.DataFrame
    replications: pd.DataFrame
    replication_monthly: pd.DataFrame
    replication_reps: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    deal_log: tuple[pd.DataFrame, pd.DataFrame] | None = None

    float_format: ClassVar[str] = CSV_FLOAT_FORMAT
    """Number format of the exported tables (`to_csv`, and any writer that honours it)."""

    def summary(self) -> dict[str, Any]:
        """The run facts and every KPI with its interval, JSON-ready (NaN, as with one replication, as None).

        Examples
        --------
        >>> import scenarios
        >>> s = simulate(scenarios.load("tiny"), replications=2, seed=1).summary()
        >>> s["run"]["replications"], "revenue" in s["kpis"]
        (2, True)
        """
        def num(x: Any) -> float | None:
            value = float(x)
            return None if value != value else value

        kpis = {row.metric: {"mean": num(row.mean), "ci_low": num(row.ci_low), "ci_high": num(row.ci_high)}
                for row in self.kpis.itertuples(index=False)}
        return {"run": self.info, "kpis": kpis}

    def kpi(self, metric: str) -> float:
        """Mean of one KPI."""
        value: Any = self.kpis.set_index("metric").loc[metric, "mean"]
        return float(value)

    def __repr__(self) -> str:
        k = self.kpis.set_index("metric")
        lines = [f"SimulationResult: {self.info.get('scenario')} | plan {self.info.get('plan')} | "
                 f"{self.info.get('replications')} replications, seed {self.info.get('seed')}"]
        for metric in ("revenue", "win_rate", "attainment", "cycle_days_won", "wip", "utilisation",
                       "churn_rate", "attrition_rate", "pay_total"):
            if metric in k.index:
                row = k.loc[metric]
                lines.append(f"  {metric:<16} {row['mean']:>16,.3f}  95% CI [{row['ci_low']:,.3f}, "
                             f"{row['ci_high']:,.3f}]")
        lines.append("  tables: " + ", ".join(f"{k} {len(v)}" for k, v in self.tables().items()))
        return "\n".join(lines)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result's tables by file stem (``kpis``, ``monthly``, ...), in the order they are written."""
        return {"kpis": self.kpis, "monthly": self.monthly, "reps": self.reps, "funnel": self.funnel,
                "replications": self.replications, "replication_monthly": self.replication_monthly,
                "replication_reps": self.replication_reps}

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write every table of ``tables()`` as ``<stem>.csv`` through ``scenarios.write_csv`` (UTF-8, with a BOM
        when ``excel``; floats to 10 significant digits, so runs compare byte for byte whatever the number of
        workers). ``quotaflow simulate`` writes its tables through this method too."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables().items():
            write_csv(frame, out / f"{name}.csv", excel=excel, float_format=self.float_format)


def summarise(model: Model, runs: Sequence[ReplicationStats], info: dict[str, Any]) -> SimulationResult:
    """Means and 95 % intervals over replications of every measure (``collect`` across replications).

    Examples
    --------
    >>> import scenarios
    >>> from sim import collect
    >>> model = build(scenarios.load("tiny"))
    >>> runs = [collect(model, leads.time, rec) for leads, rec in
    ...         (run_replication(model, s) for s in np.random.SeedSequence(0).spawn(3))]
    >>> summarise(model, runs, {}).funnel["stage"].tolist() == model.stage_ids
    True
    """
    keys = list(runs[0].scalars)
    table = np.array([[r.scalars[k] for k in keys] for r in runs])
    # Every replication measure is a count, an amount or a ratio of them (none below 0); shares of a whole
    # cannot pass 1 either. The intervals respect that (mean_ci's bootstrap where a t interval would not).
    ceiling = np.array([1.0 if k in _SHARES else np.inf for k in keys])
    mean, lo, hi = mean_ci(table, lower=0.0, upper=ceiling)
    kpis = pd.DataFrame({"metric": keys, "mean": mean, "ci_low": lo, "ci_high": hi})

    monthly = pd.DataFrame({"period": model.periods})
    for key in runs[0].monthly:
        # a month's pay may be negative (a draw recovered), so only bookings' interval is kept at 0 or above
        m, lo_, hi_ = mean_ci(np.array([r.monthly[key] for r in runs]), lower=0.0 if key == "bookings" else None)
        monthly[key] = m
        if key == "bookings":
            monthly["bookings_ci_low"], monthly["bookings_ci_high"] = lo_, hi_

    funnel = pd.DataFrame({"stage": model.stage_ids})
    for key in ("entered", "converted", "open", "conversion", "mean_days", "mean_wait_days"):
        m, lo_, hi_ = mean_ci(np.array([r.stages[key] for r in runs]), lower=0.0,
                              upper=1.0 if key == "conversion" else None)
        funnel[key] = m
        if key == "conversion":
            funnel["conversion_ci_low"], funnel["conversion_ci_high"] = lo_, hi_
    funnel["base_conversion"] = model.conversion

    reps_src = model.scenario.reps
    reps = pd.DataFrame({"rep_id": model.rep_ids, "name": reps_src["name"].astype(str).to_numpy(),
                         "region": reps_src["region"].astype(str).to_numpy(),
                         "tier": reps_src["tier"].astype(str).to_numpy()})
    for key in ("bookings", "quota", "attainment", "pay", "won", "win_rate", "cycle_days", "utilisation",
                "selling_hours", "left", "promoted"):
        m, lo_, hi_ = mean_ci(np.array([r.seats[key] for r in runs]), lower=0.0)
        reps[key] = m
        if key in ("bookings", "attainment", "pay"):
            reps[f"{key}_ci_low"], reps[f"{key}_ci_high"] = lo_, hi_
    conv, _, _ = mean_ci(np.array([r.seats["stage_conversion"] for r in runs]))
    for j, sid in enumerate(model.stage_ids):
        reps[f"conversion_{sid}"] = conv[:, j]

    replications = pd.DataFrame(table, columns=keys)
    n_runs, n_months = len(runs), model.n_months
    rep_monthly = pd.DataFrame({"replication": np.repeat(np.arange(n_runs), n_months),
                                "period": np.tile(model.periods, n_runs)})
    for key in ("bookings", "gross_margin", "leads", "won", "wip_end", "pay"):
        rep_monthly[key] = np.concatenate([r.monthly[key] for r in runs])
    rep_seats = pd.DataFrame({"replication": np.repeat(np.arange(n_runs), model.n_seats),
                              "rep_id": np.tile(model.rep_ids, n_runs)})
    for key in ("bookings", "quota", "attainment", "pay", "won", "left", "promoted"):
        rep_seats[key] = np.concatenate([r.seats[key] for r in runs])
    replications.insert(0, "replication", np.arange(len(runs)))
    return SimulationResult(kpis=kpis, monthly=monthly, reps=reps, funnel=funnel, replications=replications,
                            replication_monthly=rep_monthly, replication_reps=rep_seats,
                            info=info)


def simulate(scenario: Scenario | Model, plan: Plan | None = None, *, replications: int | None = None,
             seed: int | None = None, workers: int = 1, behaviour: Behaviour | None = None,
             pay: PayFunction | None = None, progress: Callable[[int], None] | None = None,
             pipeline: pd.DataFrame | None = None, deal_log: bool = False) -> SimulationResult:
    """Simulate the sales funnel of ``scenario`` under ``plan`` over many replications.

    Parameters
    ----------
    scenario
        The scenario, or a ``Model`` already built from a scenario and plan by ``build`` (several runs on one
        plan, such as one per pay plan, then share it instead of building it each time).
    plan
        Accounts to reps, quotas and budget (from the optimizer, ``Plan.load`` or ``Plan.current``); None runs
        today's assignment with default quotas (company target x over-assignment, split by each rep's share of
        assigned potential and by calendar seasonality) and the channels' default spend. Give it to ``build``,
        not here, when ``scenario`` is a built model.
    replications, seed
        Monte Carlo replications and root seed; None takes ``[simulation]`` from the scenario.
    workers
        Worker processes; results are identical whatever the number.
    behaviour
        The behaviour hook (``sim.policy.Behaviour``); default ``NormBehaviour()``.
    pay
        The pay function (``sim.pay_function.PayFunction``); default ``commission_pay``.
    progress
        Called with the number of replications finished after each one (for a progress bar).
    pipeline
        Deals already in the funnel on day 0 (``sim.pipeline.open_deals`` says the columns: owner, stage, days
        in stage, age, optional account, product and value); the run starts from them instead of the warm-up,
        every replication from the same deals, their draws from their own stream.
    deal_log
        Keep every replication's deals and stage changes (``SimulationResult.deal_log``); off by default, so
        runs that do not ask for it pay nothing.

    Returns
    -------
    SimulationResult

    Raises
    ------
    SimulationError
        When the scenario or plan cannot be simulated, an option is out of range, or the replications' results
        cannot fit in the memory available (``sim.memory.check_memory``).
    ValueError
        When both a built model and a plan are given (the model already holds its plan).

    Examples
    --------
    >>> import scenarios
    >>> res = simulate(scenarios.load("tiny"), replications=3, seed=1)
    >>> res.kpis.columns.tolist()
    ['metric', 'mean', 'ci_low', 'ci_high']
    >>> res.kpi("leads") >= res.kpi("won")
    True
    >>> model = build(scenarios.load("tiny"))
    >>> simulate(model, replications=3, seed=1).kpis.equals(res.kpis)
    True
    """
    built: Model | None = None
    if isinstance(scenario, Model):
        if plan is not None:
            raise ValueError("simulate got a built model and a plan: pass the plan to sim.build instead")
        built, scen = scenario, scenario.scenario
    else:
        scen = scenario
    st = scen.settings.simulation
    n = st.replications if replications is None else replications
    root = st.seed if seed is None else seed
    if n < 1:
        raise SimulationError(_problem("--replications", str(n), "give at least 1 replication"))
    if root < 0:
        raise SimulationError(_problem("--seed", str(root), "give a seed >= 0"))
    if workers < 1:
        raise SimulationError(_problem("--workers", str(workers), "give at least 1 worker"))
    check_memory(scen, n)  # before the seeds are spawned: a count that cannot fit fails here, at once
    if built is None:
        plan = check(scen, plan)
        model = build(scen, plan)
    else:
        model = built
        plan = model.plan
    beh: Behaviour = behaviour if behaviour is not None else NormBehaviour()
    pay_fn = pay or commission_pay
    opened = open_deals(model, pipeline) if pipeline is not None else None
    seeds = np.random.SeedSequence(root).spawn(n)
    runs: list[ReplicationStats] = []
    logs: list[tuple[pd.DataFrame, pd.DataFrame]] = []

    def keep(res: tuple[ReplicationStats, tuple[pd.DataFrame, pd.DataFrame] | None]) -> None:
        runs.append(res[0])
        if res[1] is not None:
            logs.append(res[1])
        if progress is not None:
            progress(len(runs))

    if workers == 1 or n == 1:
        _init_worker(model, beh, pay_fn, opened, deal_log)
        for s in seeds:
            keep(_one(s))
    else:
        init: Callable[..., None] = _init_worker
        with ProcessPoolExecutor(max_workers=min(workers, n), initializer=init,
                                 initargs=(model, beh, pay_fn, opened, deal_log)) as pool:  # type: ignore[arg-type]
            for res in pool.map(_one, seeds):
                keep(res)
    info = {"scenario": scen.name, "source": scen.source, "plan": plan.source, "replications": n,
            "seed": root, "quota_source": model.quota_source, "behaviour": repr(beh),
            "pay": pay_name(pay_fn), "routing": st.routing,
            "periods": [model.periods[0], model.periods[-1]], "ci": "t-based 95% over replications"}
    if opened is not None:
        info["open_pipeline"] = len(opened)
    result = summarise(model, runs, info)
    if not deal_log:
        return result
    return replace(result, deal_log=stack_logs(logs))


def _problem(option: str, value: str, fix: str) -> Any:
    from scenarios import Problem

    return Problem("command line", "is out of range", fix, column=option, value=value)

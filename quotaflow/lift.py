"""The simulated effect of coaching: for each rep-stage the diagnosis flags, the calibrated scenario simulated with
and without that rep's stage lifted to the peer median, paired by common random numbers.

**The lever and its mapping.** The simulator's training lever (``simulation.training_hours_per_year`` and
``training_skill_gain``; a pay plan's ``training``) raises a rep's stage *skill*: the simulator passes a stage with
probability ``conversion x skill`` and divides the stage's dwell by the same skill. Training is therefore expressed
as its end state, a higher ``skill_<stage>`` for that rep at that stage only, from the first day of the simulated
horizon. For a **conversion** flag the mapping is exact: calibration sets ``skill = shrunk rate / population mean``
(``calibration.reps``), so the skill that puts the rep at the peer median is ``skill x peer median / shrunk``;
because the simulator ties dwell to the same skill, the lifted rep is also quicker at that stage by the same factor
(the simulator has no separate dwell multiplier). A **time** flag is not simulated: the calibrated scenario holds no
per-rep dwell (``skill_days_<stage>`` does not exist), so the rep already runs at the peers' dwell scaled by their
conversion skill and lifting their time cannot change the result; the row says so instead of showing an effect.

**Cost.** What the lever would take is reported, not simulated: the training hours that, at the scenario's pace
(``training_hours_per_year`` spread over the year, each month's hours raising skill by ``training_skill_gain x
hours / training_hours_per_year``, compounded monthly as ``sim.seats`` does), raise a skill by the lift's factor.
That lever raises every stage of a trained rep, so those hours buy more than the one stage.

**Effect.** Both runs use the same root seed, hence the same customers, deal values, durations and outcome draws
(``sim.simulate``'s streams per purpose); the rep's won deals and booked value per replication are differenced,
scaled to a year (``12 / calendar.months``), and summarised by the mean and a Student-t interval of the paired
differences; the same for the whole team, because under ``region_pool`` routing a lifted rep's extra passes are
mostly closed by peers (``LIFT_COLUMNS``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

import calibration
import scenarios
import sim

__all__ = ["LIFT_COLUMNS", "LIFT_LEVEL", "LIFT_REPLICATIONS", "diagnose_with_lift", "lift_targets",
           "simulate_lift", "training_hours"]

LIFT_REPLICATIONS = 100
"""Paired replications per lift by default: on the synthetic 12-rep exports of the tests, 100 pairs put the
90 % interval of a flagged rep's yearly won deals at roughly +/-10 % of the effect (benchmarks/RESULTS.md)."""
LIFT_LEVEL = 0.9
"""Level of the effect's interval, the diagnosis's own level."""

_EFFECTS = ["lift_won_deals", "lift_won_value", "lift_team_won_deals", "lift_team_won_value"]
LIFT_COLUMNS = ["lift_skill_from", "lift_skill_to", "lift_training_hours",
                *[f"{e}{suffix}" for e in _EFFECTS for suffix in ("", "_low", "_high")],
                "lift_replications", "lift_note"]
"""Columns ``simulate_lift`` adds to the diagnosis: the rep's stage skill in the calibrated scenario and the lifted
one, the training hours the lever needs for that lift, the paired effect per year with its interval on the rep's own
won deals and booked value (the deals the simulator credits to the rep's seat: those the rep closes) and on the whole
team's, the replications, and why a flagged row has no effect. Under ``region_pool`` routing any rep of the region
works a deal's next stage, so much of a lifted rep's extra passes are closed, and credited, by peers: the team's
figures are then the effect of the lift, the rep's own a part of it."""

TIME_NOT_SIMULATED = ("time flag not simulated: the calibrated scenario holds no per-rep dwell (the simulator "
                      "divides a stage's dwell by the conversion skill), so lifting time alone cannot change the run")


def training_hours(factor: float, hours_per_year: float, gain: float) -> float:
    """Training hours that raise a skill by ``factor`` at the simulator's pace: ``hours_per_year / 12`` a month,
    each month multiplying skill by ``1 + gain / 12`` (``sim.seats.Seats.month_end``).

    Examples
    --------
    >>> round(training_hours(1.2, 40.0, 0.05), 1)
    146.2
    >>> training_hours(1.2, 40.0, 0.0)
    nan
    """
    if factor <= 1.0:
        return 0.0
    if gain <= 0.0 or hours_per_year <= 0.0:
        return float("nan")
    months = math.log(factor) / math.log1p(gain / 12.0)
    return months * hours_per_year / 12.0


@dataclass(frozen=True)
class _Lift:
    row: int  # position in the diagnosis
    rep: str
    stage_id: str
    skill_from: float
    skill_to: float  # NaN when not simulated
    note: str


def _targets(scenario: scenarios.Scenario, diagnosis: pd.DataFrame) -> list[_Lift]:
    model = sim.build(scenario)
    seat = {str(r): i for i, r in enumerate(model.rep_ids)}
    stage = {str(s): j for j, s in enumerate(model.stage_ids)}
    flagged = diagnosis["credibly_worse"].astype(bool).to_numpy()
    lifts = []
    for pos, r in enumerate(diagnosis.to_dict(orient="records")):
        if not flagged[pos]:
            continue
        rep, sid = str(r["rep"]), str(r["stage_id"])
        base, to, note = float("nan"), float("nan"), ""
        if r["measure"] != "conversion":
            note = TIME_NOT_SIMULATED
        elif rep not in seat or sid not in stage:
            note = f"not simulated: the scenario has no rep {rep!r} or stage {sid!r}"
        elif not float(r["shrunk"]) > 0.0:
            note = "not simulated: the rep's shrunk conversion is 0"
        else:
            base = float(model.skill[seat[rep], stage[sid]])
            to = base * float(r["peer_median"]) / float(r["shrunk"])
        lifts.append(_Lift(pos, rep, sid, base, to, note))
    return lifts


def lift_targets(scenario: scenarios.Scenario, diagnosis: pd.DataFrame) -> pd.DataFrame:
    """The lift of each credibly worse rep-stage: ``row`` (its position in the diagnosis), ``rep``, ``stage_id``,
    ``skill_from``, ``skill_to`` (NaN when not simulated) and ``note``.

    A rep or stage the scenario does not have, or a time flag, gets a note and no lift.
    """
    return pd.DataFrame([dataclasses.asdict(t) for t in _targets(scenario, diagnosis)],
                        columns=[f.name for f in dataclasses.fields(_Lift)])


def _outcomes(result: sim.SimulationResult, rep: str) -> np.ndarray:
    """Per replication: the rep's won deals and bookings, and the team's (replications x 4)."""
    rr = result.replication_reps
    mine = rr[rr["rep_id"].astype(str) == rep].groupby("replication")[["won", "bookings"]].sum()
    team = rr.groupby("replication")[["won", "bookings"]].sum()
    return np.column_stack([mine.reindex(team.index).to_numpy(dtype=float), team.to_numpy(dtype=float)])


def _paired(diff: np.ndarray, level: float) -> tuple[float, float, float]:
    mean = float(diff.mean())
    if len(diff) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2.0, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff)))
    return mean, mean - half, mean + half


def _lifted(scenario: scenarios.Scenario, rep: str, stage_id: str, skill: float) -> scenarios.Scenario:
    """A copy of ``scenario`` where ``rep``'s skill at ``stage_id`` is ``skill``; every other value unchanged (a
    rep without their own skill column keeps the tier's skill, which is what the simulator reads for them)."""
    reps = scenario.reps.copy()
    column = f"skill_{stage_id}"
    if column not in reps.columns:
        reps[column] = np.nan
    reps.loc[reps.index.astype(str) == rep, column] = skill
    return scenario.replace(reps=reps)


def simulate_lift(scenario: scenarios.Scenario, diagnosis: pd.DataFrame, *,
                  replications: int = LIFT_REPLICATIONS, seed: int = 0, level: float = LIFT_LEVEL,
                  workers: int = 1) -> pd.DataFrame:
    """The diagnosis with ``LIFT_COLUMNS``: for each credibly worse conversion, the paired simulated effect of
    lifting that rep's stage to the peer median (see the module docstring); NaN for every other row.

    Parameters
    ----------
    scenario
        The calibrated scenario of the same export (``calibration.calibrate``), whose reps are the export's
        owners and whose stages are the diagnosis's ``stage_id``.
    diagnosis
        ``calibration.diagnose`` output.
    replications, seed
        Paired replications and their root seed (both runs of every lift use it: common random numbers).
    level
        Interval level of the effect.
    workers
        Worker processes of each run (results do not depend on it).
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    numbers = np.full((len(diagnosis), len(LIFT_COLUMNS) - 1), np.nan)
    notes = [""] * len(diagnosis)
    per_year = 12.0 / scenario.settings.calendar.months
    s = scenario.settings.simulation
    baseline: sim.SimulationResult | None = None
    for t in _targets(scenario, diagnosis):
        notes[t.row] = t.note
        if not np.isfinite(t.skill_to):
            continue
        if baseline is None:
            baseline = sim.simulate(scenario, replications=replications, seed=seed, workers=workers)
        worked = baseline.reps.loc[baseline.reps["rep_id"].astype(str) == t.rep, f"conversion_{t.stage_id}"]
        if not worked.notna().any():
            notes[t.row] = ("not simulated: in the scenario the rep works no deal at this stage, so the lift cannot "
                            "change the run")
            continue
        run = sim.simulate(_lifted(scenario, t.rep, t.stage_id, t.skill_to), replications=replications, seed=seed,
                           workers=workers)
        diff = (_outcomes(run, t.rep) - _outcomes(baseline, t.rep)) * per_year
        effects = [x for j in range(diff.shape[1]) for x in _paired(diff[:, j], level)]
        hours = training_hours(t.skill_to / t.skill_from, s.training_hours_per_year, s.training_skill_gain)
        numbers[t.row] = [t.skill_from, t.skill_to, hours, *effects, replications]
    out = diagnosis.copy()
    for j, col in enumerate(LIFT_COLUMNS[:-1]):
        out[col] = numbers[:, j]
    out["lift_note"] = notes
    return out


def diagnose_with_lift(export: str | os.PathLike[str], mapping: calibration.Mapping, *,
                       as_of: dt.date | None = None, strict: bool = False, encoding: str | None = None,
                       replications: int = LIFT_REPLICATIONS, seed: int = 0,
                       workers: int = 1) -> calibration.DiagnosisResult:
    """``calibration.diagnose_export`` plus, when a conversion is credibly worse, the simulated effect of lifting
    it (``simulate_lift`` on the scenario ``calibration.calibrate`` makes of the same export and day).

    ``replications = 0`` skips the simulation: the lift columns are present and empty.
    """
    result = calibration.diagnose_export(export, mapping, as_of=as_of, strict=strict, encoding=encoding)
    d = result.diagnosis
    wanted = bool((d["credibly_worse"].astype(bool) & (d["measure"] == "conversion")).any())
    if replications < 1 or not wanted:
        table = d.copy()
        for col in LIFT_COLUMNS:
            table[col] = "" if col == "lift_note" else np.nan
        flagged = table["credibly_worse"].astype(bool)
        if replications < 1:
            table.loc[flagged, "lift_note"] = "not simulated: --replications 0"
        else:
            table.loc[flagged & (table["measure"] != "conversion"), "lift_note"] = TIME_NOT_SIMULATED
        note = ("lift not simulated (replications 0)" if replications < 1 and wanted else
                "lift: no credibly worse conversion to simulate")
        return dataclasses.replace(result, diagnosis=table, notes=[*result.notes, note])
    day = result.model.as_of.date()
    cal = calibration.calibrate(export, mapping, as_of=day, strict=strict, encoding=encoding, seed=seed)
    table = simulate_lift(cal.scenario, d, replications=replications, seed=seed, workers=workers)
    note = (f"lift: each credibly worse conversion lifted to the peer median in the scenario calibrated on the same "
            f"export and day, {replications} paired replications, seed {seed}, effects per year with "
            f"{LIFT_LEVEL:.0%} intervals")
    return dataclasses.replace(result, diagnosis=table, notes=[*result.notes, note])

"""What-ifs on a scenario folder without Python: an editable copy of a scenario (``copy_scenario``), new reps
(``add_reps``) and reps taken out (``remove_reps``), each written so that no half-edited scenario is ever left.

An edit changes the tables in memory, writes the whole edited scenario into a staging folder inside the
scenario folder, loads that staging copy with every check ``quotaflow validate`` runs (and, when reps are
removed, the allocator's pre-check that every account keeps an eligible rep), and only then moves the table files
the edit rewrote into place, each by an atomic rename, rolling back the ones already moved if a later one fails.
``scenario.toml`` and every table the edit did not touch keep their bytes (comments, encoding, separators); a
rewritten table is UTF-8 with commas, as ``scenarios.save`` writes it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

import optimizer
import scenarios
from quotaflow.errors import OutputError

__all__ = ["EditResult", "add_reps", "copy_scenario", "remove_reps"]

_TOML = "scenario.toml"


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the files it rewrote (relative to the scenario folder) and lines for the planner."""

    folder: Path
    files: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    rep_ids: tuple[str, ...] = field(default_factory=tuple)


def _problem(message: str, fix: str, *, file: str = "command line", column: str | None = None,
             value: str | None = None) -> scenarios.ScenarioError:
    return scenarios.ScenarioError(scenarios.Problem(file, message, fix, column=column, value=value))


@contextmanager
def _source_folder(source: str) -> Iterator[Path]:
    """The folder a scenario argument names: the folder itself, or a bundled scenario's folder in the package."""
    path = Path(source)
    if path.is_dir():
        yield path
        return
    if source in scenarios.bundled():
        with ExitStack() as stack:
            yield stack.enter_context(resources.as_file(resources.files("scenarios").joinpath("bundled", source)))
        return
    raise _problem(f"{source!r} is neither a scenario folder nor a bundled scenario",
                   f"give a folder holding scenario.toml, or one of: {', '.join(scenarios.bundled())}",
                   file=source)


def _table_files(scenario: scenarios.Scenario, folder: Path) -> list[str]:
    """The files a scenario consists of, relative to its folder: ``scenario.toml`` and its tables."""
    tables = scenario.settings.tables
    files = [_TOML, tables.reps, tables.accounts]
    pairs = tables.rep_accounts or "rep_accounts.csv"
    if tables.rep_accounts is not None or (folder / pairs).is_file():
        files.append(pairs)
    return files


def copy_scenario(source: str, target: str | os.PathLike[str], *, encoding: str | None = None,
                  decimal: str = ".") -> EditResult:
    """Copy a bundled scenario or a scenario folder into ``target``, byte for byte, as an editable scenario.

    Only the scenario's own files are copied (``scenario.toml`` and the tables it names), so outputs or notes
    kept beside a scenario are not dragged along. The copy is made in a staging folder beside ``target`` and
    renamed into place, so ``target`` is either the whole copy or untouched.

    Raises
    ------
    scenarios.ScenarioError
        The source is not a valid scenario (exit code 2).
    quotaflow.errors.OutputError
        ``target`` exists and is not an empty folder, or is or lies inside the source (exit code 5).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "my-tiny"
    >>> sorted(copy_scenario("tiny", out).files)
    ['accounts.csv', 'reps.csv', 'scenario.toml']
    """
    scenario = scenarios.load(source, encoding=encoding, decimal=decimal)  # refuse a broken source up front
    dest = Path(target).absolute()
    with _source_folder(source) as folder:
        real_source, real_dest = folder.resolve(), dest.resolve()
        if real_dest == real_source or real_dest.is_relative_to(real_source):
            raise OutputError(f"{dest} is or lies inside the scenario being copied ({folder}); choose a folder "
                              "outside it")
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise OutputError(f"{dest} already exists and is not an empty folder; choose a new folder (a copy "
                              "never writes over existing files)")
        files = _table_files(scenario, folder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.quotaflow-copy-", dir=dest.parent))
        try:
            for relative in files:
                (stage / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / relative, stage / relative)
            os.chmod(stage, 0o777 & ~_umask())
            os.replace(stage, dest)  # an empty target folder is replaced in the same step
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    return EditResult(dest, tuple(files), (f"copied {scenario.name!r} from {source}",))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _editable(folder: str | os.PathLike[str]) -> Path:
    path = Path(folder)
    if not path.is_dir():
        hint = (f"{path} is a bundled scenario's name: make an editable copy first with "
                f"'quotaflow scenario copy {path} my-{path}'" if str(path) in scenarios.bundled()
                else "give the scenario folder (it holds scenario.toml)")
        raise _problem(f"{path} is not a scenario folder", hint, file=str(path))
    return path


PREVIOUS = ".quotaflow-previous"
"""Folder inside an edited scenario where each edit keeps the tables it replaced (one sub-folder per edit)."""


def _write_edit(folder: Path, original: scenarios.Scenario, edited: scenarios.Scenario, touched: Sequence[str],
                *, encoding: str | None, decimal: str) -> tuple[scenarios.Scenario, tuple[str, ...], Path | None]:
    """Stage, check and publish an edit of ``folder``: only the ``touched`` tables are rewritten, and the tables
    they replace are kept, never deleted, under ``folder/.quotaflow-previous/<UTC time>/`` (the third value, None
    when nothing changed), since the folder may be the planner's own.

    The staging folder lives inside ``folder`` so that each rename stays on one file system (and so atomic).
    """
    files = _table_files(original, folder)
    stage = Path(tempfile.mkdtemp(prefix=".quotaflow-edit-", dir=folder))
    moved: list[tuple[Path, Path]] = []
    kept_in: Path | None = None
    try:
        scenarios.save(edited, stage, overwrite=True)
        for relative in files:  # everything the edit did not rewrite keeps its exact bytes
            if relative not in touched:
                (stage / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / relative, stage / relative)
        checked = scenarios.load(stage, encoding=encoding, decimal=decimal)  # the checks of quotaflow validate
        changed = [r for r in touched if (stage / r).read_bytes() != (folder / r).read_bytes()]
        if changed:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            kept_in = folder / PREVIOUS / stamp
            kept_in.mkdir(parents=True)
        for relative in changed:
            assert kept_in is not None
            kept = kept_in / relative.replace(os.sep, "__")
            os.replace(folder / relative, kept)
            moved.append((folder / relative, kept))
            os.replace(stage / relative, folder / relative)
        moved.clear()
        return checked.replace(source=str(folder)), tuple(changed), kept_in
    except BaseException:
        for final, kept in reversed(moved):  # put back what was already replaced: all or nothing
            os.replace(kept, final)
        if kept_in is not None:
            with suppress(OSError):  # rmdir, not rmtree: a table that could not be put back stays where it is
                kept_in.rmdir()
                kept_in.parent.rmdir()  # only when no earlier edit kept tables there
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _kept_note(folder: Path, kept_in: Path | None) -> list[str]:
    if kept_in is None:
        return []
    return [f"the replaced table(s) are kept in {kept_in.relative_to(folder)} (delete that folder when you no "
            "longer need them)"]


_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def new_rep_ids(existing: Sequence[str], count: int) -> list[str]:
    """``count`` rep ids that follow the scenario's own numbering and clash with none of ``existing``.

    The most common ``<prefix><digits>`` pattern continues after its highest number with the same width;
    ids without such a pattern get ``NEW_1``, ``NEW_2``, ... (skipping any taken).

    Examples
    --------
    >>> new_rep_ids(["R0001", "R0007", "X12"], 2)
    ['R0008', 'R0009']
    >>> new_rep_ids(["anna", "bob"], 1)
    ['NEW_1']
    """
    taken = set(existing)
    prefixes: dict[str, list[tuple[int, int]]] = {}
    for rep_id in existing:
        m = _NUMBERED.match(rep_id)
        if m:
            prefixes.setdefault(m.group(1), []).append((int(m.group(2)), len(m.group(2))))
    if prefixes:
        prefix = max(prefixes, key=lambda p: (len(prefixes[p]), p))
        number = max(n for n, _ in prefixes[prefix])
        width = max(w for _, w in prefixes[prefix])
    else:
        prefix, number, width = "NEW_", 0, 1
    out: list[str] = []
    while len(out) < count:
        number += 1
        candidate = f"{prefix}{number:0{width}d}"
        if candidate not in taken:
            out.append(candidate)
            taken.add(candidate)
    return out


def _mode(values: pd.Series) -> str | None:
    counts = values.astype(str).value_counts()
    if counts.empty:
        return None
    best = counts[counts == counts.max()].index
    return str(sorted(best)[0])  # ties go to the first in sort order, so the choice is reproducible


def add_reps(folder: str | os.PathLike[str], *, region: str, tier: str, count: int,
             base_salary: float | None = None, hire_date: dt.date | None = None, pay_plan: str | None = None,
             role: str | None = None, encoding: str | None = None, decimal: str = ".") -> EditResult:
    """Add ``count`` reps of ``tier`` in ``region`` to the scenario in ``folder`` (``reps.csv`` is rewritten).

    Each new rep gets an id in the scenario's own numbering (`new_rep_ids`) and the name ``New <tier> <region>
    <k>``. Values, unless given:

    - ``hours_per_week``: the tier's ``[tiers.<tier>] hours_per_week``, the scenario's stated normal selling
      hours of that rung (a median of today's reps would copy individual part-time arrangements);
    - ``base_salary``: the median base salary of the tier's reps in that region, else of the tier's reps in
      every region (the scenario has no salary per tier; the median is what a new hire would most likely be
      offered, and is not pulled by one senior outlier);
    - ``role`` and ``pay_plan_id``: the most common among the tier's reps in that region, else in every region;
    - ``hire_date``: the calendar's start, so the new rep ramps up as the tier's ``ramp_months`` say;
    - office ``latitude``/``longitude``: the median of the region's reps' offices (else its accounts);
    - skills: empty, i.e. the tier's skills.

    Raises
    ------
    scenarios.ScenarioError
        Unknown tier, region or pay plan; a scenario with a ``rep_accounts`` pair table (a new rep would have no
        candidate pair, so the edit could not change an allocation); no rep of the tier to take a salary from
        and no ``base_salary``; an edited scenario that fails a check (exit code 2).
    """
    path = _editable(folder)
    s = scenarios.load(path, encoding=encoding, decimal=decimal)
    if count < 1:
        raise _problem(f"--count {count}", "add at least one rep", column="--count", value=str(count))
    if tier not in s.settings.tiers:
        raise _problem(f"unknown tier {tier!r}", scenarios.did_you_mean(tier, s.settings.tiers)
                       + f"use a tier of scenario.toml [tiers]: {sorted(s.settings.tiers)}", file=_TOML,
                       column="--tier", value=tier)
    if region not in s.regions:
        raise _problem(f"unknown region {region!r}", scenarios.did_you_mean(region, s.regions)
                       + f"use a region of the reps or accounts: {s.regions} (a rep in a region with no accounts "
                       "could not change any result)", column="--region", value=region)
    if s.rep_accounts is not None:
        raise _problem("the scenario lists its candidate pairs in a rep_accounts table, so a new rep would have "
                       "no pair and could serve no account", "add the new rep's rows to reps.csv and to the pair "
                       "table by hand, or remove the pair table to let the allocator derive the pairs",
                       file=s.settings.tables.rep_accounts or "rep_accounts.csv")
    if pay_plan is not None and pay_plan not in s.settings.pay_plans:
        raise _problem(f"unknown pay plan {pay_plan!r}", scenarios.did_you_mean(pay_plan, s.settings.pay_plans)
                       + f"use one of {sorted(s.settings.pay_plans)}", column="--pay-plan", value=pay_plan)
    reps = s.reps
    same = reps[(reps["tier"] == tier) & (reps["region"] == region)]
    pool = same if len(same) else reps[reps["tier"] == tier]
    notes: list[str] = []
    if base_salary is None:
        if pool.empty:
            raise _problem(f"no rep of tier {tier!r} to take a base salary from",
                           "give --base-salary for the new reps", column="--base-salary")
        base_salary = float(pool["base_salary"].median())
        notes.append(f"base salary {base_salary:,.0f}: the median of {len(pool)} {tier} rep(s) "
                     + (f"in {region}" if len(same) else "in every region (none in " + region + ")"))
    role = role or _mode(pool["role"]) or "hybrid"
    pay_plan = pay_plan or _mode(pool["pay_plan_id"]) or _mode(reps["pay_plan_id"])
    offices = reps[reps["region"] == region]
    where = offices if len(offices) else s.accounts[s.accounts["region"] == region]
    ids = new_rep_ids([str(r) for r in reps.index], count)
    start = hire_date or s.settings.calendar.start
    rows = pd.DataFrame({
        "name": [f"New {tier} {region} {k + 1}" for k in range(count)],
        "tier": tier, "role": role, "region": region,
        "latitude": float(where["latitude"].median()), "longitude": float(where["longitude"].median()),
        "hours_per_week": float(s.settings.tiers[tier].hours_per_week), "base_salary": base_salary,
        "hire_date": start, "pay_plan_id": pay_plan,
    }, index=pd.Index(ids, name=reps.index.name))
    new = pd.concat([reps, rows.astype({c: reps[c].dtype for c in rows.columns if c in reps.columns})])
    new = new[reps.columns]
    checked, changed, kept_in = _write_edit(path, s, s.replace(reps=new), [s.settings.tables.reps],
                                            encoding=encoding, decimal=decimal)
    notes.insert(0, f"added {count} {tier} rep(s) in {region}: {', '.join(ids)} ({role}, pay plan {pay_plan}, "
                    f"{rows['hours_per_week'].iloc[0]:g} h/week from [tiers.{tier}], hired {start.isoformat()})")
    notes += _new_rep_limits(checked)
    notes.append(f"the scenario now has {len(checked.reps)} reps; plan folders made for it before are now "
                 "reported as made for another scenario")
    notes += _kept_note(path, kept_in)
    return EditResult(path, changed, tuple(notes), tuple(ids))


def _new_rep_limits(s: scenarios.Scenario) -> list[str]:
    """What may stop an allocation from giving the new reps work: they hold no account today, so every account
    they get counts against the disruption budget, while a balance band's floor asks them for a share of it."""
    st = s.settings.optimizer
    budgets = ([f"max_moved_share = {st.max_moved_share:g}"] if st.max_moved_share is not None else []) + (
        [f"max_moves = {st.max_moves:g}"] if st.max_moves is not None else [])
    floors = [f"the {b.attribute} balance band's min = {b.min:g}" + (" x the mean" if b.relative else "")
              for b in st.balance if b.min is not None and b.min > 0]
    if not budgets or not floors:
        return []
    return [f"note: the new reps hold no account today, so every account the allocator gives them counts as moved "
            f"against [optimizer] {' and '.join(budgets)}, while {' and '.join(floors)} asks each of them for a "
            "share of the work; if 'quotaflow allocate' then reports the scenario infeasible, loosen one of those "
            "limits"]


def remove_reps(folder: str | os.PathLike[str], rep_ids: Sequence[str], *, encoding: str | None = None,
                decimal: str = ".") -> EditResult:
    """Take reps out of the scenario in ``folder``: their rows leave ``reps.csv``, the accounts they hold today
    lose their current rep (``current_rep_id`` empty: unassigned, so the allocator places them without counting a
    move), and their rows leave the ``rep_accounts`` pair table.

    Refused, with nothing written, when the removal would leave an account without an eligible rep or a region
    without the hours its accounts need (``optimizer.precheck`` on the edited scenario finds problems the
    original does not have), when a rep is named in ``[optimizer] locks`` or ``exclusions`` (edit
    ``scenario.toml`` first), or when no rep would be left.

    Raises
    ------
    scenarios.ScenarioError
        As above, or an unknown rep id (exit code 2).
    """
    path = _editable(folder)
    s = scenarios.load(path, encoding=encoding, decimal=decimal)
    ids = list(dict.fromkeys(str(r) for r in rep_ids))
    if not ids:
        raise _problem("no rep given", "name reps with --rep ID (repeatable)", column="--rep")
    known = [str(r) for r in s.reps.index]
    unknown = [r for r in ids if r not in known]
    if unknown:
        raise _problem(f"unknown rep id(s) {unknown}", "".join(scenarios.did_you_mean(r, known) for r in unknown)
                       + "use rep_id values of reps.csv", file=s.settings.tables.reps, column="rep_id",
                       value=unknown[0])
    if len(ids) == len(known):
        raise _problem("every rep would be removed", "keep at least one rep", column="--rep")
    st = s.settings.optimizer
    named = sorted({r for r in st.locks.values() if r in ids} | {r for r in st.exclusions if r in ids}
                   | {r for reps_ in st.exclusions.values() for r in reps_ if r in ids})
    if named:
        raise _problem(f"rep(s) {named} are named in [optimizer] locks or exclusions",
                       "remove those entries from scenario.toml first (quotaflow does not rewrite it, to keep "
                       "your comments)", file=_TOML, column="optimizer.locks", value=named[0])
    gone = set(ids)
    accounts = s.accounts.copy()
    held = accounts["current_rep_id"].isin(gone).to_numpy()
    accounts.loc[held, "current_rep_id"] = np.nan
    pairs = s.rep_accounts
    touched = [s.settings.tables.reps]
    if held.any():
        touched.append(s.settings.tables.accounts)
    if pairs is not None:
        keep = ~pairs.index.get_level_values("rep_id").isin(gone)
        if not keep.all():
            pairs = pairs[keep]
            touched.append(s.settings.tables.rep_accounts or "rep_accounts.csv")
    edited = s.replace(reps=s.reps.drop(index=ids), accounts=accounts, rep_accounts=pairs)
    before = set(optimizer.precheck(s, optimizer.prepare(s)))
    after = [r for r in optimizer.precheck(edited, optimizer.prepare(edited)) if r not in before]
    if after:
        raise _problem("without rep(s) " + ", ".join(ids) + " the allocation could not cover the accounts: "
                       + "; ".join(after),
                       "remove fewer reps, add reps to the region (quotaflow scenario add-reps), or set "
                       "[optimizer] allow_uncovered = true to let accounts go unserved", column="--rep")
    _, changed, kept_in = _write_edit(path, s, edited, touched, encoding=encoding, decimal=decimal)
    regions = s.reps.loc[ids, "region"].value_counts()
    notes = [f"removed {len(ids)} rep(s): {', '.join(ids)} ("
             + ", ".join(f"{n} in {r}" for r, n in regions.items()) + ")"]
    if held.any():
        notes.append(f"{int(held.sum())} account(s) they held today are now unassigned (current_rep_id empty); "
                     "an allocation assigns them without counting them as moved, a simulation of today's "
                     "assignment leaves them unserved")
    notes += _kept_note(path, kept_in)
    return EditResult(path, changed, tuple(notes))

"""Old names a scenario may still use, read with a note that names the new one.

An incentive scheme is a *pay plan* (``[pay_plans.<id>]`` in scenario.toml, ``pay_plan_id`` in reps.csv,
``pay_plans.<id>.…`` in what-if paths), because "plan" means the assignment / quotas / budget hand-off
(``scenarios.Plan``). Files and options written with the old names ``[plans]``, ``plan_id`` and ``plans.…`` keep
working: each old name is read as its new one and raises a `ScenarioDeprecationWarning` whose message says what to
rename (the CLI prints it as one ``warning:`` line). A file that holds an old name and its new one together is
refused, since the two could disagree. Saving always writes the new names.

One key was split rather than renamed: ``[behaviour] customer_flexibility`` (one share of customers for both
directions of a timing game) is read as both ``customer_pull_share`` and ``customer_push_share`` at its value, with
the same kind of note (`SPLIT_KEYS`).

Fingerprints (``scenarios.fingerprint``) hash the content under the old names (`fingerprinted_settings`,
`fingerprinted_header`): a fingerprint identifies what a scenario says, not how its keys are spelt, so plan folders
(``plan.json``) and resumable sweeps made for a scenario stay valid for it whichever names its files use.

Examples
--------
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     raw = upgrade_settings({"name": "x", "plans": {"flat": {}}})
>>> list(raw)
['name', 'pay_plans']
>>> print(caught[0].message)
scenario.toml: [plans] is the old name of [pay_plans]; rename it (quotaflow reads both for now)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from scenarios.errors import Problem, ScenarioError

__all__ = ["RENAMED_COLUMNS", "RENAMED_SECTIONS", "SPLIT_KEYS", "ScenarioDeprecationWarning", "fingerprinted_header",
           "fingerprinted_settings", "upgrade_header", "upgrade_path", "upgrade_settings"]

RENAMED_SECTIONS: Mapping[str, str] = {"plans": "pay_plans"}
"""Top-level keys of scenario.toml (and first parts of settings what-if paths): old name -> new name."""

RENAMED_COLUMNS: Mapping[str, Mapping[str, str]] = {"reps": {"plan_id": "pay_plan_id"}}
"""Columns of the CSV tables, per table: old name -> new name."""

SPLIT_KEYS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("behaviour", "customer_flexibility"): ("customer_pull_share", "customer_push_share")}
"""Keys of a scenario.toml section that became several: (section, old key) -> new keys, each read at the old
value."""

_READS_BOTH = "quotaflow reads both for now"


class ScenarioDeprecationWarning(DeprecationWarning):
    """A scenario file, table or what-if path uses an old name; the message says which and what to write instead.

    The CLI shows each as a ``warning:`` line on stderr; in Python, ``warnings.simplefilter("error",
    ScenarioDeprecationWarning)`` turns them into errors (to find every old name before they stop being read).
    """


def _note(message: str) -> None:
    # stacklevel 3 points at the caller of the upgrade_* function (the loader), not at this helper
    warnings.warn(message, ScenarioDeprecationWarning, stacklevel=3)


def _renamed_keys(mapping: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """``mapping`` with keys renamed in place (the order of keys is kept, so written files keep their layout)."""
    return {renames.get(key, key): value for key, value in mapping.items()}


def upgrade_settings(raw: Mapping[str, Any], file: str = "scenario.toml") -> dict[str, Any]:
    """Parsed scenario.toml with old section names read as their new ones (`RENAMED_SECTIONS`).

    Raises
    ------
    ScenarioError
        When the file holds an old section and its new one together.
    """
    present = {old: new for old, new in RENAMED_SECTIONS.items() if old in raw}
    for old, new in present.items():
        if new in raw:
            raise ScenarioError(Problem(file, f"holds both [{old}] and [{new}]",
                                        f"keep [{new}] only ([{old}] is its old name): move what [{old}] adds "
                                        f"into [{new}] and delete [{old}]", column=old))
        _note(f"{file}: [{old}] is the old name of [{new}]; rename it ({_READS_BOTH})")
    out = _renamed_keys(raw, present) if present else dict(raw)
    for (section, old), news in SPLIT_KEYS.items():
        part = out.get(section)
        if not isinstance(part, Mapping) or old not in part:
            continue
        clash = [new for new in news if new in part]
        if clash:
            raise ScenarioError(Problem(file, f"[{section}] holds both '{old}' and '{clash[0]}'",
                                        f"delete '{old}' (its old name): it is read as {' and '.join(news)}",
                                        column=old))
        written = ", ".join(f"{new} = {part[old]}" for new in news)
        _note(f"{file}: [{section}] {old} is now {' and '.join(news)}; write {written} ({_READS_BOTH})")
        out[section] = {**{k: v for k, v in part.items() if k != old}, **dict.fromkeys(news, part[old])}
    return out


def upgrade_header(header: Sequence[str], table: str, file: str) -> list[str]:
    """A table's header row with old column names read as their new ones (`RENAMED_COLUMNS`).

    Raises
    ------
    ScenarioError
        When the header holds an old column and its new one together.

    Examples
    --------
    >>> upgrade_header(["rep_id", "tier"], "reps", "reps.csv")
    ['rep_id', 'tier']
    """
    renames = RENAMED_COLUMNS.get(table, {})
    out = list(header)
    for old, new in renames.items():
        if old not in out:
            continue
        if new in out:
            raise ScenarioError(Problem(file, f"has both columns '{old}' and '{new}'",
                                        f"keep '{new}' only ('{old}' is its old name) and delete the '{old}' column",
                                        line=1, column=old))
        _note(f"{file}: column '{old}' is the old name of '{new}'; rename it ({_READS_BOTH})")
        out[out.index(old)] = new
    return out


def _column_pattern(old: str) -> re.Pattern[str]:
    """``old`` as the column of a table path or of its row filter (``reps.<old>``, ``reps[<old>=...]``)."""
    return re.compile(rf"(?<=[.\[]){re.escape(old)}(?=$|[=*])")


def upgrade_path(path: str, where: str) -> str:
    """A what-if path with old names replaced by their new ones (``plans.a.commission_rate`` ->
    ``pay_plans.a.commission_rate``, ``reps[plan_id=a].hours_per_week`` -> ``reps[pay_plan_id=a]...``).

    Raises
    ------
    ScenarioError
        For a key that was split (`SPLIT_KEYS`): the message names the keys to set instead.

    ``where`` names the source for the note (``--set``, a grid file).

    Examples
    --------
    >>> upgrade_path("tiers.junior.hours_per_week", "--set")
    'tiers.junior.hours_per_week'
    """
    first, dot, rest = path.partition(".")
    news = SPLIT_KEYS.get((first, rest))
    if news is not None:  # one what-if cannot set two keys: say which to set
        raise ScenarioError(Problem(where, f"'{path}' was split into {' and '.join(f'{first}.{n}' for n in news)}",
                                    f"set {' and '.join(f'{first}.{n}' for n in news)} instead", column=path))
    new_path = path
    if first in RENAMED_SECTIONS:
        new_path = RENAMED_SECTIONS[first] + dot + rest
    else:
        table = re.split(r"[.\[]", path, maxsplit=1)[0]
        for old, new in RENAMED_COLUMNS.get(table, {}).items():
            new_path = _column_pattern(old).sub(new, new_path)
    if new_path != path:
        _note(f"{where}: '{path}' uses an old name; write '{new_path}' ({_READS_BOTH})")
    return new_path


def fingerprinted_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Dumped settings with renamed sections under their old names, as ``scenarios.fingerprint`` hashes them (see
    the module docstring for why).

    Examples
    --------
    >>> list(fingerprinted_settings({"name": "x", "pay_plans": {}}))
    ['name', 'plans']
    """
    return _renamed_keys(settings, {new: old for old, new in RENAMED_SECTIONS.items()})


def fingerprinted_header(header: bytes, table: str) -> bytes:
    """A table's CSV header line with renamed columns under their old names, as ``scenarios.fingerprint`` hashes
    it.

    Examples
    --------
    >>> fingerprinted_header(b"rep_id,pay_plan_id", "reps")
    b'rep_id,plan_id'
    """
    old = {new.encode(): prev.encode() for prev, new in RENAMED_COLUMNS.get(table, {}).items()}
    return b",".join(old.get(cell, cell) for cell in header.split(b","))

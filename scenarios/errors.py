"""The one error type of the scenario layer and the problem records it carries.

Every message names where the problem is (file, line, column), what was found (the value) and how to mend it,
so that a planner can fix a spreadsheet without reading Python.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "ScenarioError", "did_you_mean"]

_MAX_LISTED = 20


def did_you_mean(word: str, choices: Iterable[object]) -> str:
    """``"did you mean 'x'? "`` for the choice closest to a mistyped ``word`` (difflib's ratio of at least 0.6),
    else empty text: the start of a fix for a typo in a key, a column or an id.

    Examples
    --------
    >>> did_you_mean("timing_game", ["timing_games", "enabled"]), did_you_mean("zzz", ["timing_games"])
    ("did you mean 'timing_games'? ", '')
    """
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f"did you mean {close[0]!r}? " if close else ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Parameters
    ----------
    file
        File the problem is in (``reps.csv``, ``scenario.toml``, ...).
    message
        What is wrong, in plain words.
    fix
        How to mend it.
    line
        1-based line of the file (the header is line 1), when the problem is in one row.
    column
        Column (CSV) or dotted key (TOML) concerned.
    value
        The offending value as text.
    """

    file: str
    message: str
    fix: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        shown = ""
        if self.value is not None:
            text = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            shown = f" (value {text!r})"
        return f"{where}: {self.message}{shown}. Fix: {self.fix}"


class ScenarioError(ValueError):
    """A scenario that cannot be used as it is; carries every problem found.

    Examples
    --------
    >>> err = ScenarioError([Problem("reps.csv", "rep_id is duplicated", "make ids unique", line=3,
    ...                              column="rep_id", value="r1")])
    >>> print(err)
    reps.csv line 3, column 'rep_id': rep_id is duplicated (value 'r1'). Fix: make ids unique
    """

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:
            raise ValueError("ScenarioError needs at least one problem")
        super().__init__(self._text())

    def _text(self) -> str:
        lines = [str(p) for p in self.problems[:_MAX_LISTED]]
        if len(self.problems) > _MAX_LISTED:
            lines.append(f"... and {len(self.problems) - _MAX_LISTED} more problems")
        if len(lines) == 1:
            return lines[0]
        return f"{len(self.problems)} problems:\n" + "\n".join(f"  - {line}" for line in lines)

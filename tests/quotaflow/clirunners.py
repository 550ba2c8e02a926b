"""CLI runners shared by the application's tests."""

from __future__ import annotations

import inspect
from typing import Any

from typer.testing import CliRunner


def stderr_apart() -> CliRunner:
    """A runner whose result keeps stderr apart on every click version (before click 8.2 it had to be asked for;
    8.2 removed the option and always keeps it)."""
    options: dict[str, Any] = {}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        options["mix_stderr"] = False
    return CliRunner(**options)

"""The pydantic base every settings type shares: unknown keys rejected, values frozen, NaN/inf refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    """Base for settings types: rejects unknown keys and non-finite numbers, and is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, validate_default=True)

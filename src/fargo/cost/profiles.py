"""The profiles `fargo cost --profile` prices a manifest as. Names only, in a module of
their own, so the command line offers them without loading the estimator."""

from __future__ import annotations

from typing import Literal

Profile = Literal["lean", "standard", "production"]
PROFILES: tuple[Profile, ...] = ("lean", "standard", "production")

"""The one record type of every bank of deliberately broken implementations."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Broken"]


@dataclass(frozen=True)
class Broken:
    """Source that redefines ``function``; it must fail at least the checks ``must_fail``
    (property names of ``function``) and cost points nowhere else."""

    name: str
    function: str
    must_fail: tuple[str, ...]
    source: str

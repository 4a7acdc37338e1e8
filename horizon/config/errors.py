"""Configuration errors and warnings as values: collected, sorted, printed by the command line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ConfigError:
    """One problem in one client file, located by line and column (both 1-based)."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.path}: {self.message}"


@dataclass(frozen=True, order=True)
class ConfigWarning(ConfigError):
    """Something in a client file Horizon cannot vouch for; the file stays valid."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.path}: warning: {self.message}"

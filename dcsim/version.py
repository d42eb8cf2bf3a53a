"""The installed dcsim version (a leaf module: imports nothing from dcsim)."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("dcsim")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.1.0"

__all__ = ["__version__"]

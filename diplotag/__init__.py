"""diplotag: topics, stance and rhetoric for every sentence of French diplomatic news."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("diplotag")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]

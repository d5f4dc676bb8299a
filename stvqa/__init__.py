"""stvqa: spatial VQA datasets from scene graphs, and dense spatial rewards for GRPO."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stvqa")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

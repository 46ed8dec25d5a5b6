"""partnersim: an agent-based model (Mesa) of health and social-care partnerships."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("partnersim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

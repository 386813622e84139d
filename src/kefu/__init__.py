"""Kefu (客服): customer service for digital wallets, Chinese first."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kefu")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

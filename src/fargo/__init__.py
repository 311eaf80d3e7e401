"""fargo: deploy a full-stack container backend to your own AWS account from one file."""

__version__ = "0.1.0"

__all__ = ["__version__"]

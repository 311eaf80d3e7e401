"""The App model: what to deploy, as frozen dataclasses with no I/O and no boto3."""

from fargo.model.app import App, Database, HttpRoute, Network, SecretRef, Service, StackKind
from fargo.model.build import build_app

__all__ = [
    "App",
    "Database",
    "HttpRoute",
    "Network",
    "SecretRef",
    "Service",
    "StackKind",
    "build_app",
]

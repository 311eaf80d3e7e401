"""Execute: the only stage that writes. Runs change sets in order and streams stack events."""

from fargo.execute.destroy import Destroyer, DestroyResult
from fargo.execute.executor import DeployResult, Executor

__all__ = ["DeployResult", "DestroyResult", "Destroyer", "Executor"]

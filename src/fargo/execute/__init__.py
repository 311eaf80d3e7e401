"""Execute: the only stage that writes. Runs change sets in order and streams stack events."""

from fargo.execute.destroy import Destroyer, DestroyResult
from fargo.execute.executor import DeployResult, DisplayOnlyExecutor, Executor

__all__ = ["DeployResult", "DestroyResult", "Destroyer", "DisplayOnlyExecutor", "Executor"]

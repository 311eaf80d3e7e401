"""Deploy as a plan of steps: typed, frozen instructions with their inputs as data.

The planner returns them (`fargo.steps.planner`), `deploy` runs them through one runner
(`fargo.steps.runner`) and `plan` prints the very same list (`fargo.steps.display`).
"""

from fargo.steps.model import (
    STEP_KINDS,
    ApplyStack,
    CheckPreflight,
    EnsureCertificate,
    OutputOf,
    Pending,
    PublishImage,
    PublishSite,
    RecordRelease,
    RemoveStack,
    RunReleaseTask,
    SpliceDistribution,
    Step,
    WaitForRollout,
    WriteDnsRecords,
    step_json,
)

__all__ = [
    "STEP_KINDS",
    "ApplyStack",
    "CheckPreflight",
    "EnsureCertificate",
    "OutputOf",
    "Pending",
    "PublishImage",
    "PublishSite",
    "RecordRelease",
    "RemoveStack",
    "RunReleaseTask",
    "SpliceDistribution",
    "Step",
    "WaitForRollout",
    "WriteDnsRecords",
    "step_json",
]

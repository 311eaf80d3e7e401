"""Container images: read OCI image layouts and push them to a registry (ECR, or any OCI
distribution registry) without docker or the AWS CLI. Builders live in `build*.py`."""

from fargo.images.auth import BasicCredentials, Credentials
from fargo.images.blob_locations import BlobLocations
from fargo.images.errors import LayoutError, RegistryError
from fargo.images.progress import BlobOutcome, PushProgress, PushStats
from fargo.images.push import PushOptions, PushResult, push
from fargo.images.reference import ImageReference

__all__ = [
    "BasicCredentials",
    "BlobLocations",
    "BlobOutcome",
    "Credentials",
    "ImageReference",
    "LayoutError",
    "PushOptions",
    "PushProgress",
    "PushResult",
    "PushStats",
    "RegistryError",
    "push",
]

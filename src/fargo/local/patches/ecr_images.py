"""DescribeImages refuses an image id that names no image.

Gap (ministack 1.5.33): DescribeImages with `imageIds` leaves out the ids it cannot find
and answers 200 with what is left, so a tag never pushed looks like an empty answer. On
AWS it fails with ImageNotFoundException, which fargo's pre-flight image check reads as
"not pushed yet". Now, as on AWS, an image id that matches no image is refused.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace


def refuse_missing_images() -> None:
    ecr = module("ministack.services.ecr")
    find_image: Callable[[str, dict[str, str]], Any] = attr(ecr, "_find_image")
    error_response_json = attr(ecr, "error_response_json")
    registry_id = attr(ecr, "_registry_id")
    repositories: dict[str, Any] = attr(ecr, "_repositories")
    original: Callable[[dict[str, Any]], Any] = attr(ecr, "_describe_images")

    def describe_images(data: dict[str, Any]) -> Any:
        name = data.get("repositoryName", "")
        if name in repositories:
            for image_id in data.get("imageIds") or []:
                if find_image(name, image_id) is None:
                    shown = ", ".join(
                        f"{key}:'{image_id.get(key) or 'null'}'"
                        for key in ("imageDigest", "imageTag")
                    )
                    return error_response_json(
                        "ImageNotFoundException",
                        f"The image with imageId {{{shown}}} does not exist within the "
                        f"repository with name '{name}' in the registry with id "
                        f"'{registry_id()}'",
                        400,
                    )
        return original(data)

    replace(ecr, "_describe_images", describe_images)

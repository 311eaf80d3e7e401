"""ECR's image APIs where ministack's differ from AWS's, one function per gap."""

import json
from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace


def refuse_missing_images() -> None:
    """DescribeImages refuses an image id that names no image.

    Gap (ministack 1.5.33): DescribeImages with `imageIds` leaves out the ids it cannot find
    and answers 200 with what is left, so a tag never pushed looks like an empty answer. On
    AWS it fails with ImageNotFoundException, which fargo's pre-flight image check reads as
    "not pushed yet". Now, as on AWS, an image id that matches no image is refused.
    """
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


def untag_by_tag() -> None:
    """BatchDeleteImage by tag removes that tag, not the image.

    Gap (ministack 1.5.33): an image id given by `imageTag` deletes the whole image, every
    other tag with it. On AWS ("You can remove a tag from an image by specifying the image's
    tag in your request. When you remove the last tag from an image, the image is deleted")
    only that tag goes, and the image with its last tag. Ids given by digest are left to
    ministack, which deletes the image as AWS does.
    """
    ecr = module("ministack.services.ecr")
    find_image: Callable[[str, dict[str, str]], Any] = attr(ecr, "_find_image")
    json_response = attr(ecr, "json_response")
    images: dict[str, list[dict[str, Any]]] = attr(ecr, "_images")
    repositories: dict[str, Any] = attr(ecr, "_repositories")
    original: Callable[[dict[str, Any]], Any] = attr(ecr, "_batch_delete_image")

    def untag(name: str, image: dict[str, Any], tag: str) -> dict[str, Any]:
        """The tag off `image`, the image gone with its last tag."""
        tags: list[str] = image.setdefault("imageTags", [])
        tags.remove(tag)
        if tags:
            image["imageId"] = {"imageDigest": image["imageDigest"], "imageTag": tags[-1]}
        else:
            images[name].remove(image)
        return {"imageIds": [{"imageDigest": image["imageDigest"], "imageTag": tag}]}

    def batch_delete_image(data: dict[str, Any]) -> Any:
        name = data.get("repositoryName", "")
        ids = data.get("imageIds", [])
        if name not in repositories or all(i.get("imageDigest") for i in ids):
            return original(data)
        # Each id in the request's order, as ECR answers them.
        deleted: list[dict[str, str]] = []
        failures: list[dict[str, Any]] = []
        for image_id in ids:
            tagged = None if image_id.get("imageDigest") else find_image(name, image_id)
            if tagged is not None:
                answer = untag(name, tagged, image_id["imageTag"])
            else:  # by digest, or naming no image: ministack answers as ECR does
                _, _, body = original({**data, "imageIds": [image_id]})
                answer = json.loads(body)
            deleted += answer.get("imageIds", [])
            failures += answer.get("failures", [])
        return json_response({"imageIds": deleted, "failures": failures})

    replace(ecr, "_batch_delete_image", batch_delete_image)

"""AWS::S3::Bucket and BucketPolicy: bucket configuration, and the policy's Ref.

Gap 1 (ministack 1.5.33): the Bucket provisioner ignores BucketEncryption, so
GetBucketEncryption answers with S3's default (AES256, BucketKeyEnabled
false) whatever the template asks for, an SSE-KMS key included. It applies
VersioningConfiguration only when the status is Enabled, so an update to
Suspended leaves the bucket versioning. LifecycleConfiguration,
OwnershipControls and Tags are ignored too: GetBucketLifecycleConfiguration
finds no rules and GetBucketTagging no tags.

Each now goes through ministack's own S3 API (PutBucketEncryption,
PutBucketVersioning, PutBucketLifecycleConfiguration, PutBucketOwnershipControls,
PutBucketTagging) with the template's values in the API's shape (a lifecycle
rule's ExpirationInDays is Expiration.Days, its Prefix and TagFilters the
rule's Filter, ...). A dropped property is deleted again, except that a
dropped VersioningConfiguration suspends a versioned bucket, since S3 cannot
turn versioning off once it was on. Only the template's Tags are applied; the
stack's own tags and the aws:cloudformation:* ones are not added.

Gap 2 (ministack 1.5.33): AWS::S3::BucketPolicy's physical id, and so its Ref,
is ``<bucket>-policy``; on AWS it is the policy's primary identifier, the
bucket name. The policy handlers key the policy by the Bucket property, so
only the id they hand back changes.
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any
from xml.sax.saxutils import escape

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, registered, replace

Props = dict[str, Any]
Provisioned = tuple[str, dict[str, Any]]

_TYPE = "AWS::S3::Bucket"
_POLICY = "AWS::S3::BucketPolicy"
_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _s3() -> ModuleType:
    return module("ministack.services.s3")


def _element(tag: str, value: Any) -> str:
    if isinstance(value, bool):
        value = str(value).lower()
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _encryption_xml(encryption: Props) -> bytes:
    """PutBucketEncryption's body for a template's BucketEncryption."""
    rules = []
    for rule in encryption.get("ServerSideEncryptionConfiguration") or []:
        default = rule.get("ServerSideEncryptionByDefault") or {}
        inner = "".join(
            _element(member, default[member])
            for member in ("SSEAlgorithm", "KMSMasterKeyID")
            if default.get(member) not in (None, "")
        )
        body = f"<ApplyServerSideEncryptionByDefault>{inner}</ApplyServerSideEncryptionByDefault>"
        if "BucketKeyEnabled" in rule:
            flag = rule["BucketKeyEnabled"]
            body += _element("BucketKeyEnabled", str(flag).lower() == "true")
        rules.append(f"<Rule>{body}</Rule>")
    return (
        f'<ServerSideEncryptionConfiguration xmlns="{_NS}">{"".join(rules)}'
        "</ServerSideEncryptionConfiguration>"
    ).encode()


def _block(tag: str, members: dict[str, Any]) -> str:
    inner = "".join(_element(k, v) for k, v in members.items() if v not in (None, ""))
    return f"<{tag}>{inner}</{tag}>"


def _lifecycle_filter(rule: Props) -> str:
    tags = [
        f"<Tag>{_element('Key', t.get('Key', ''))}{_element('Value', t.get('Value', ''))}</Tag>"
        for t in rule.get("TagFilters") or []
    ]
    sizes = "".join(
        _element(k, rule[k]) for k in ("ObjectSizeGreaterThan", "ObjectSizeLessThan") if k in rule
    )
    prefix = _element("Prefix", rule.get("Prefix", ""))
    if len(tags) + bool(sizes) + bool(rule.get("Prefix")) > 1:
        return f"<Filter><And>{prefix}{''.join(tags)}{sizes}</And></Filter>"
    if tags:
        return f"<Filter>{tags[0]}</Filter>"
    return f"<Filter>{sizes or prefix}</Filter>"


def _lifecycle_rule(rule: Props) -> str:
    """One template lifecycle rule as the API's Rule element."""
    parts = [_element("ID", rule["Id"])] if rule.get("Id") else []
    parts += [_lifecycle_filter(rule), _element("Status", rule.get("Status", "Enabled"))]
    for transition in [*(rule.get("Transitions") or []), rule.get("Transition")]:
        if transition:
            parts.append(
                _block(
                    "Transition",
                    {
                        "Date": transition.get("TransitionDate"),
                        "Days": transition.get("TransitionInDays"),
                        "StorageClass": transition.get("StorageClass"),
                    },
                )
            )
    expiration = {
        "Date": rule.get("ExpirationDate"),
        "Days": rule.get("ExpirationInDays"),
        "ExpiredObjectDeleteMarker": rule.get("ExpiredObjectDeleteMarker"),
    }
    if any(v is not None for v in expiration.values()):
        parts.append(_block("Expiration", expiration))
    noncurrent = [*(rule.get("NoncurrentVersionTransitions") or [])]
    noncurrent.append(rule.get("NoncurrentVersionTransition"))
    for transition in noncurrent:
        if transition:
            parts.append(
                _block(
                    "NoncurrentVersionTransition",
                    {
                        "NoncurrentDays": transition.get("TransitionInDays"),
                        "StorageClass": transition.get("StorageClass"),
                        "NewerNoncurrentVersions": transition.get("NewerNoncurrentVersions"),
                    },
                )
            )
    expire = dict(rule.get("NoncurrentVersionExpiration") or {})
    if rule.get("NoncurrentVersionExpirationInDays") is not None:
        expire.setdefault("NoncurrentDays", rule["NoncurrentVersionExpirationInDays"])
    if expire:
        parts.append(_block("NoncurrentVersionExpiration", expire))
    if rule.get("AbortIncompleteMultipartUpload"):
        parts.append(
            _block("AbortIncompleteMultipartUpload", rule["AbortIncompleteMultipartUpload"])
        )
    return f"<Rule>{''.join(parts)}</Rule>"


def _lifecycle_xml(lifecycle: Props) -> bytes:
    rules = "".join(_lifecycle_rule(rule) for rule in lifecycle.get("Rules") or [])
    return f'<LifecycleConfiguration xmlns="{_NS}">{rules}</LifecycleConfiguration>'.encode()


def _ownership_xml(ownership: Props) -> bytes:
    rules = "".join(
        f"<Rule>{_element('ObjectOwnership', r['ObjectOwnership'])}</Rule>"
        for r in ownership.get("Rules") or []
        if r.get("ObjectOwnership")
    )
    return f'<OwnershipControls xmlns="{_NS}">{rules}</OwnershipControls>'.encode()


def _tagging_xml(tags: list[Props]) -> bytes:
    tag_set = "".join(
        f"<Tag>{_element('Key', t['Key'])}{_element('Value', t.get('Value', ''))}</Tag>"
        for t in tags
    )
    return f'<Tagging xmlns="{_NS}"><TagSet>{tag_set}</TagSet></Tagging>'.encode()


# Template property -> (API body builder, put function, delete function).
_CONFIGURATIONS: dict[str, tuple[Callable[[Any], bytes], str, str]] = {
    "BucketEncryption": (_encryption_xml, "_put_bucket_encryption", "_delete_bucket_encryption"),
    "LifecycleConfiguration": (_lifecycle_xml, "_put_bucket_lifecycle", "_delete_bucket_lifecycle"),
    "OwnershipControls": (
        _ownership_xml,
        "_put_bucket_ownership_controls",
        "_delete_bucket_ownership_controls",
    ),
    "Tags": (_tagging_xml, "_put_bucket_tagging", "_delete_bucket_tagging"),
}


def _checked(response: tuple[int, Any, Any], what: str) -> None:
    status, _headers, body = response
    if status >= 400:
        raise ValueError(f"{_TYPE} {what} failed: {body!r}")


def _apply(name: str, props: Props, old_props: Props | None) -> None:
    s3, old = _s3(), old_props or {}
    if name not in s3._buckets:
        return
    for prop, (to_xml, put, delete) in _CONFIGURATIONS.items():
        if props.get(prop):
            _checked(getattr(s3, put)(name, to_xml(props[prop])), prop)
        elif old.get(prop):
            getattr(s3, delete)(name)
    status = (props.get("VersioningConfiguration") or {}).get("Status")
    if not status and s3._bucket_versioning.get(name) == "Enabled":
        status = "Suspended" if "VersioningConfiguration" in old else None
    if status:
        versioning = f'<VersioningConfiguration xmlns="{_NS}">{_element("Status", status)}'
        body = (versioning + "</VersioningConfiguration>").encode()
        _checked(s3._put_bucket_versioning(name, body), "VersioningConfiguration")


def _applying(
    create: Callable[..., Provisioned], update: Callable[..., Provisioned]
) -> tuple[Callable[..., Provisioned], Callable[..., Provisioned]]:
    def created(logical_id: str, props: Props, stack_name: str) -> Provisioned:
        name, attributes = create(logical_id, props, stack_name)
        _apply(name, props, None)
        return name, attributes

    def updated(physical_id: str, old_props: Props, new_props: Props, *args: Any) -> Provisioned:
        name, attributes = update(physical_id, old_props, new_props, *args)
        _apply(name, new_props, old_props if name == physical_id else None)
        return name, attributes

    return created, updated


def apply_bucket_configuration() -> None:
    """Closes gap 1 in the module docstring. The update handler creates a
    renamed bucket through the module's create, the engine through the
    registry: both see the wrappers."""
    s3 = _s3()
    for _, put, delete in _CONFIGURATIONS.values():
        attr(s3, put)
        attr(s3, delete)
    for name in ("_buckets", "_bucket_versioning", "_put_bucket_versioning"):
        attr(s3, name)
    provisioners = module("ministack.services.cloudformation.provisioners")
    entry = registered(_TYPE)
    if entry["create"] is not attr(provisioners, "_s3_create") or entry["update"] is not attr(
        provisioners, "_s3_update"
    ):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: {_TYPE} is no longer provisioned "
            "through provisioners._s3_create / _s3_update"
        )
    created, updated = _applying(entry["create"], entry["update"])
    replace(provisioners, "_s3_create", created)
    replace(provisioners, "_s3_update", updated)
    entry.update(create=created, update=updated)


def _bucket_as_id(entry: dict[str, Callable[..., Provisioned]]) -> dict[str, Callable[..., Any]]:
    create, update = entry["create"], entry["update"]

    def created(logical_id: str, props: Props, stack_name: str) -> Provisioned:
        _legacy, attributes = create(logical_id, props, stack_name)
        return str(props.get("Bucket", "")), attributes

    def updated(physical_id: str, old_props: Props, new_props: Props, *args: Any) -> Provisioned:
        legacy, attributes = update(physical_id, old_props, new_props, *args)
        if physical_id == legacy:
            # Created before this patch, under ministack's own id: keep it.
            return legacy, attributes
        return str(new_props.get("Bucket", "")), attributes

    return {"create": created, "update": updated}


def ref_bucket_policy_as_bucket() -> None:
    """Closes gap 2 in the module docstring."""
    entry = registered(_POLICY)
    if entry.get("update_with_logical_id") or entry.get("delete_with_logical_id"):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: {_POLICY} handlers "
            "take other arguments"
        )
    entry.update(_bucket_as_id(entry))

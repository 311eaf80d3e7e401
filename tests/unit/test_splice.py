"""Splicing the API into a distribution fargo does not own: exactly one origin and one
behavior in, nothing else touched, and out again to the byte."""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from fargo.edge.patterns import covers, overlaps
from fargo.edge.splice import (
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CACHING_DISABLED,
    ApiOrigin,
    SpliceConflict,
    api_behavior,
    api_origin,
    config_diff,
    splice,
    unsplice,
)
from fargo.errors import EXIT_UNSAFE
from tests.fixtures.cloudfront import NAMES, differences, load

SECRET = "s3cr3t-verify-value"
API = ApiOrigin(
    origin_id="fargo-shop-prod-api",
    domain_name="shop-prod-1234567890.us-east-1.elb.amazonaws.com",
    https=False,
    header_name="X-Fargo-Origin-Verify",
    header_value=SECRET,
)
# Where the API behavior lands in each fixture (see the ordering rule in fargo.edge.splice).
POSITION = {"rich": 3, "bare": 0, "catch_alls": 2, "spa": 0}
CLOUDFRONT = botocore.session.get_session().get_service_model("cloudfront")


def _behaviors(config: dict[str, Any]) -> list[dict[str, Any]]:
    return list(config["CacheBehaviors"].get("Items", []))


def _quantities(value: Any, path: str = "") -> list[str]:
    """Paths whose Quantity differs from the number of Items."""
    wrong = []
    if isinstance(value, dict):
        if "Quantity" in value and value["Quantity"] != len(value.get("Items", [])):
            wrong.append(path)
        for key, item in value.items():
            wrong += _quantities(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            wrong += _quantities(item, f"{path}[{i}]")
    return wrong


def _behavior(pattern: str, target: str = "bucket") -> dict[str, Any]:
    behavior = copy.deepcopy(load("bare")["DefaultCacheBehavior"])
    return {"PathPattern": pattern, **behavior, "TargetOriginId": target}


def _with_behaviors(*patterns: str) -> dict[str, Any]:
    config = load("bare")
    items = [_behavior(p) for p in patterns]
    config["CacheBehaviors"] = {"Quantity": len(items), "Items": items}
    return config


@pytest.mark.parametrize("name", NAMES)
def test_splice_adds_exactly_one_origin_and_one_behavior(name: str) -> None:
    original = load(name)
    spliced = splice(original, API)

    expected = load(name)
    origins = expected["Origins"]
    origins["Items"].append(api_origin(API))
    origins["Quantity"] += 1
    behaviors = _behaviors(expected)
    behaviors.insert(POSITION[name], api_behavior(API))
    expected["CacheBehaviors"] = {"Quantity": len(behaviors), "Items": behaviors}
    assert differences(expected, spliced) == []

    changed = differences(original, spliced)
    assert changed, "splice changed nothing"
    assert all(path.startswith(("Origins.", "CacheBehaviors.")) for path in changed), changed
    assert spliced["Origins"]["Items"][:-1] == original["Origins"]["Items"]
    others = [b for b in _behaviors(spliced) if b["PathPattern"] != "/api/*"]
    assert others == _behaviors(original)


@pytest.mark.parametrize("name", NAMES)
def test_spliced_config_is_a_valid_update_request(name: str) -> None:
    spliced = splice(load(name), API)
    shape = CLOUDFRONT.operation_model("UpdateDistribution").input_shape
    report = ParamValidator().validate(
        {"Id": "E123", "IfMatch": "ETAG", "DistributionConfig": spliced}, shape
    )
    assert not report.has_errors(), report.generate_report()
    assert _quantities(spliced) == []


def test_api_behavior_passes_every_method_and_caches_nothing() -> None:
    behavior = next(
        b for b in _behaviors(splice(load("rich"), API)) if b["PathPattern"] == "/api/*"
    )
    methods = behavior["AllowedMethods"]
    assert sorted(methods["Items"]) == sorted(
        ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    )
    assert sorted(methods["CachedMethods"]["Items"]) == ["GET", "HEAD"]
    assert behavior["CachePolicyId"] == CACHING_DISABLED == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert ALL_VIEWER_EXCEPT_HOST_HEADER == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert behavior["Compress"] is True
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["TrustedSigners"] == {"Enabled": False, "Quantity": 0}
    assert behavior["TrustedKeyGroups"] == {"Enabled": False, "Quantity": 0}
    assert (
        "ForwardedValues" not in behavior
    )  # a cache policy and ForwardedValues exclude each other


@pytest.mark.parametrize(("https", "policy"), [(True, "https-only"), (False, "http-only")])
def test_api_origin_sends_the_secret_header(https: bool, policy: str) -> None:
    origin = api_origin(ApiOrigin("fargo-a-b-api", "api.example.com", https, "X-Verify", "v"))
    assert origin["CustomHeaders"] == {
        "Quantity": 1,
        "Items": [{"HeaderName": "X-Verify", "HeaderValue": "v"}],
    }
    custom = origin["CustomOriginConfig"]
    assert custom["OriginProtocolPolicy"] == policy
    assert custom["OriginSslProtocols"] == {"Quantity": 1, "Items": ["TLSv1.2"]}
    assert custom["OriginReadTimeout"] == 60


@pytest.mark.parametrize("name", NAMES)
def test_splice_is_idempotent(name: str) -> None:
    once = splice(load(name), API)
    assert splice(once, API) == once


def test_ours_as_aws_returns_it_is_not_a_change() -> None:
    """AWS does not keep the order of methods and adds members of its own."""
    spliced = splice(load("rich"), API)
    behavior = _behaviors(spliced)[POSITION["rich"]]
    behavior["AllowedMethods"]["Items"] = [
        "HEAD",
        "DELETE",
        "POST",
        "GET",
        "OPTIONS",
        "PUT",
        "PATCH",
    ]
    behavior["AllowedMethods"]["CachedMethods"]["Items"] = ["HEAD", "GET"]
    behavior["GrpcConfig"] = {"Enabled": False}
    spliced["CacheBehaviors"]["Items"][POSITION["rich"]] = behavior
    assert splice(spliced, API) == spliced


@pytest.mark.parametrize(
    ("changed", "path"),
    [
        ({"header_value": "rotated"}, "Origins.Items[4].CustomHeaders.Items[0].HeaderValue"),
        ({"domain_name": "new-alb.elb.amazonaws.com"}, "Origins.Items[4].DomainName"),
        ({"https": True}, "Origins.Items[4].CustomOriginConfig.OriginProtocolPolicy"),
    ],
)
def test_a_changed_origin_of_ours_is_updated_in_place(changed: dict[str, Any], path: str) -> None:
    spliced = splice(load("rich"), API)
    updated = ApiOrigin(**{**API.__dict__, **changed})
    assert differences(spliced, splice(spliced, updated)) == [path]


def test_a_changed_behavior_of_ours_is_replaced_where_it_stands() -> None:
    spliced = splice(load("rich"), API)
    spliced["CacheBehaviors"]["Items"][3]["Compress"] = False
    spliced["CacheBehaviors"]["Items"][3]["CachePolicyId"] = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    again = splice(spliced, API)
    assert differences(spliced, again) == [
        "CacheBehaviors.Items[3].Compress",
        "CacheBehaviors.Items[3].CachePolicyId",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_unsplice_restores_the_original_exactly(name: str) -> None:
    original = load(name)
    assert differences(original, unsplice(splice(original, API), API.origin_id, "/api/*")) == []


@pytest.mark.parametrize("name", NAMES)
def test_unsplice_without_ours_changes_nothing(name: str) -> None:
    assert unsplice(load(name), API.origin_id, "/api/*") == load(name)


def test_unsplice_leaves_an_empty_list_as_aws_returns_it() -> None:
    result = unsplice(splice(load("bare"), API), API.origin_id, "/api/*")
    assert result["CacheBehaviors"] == {"Quantity": 0}


def test_unsplice_keeps_our_origin_while_something_else_uses_it() -> None:
    spliced = splice(load("rich"), API)
    spliced["CacheBehaviors"]["Items"].append(_behavior("/extra/*", API.origin_id))
    spliced["CacheBehaviors"]["Quantity"] += 1
    result = unsplice(spliced, API.origin_id, "/api/*")
    assert [o["Id"] for o in result["Origins"]["Items"]][-1] == API.origin_id
    assert [b["PathPattern"] for b in _behaviors(result)][-1] == "/extra/*"
    assert "/api/*" not in [b["PathPattern"] for b in _behaviors(result)]


def test_unsplice_leaves_someone_elses_behavior_on_our_path() -> None:
    config = _with_behaviors("/api/*")  # routed to their bucket, not to us
    assert unsplice(config, API.origin_id, "/api/*") == config


@pytest.mark.parametrize("name", NAMES)
def test_input_is_never_mutated(name: str) -> None:
    original = load(name)
    splice(original, API)
    assert original == load(name)
    spliced = splice(original, API)
    frozen = copy.deepcopy(spliced)
    unsplice(spliced, API.origin_id, "/api/*")
    splice(spliced, ApiOrigin(**{**API.__dict__, "header_value": "rotated"}))
    assert spliced == frozen


@pytest.mark.parametrize("pattern", ["/api/*", "api/*"])
def test_path_routed_to_another_origin_is_refused(pattern: str) -> None:
    config = _with_behaviors("/static/*", pattern)
    with pytest.raises(SpliceConflict) as refused:
        splice(config, API)
    assert refused.value.exit_code == EXIT_UNSAFE == 3
    assert "'bucket'" in refused.value.message
    assert refused.value.hint
    assert config == _with_behaviors("/static/*", pattern)


def test_an_origin_with_our_id_but_without_our_header_is_refused() -> None:
    config = load("rich")
    theirs = copy.deepcopy(config["Origins"]["Items"][3])  # a custom origin, no headers
    theirs["Id"] = API.origin_id
    config["Origins"]["Items"].append(theirs)
    config["Origins"]["Quantity"] += 1
    with pytest.raises(SpliceConflict) as refused:
        splice(config, API)
    assert refused.value.exit_code == 3
    assert "X-Fargo-Origin-Verify" in refused.value.message


def test_our_header_is_recognised_whatever_its_case() -> None:
    spliced = splice(load("rich"), API)
    header = spliced["Origins"]["Items"][4]["CustomHeaders"]["Items"][0]
    header["HeaderName"] = "x-fargo-origin-verify"
    again = splice(spliced, API)
    assert differences(spliced, again) == ["Origins.Items[4].CustomHeaders.Items[0].HeaderName"]


def test_an_origin_group_with_our_id_is_refused() -> None:
    config = load("rich")
    config["OriginGroups"]["Items"][0]["Id"] = API.origin_id
    with pytest.raises(SpliceConflict, match="origin group"):
        splice(config, API)


def test_more_than_the_default_quota_of_behaviors_is_refused() -> None:
    config = _with_behaviors(*(f"/p{i}/*" for i in range(25)))
    with pytest.raises(SpliceConflict, match="25 cache behaviors") as refused:
        splice(config, API)
    assert "Service Quotas" in (refused.value.hint or "")
    assert len(_behaviors(splice(_with_behaviors(*(f"/p{i}/*" for i in range(24))), API))) == 25


def test_more_than_the_default_quota_of_origins_is_refused() -> None:
    config = load("bare")
    bucket = config["Origins"]["Items"][0]
    items = [{**bucket, "Id": f"bucket-{i}"} for i in range(25)]
    config["Origins"] = {"Quantity": 25, "Items": items}
    with pytest.raises(SpliceConflict, match="25 origins"):
        splice(config, API)


@pytest.mark.parametrize(
    ("patterns", "position"),
    [
        (["/static/*", "/img/*"], 2),  # nothing else matches /api/ paths: at the end
        (["/static/*", "*"], 1),  # before a catch-all
        (["/static/*", "/*"], 1),
        (["/api*", "/static/*"], 0),  # /api* also matches /api/...
        (["/static/*", "*.json"], 1),  # so does *.json (/api/orders.json)
        (["/api-docs/*", "/apis/*"], 2),  # these never match /api/ paths
        (["/api/admin/*", "*"], 1),  # only /api/ paths: stays ahead and keeps its traffic
        (["*", "/api/admin/*"], 0),
        (["/a?i/*", "/static/*"], 0),
    ],
)
def test_behavior_goes_before_the_first_that_would_take_its_requests(
    patterns: list[str], position: int
) -> None:
    spliced = splice(_with_behaviors(*patterns), API)
    paths = [b["PathPattern"] for b in _behaviors(spliced)]
    assert paths.index("/api/*") == position
    assert [p for p in paths if p != "/api/*"] == patterns


@pytest.mark.parametrize(
    ("a", "b", "overlap", "a_covers_b"),
    [
        ("*", "/api/*", True, True),
        ("/api*", "/api/*", True, True),
        ("*.json", "/api/*", True, False),
        ("/api-docs/*", "/api/*", False, False),
        ("/api/admin/*", "/api/*", True, False),
        ("/api/*", "/api/admin/*", True, True),
        ("api/*", "/api/*", True, True),
        ("/a?i/*", "/api/*", True, True),
        ("/ap", "/api/*", False, False),
        ("/API/*", "/api/*", False, False),  # patterns are case-sensitive
    ],
)
def test_path_pattern_sets(a: str, b: str, overlap: bool, a_covers_b: bool) -> None:
    assert overlaps(a, b) is overlap
    assert overlaps(b, a) is overlap
    assert covers(a, b) is a_covers_b


def test_diff_names_each_change_and_masks_the_secret() -> None:
    original = load("rich")
    spliced = splice(original, API)
    lines = config_diff(original, spliced)
    assert [line.split(":")[0] for line in lines] == [
        "Origins.Quantity",
        "Origins.Items[4] added",
        "CacheBehaviors.Quantity",
        "CacheBehaviors.Items[3] added",
    ]
    assert "Origins.Quantity: 4 → 5" in lines
    assert "CacheBehaviors.Quantity: 4 → 5" in lines
    assert all(SECRET not in line for line in lines)
    assert '"HeaderValue": "****"' in lines[1]
    assert all("legacy-token-value" not in line for line in config_diff(spliced, original))
    assert config_diff(spliced, spliced) == []


def test_diff_of_a_rotated_secret_shows_no_value() -> None:
    spliced = splice(load("rich"), API)
    rotated = splice(spliced, ApiOrigin(**{**API.__dict__, "header_value": "new-secret"}))
    assert config_diff(spliced, rotated) == [
        "Origins.Items[4].CustomHeaders.Items[0].HeaderValue: **** → **** (changed)"
    ]


def test_diff_of_an_empty_list_names_the_item() -> None:
    lines = config_diff(load("bare"), splice(load("bare"), API))
    assert "CacheBehaviors.Quantity: 0 → 1" in lines
    assert any(line.startswith("CacheBehaviors.Items[0] added: ") for line in lines)
    removed = config_diff(splice(load("bare"), API), load("bare"))
    assert any(line.startswith("CacheBehaviors.Items[0] removed: ") for line in removed)


def test_diff_shows_reordered_behaviors_and_scalar_lists() -> None:
    before = _with_behaviors("/a/*", "/b/*")
    after = _with_behaviors("/b/*", "/a/*")
    after["Aliases"] = {"Quantity": 1, "Items": ["cdn.example.com"]}
    assert config_diff(before, after) == [
        "Aliases.Quantity: 0 → 1",
        'Aliases.Items: [] → ["cdn.example.com"]',
        'CacheBehaviors.Items order of PathPattern: ["/a/*", "/b/*"] → ["/b/*", "/a/*"]',
    ]


def test_the_secret_stays_out_of_the_origins_repr() -> None:
    assert SECRET not in repr(API)

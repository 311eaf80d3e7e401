"""`cdn: { existing, spa_errors: function }` on a DistributionConfig: the 403/404 → index.html
error pages out, a viewer-request function on the default behavior only, and back again."""

from __future__ import annotations

import copy

import pytest

from fargo.edge import spa_errors
from fargo.edge.splice import SpliceConflict
from tests.fixtures.cloudfront import differences, load

ARN = "arn:aws:cloudfront::123456789012:function/fargo-web-default-spa"
NAME = "fargo-web-default-spa"


def test_spa_error_pages_are_the_403_and_404_answered_with_a_page_and_200() -> None:
    found = spa_errors.spa_error_pages(load("spa"))
    assert [(p["ErrorCode"], p["ResponsePagePath"]) for p in found] == [
        (403, "/index.html"),
        (404, "/index.html"),
    ]
    # rich's 404 answers its own 404 page with a 404: the status survives, nothing to replace.
    assert [p["ErrorCode"] for p in spa_errors.spa_error_pages(load("rich"))] == [403]
    assert spa_errors.spa_error_pages(load("bare")) == []


def test_replace_removes_them_and_adds_the_function_to_the_default_behavior_only() -> None:
    before = load("spa")
    after, record = spa_errors.replace(before, "E2SPA", NAME, ARN)
    assert after["CustomErrorResponses"] == {
        "Quantity": 1,
        "Items": [before["CustomErrorResponses"]["Items"][2]],
    }
    assert after["DefaultCacheBehavior"]["FunctionAssociations"] == {
        "Quantity": 1,
        "Items": [{"FunctionARN": ARN, "EventType": "viewer-request"}],
    }
    # Nothing else in the config moves.
    moved = ("CustomErrorResponses.", "DefaultCacheBehavior.FunctionAssociations.")
    assert all(d.startswith(moved) for d in differences(before, after))
    assert record.error_responses == before["CustomErrorResponses"]
    assert record.function_associations == {"Quantity": 0}
    assert before == load("spa")  # the input is not changed


def test_replace_is_idempotent_and_restore_gives_back_the_config_exactly() -> None:
    before = load("spa")
    after, record = spa_errors.replace(before, "E2SPA", NAME, ARN)
    again, _ = spa_errors.replace(after, "E2SPA", NAME, ARN)
    assert again == after
    assert differences(before, spa_errors.restore(after, record)) == []
    # Restoring twice changes nothing more.
    restored = spa_errors.restore(after, record)
    assert spa_errors.restore(restored, record) == restored


def test_restore_keeps_what_someone_changed_since() -> None:
    before = load("spa")
    after, record = spa_errors.replace(before, "E2SPA", NAME, ARN)
    edited = copy.deepcopy(after)
    page = {"ErrorCode": 502, "ResponsePagePath": "/down.html", "ResponseCode": "502"}
    edited["CustomErrorResponses"]["Items"].append(page)
    edited["CustomErrorResponses"]["Quantity"] = 2
    restored = spa_errors.restore(edited, record)
    codes = [i["ErrorCode"] for i in restored["CustomErrorResponses"]["Items"]]
    assert codes == [500, 502, 403, 404]
    assert restored["CustomErrorResponses"]["Quantity"] == 4
    assert restored["DefaultCacheBehavior"]["FunctionAssociations"] == {"Quantity": 0}


def test_another_viewer_request_function_on_the_default_behavior_is_a_conflict() -> None:
    config = load("spa")
    theirs = {"FunctionARN": "arn:aws:cloudfront::1:function/theirs", "EventType": "viewer-request"}
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 1, "Items": [theirs]}
    with pytest.raises(SpliceConflict) as refused:
        spa_errors.replace(config, "E2SPA", NAME, ARN)
    assert "function/theirs" in str(refused.value)
    assert refused.value.hint


def test_a_viewer_request_lambda_at_edge_is_a_conflict_too() -> None:
    config = load("spa")
    edge = {
        "LambdaFunctionARN": "arn:aws:lambda:us-east-1:1:function:rewrite:3",
        "EventType": "viewer-request",
        "IncludeBody": False,
    }
    config["DefaultCacheBehavior"]["LambdaFunctionAssociations"] = {"Quantity": 1, "Items": [edge]}
    with pytest.raises(SpliceConflict):
        spa_errors.replace(config, "E2SPA", NAME, ARN)


def test_the_record_round_trips_through_the_ledger_json() -> None:
    from fargo.edge.ledger import EdgeLedger  # noqa: PLC0415

    _, record = spa_errors.replace(load("spa"), "E2SPA", NAME, ARN)
    ledger = EdgeLedger(spa_errors=record)
    assert not ledger.empty
    assert EdgeLedger.from_json(ledger.to_json()) == ledger
    # A ledger without it keeps its old JSON shape.
    assert "spa_errors" not in EdgeLedger().to_json()

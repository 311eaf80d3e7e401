"""Every AWS error a user can meet says which call failed and carries a hint; a lost answer
is told apart from a refusal, so the write can be settled by reading the state back."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from fargo.aws.errors import RESPONSE_LOST, UNREACHABLE, translate
from fargo.aws.settle import settle
from fargo.errors import AwsError


def _client_error(code: str, message: str = "nope") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "AnyOperation")


@pytest.mark.parametrize(
    "code",
    [
        "ValidationError",
        "AlreadyExistsException",
        "InvalidChangeSetStatus",
        "ChangeSetNotFound",
        "LimitExceededException",
        "AccessDenied",
        "Throttling",
        "SomethingAwsAddsNextYear",
    ],
)
def test_every_client_error_names_the_call_and_has_a_hint(code: str) -> None:
    error = translate(_client_error(code, "the reason"), "cloudformation", "create_change_set")
    assert isinstance(error, AwsError)
    assert error.code == code
    assert error.message == f"cloudformation:create_change_set failed: {code}: the reason"
    assert error.hint


def test_an_unknown_code_gets_a_hint_naming_the_service_and_operation() -> None:
    error = translate(_client_error("Brand-New"), "scheduler", "create_schedule")
    assert error.hint is not None
    assert "scheduler" in error.hint
    assert "create_schedule" in error.hint
    assert "Brand-New" in error.hint


@pytest.mark.parametrize(
    "raised",
    [
        ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_a_lost_answer_is_its_own_code(raised: Exception) -> None:
    error = translate(raised, "cloudformation", "execute_change_set")
    assert isinstance(error, AwsError)
    assert error.code == RESPONSE_LOST
    assert error.hint


def test_an_unreachable_endpoint_is_not_a_lost_answer() -> None:
    error = translate(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "cloudformation", "x"
    )
    assert isinstance(error, AwsError)
    assert error.code == UNREACHABLE
    assert error.hint


def test_missing_credentials_have_a_hint() -> None:
    assert translate(NoCredentialsError(), "sts", "get_caller_identity").hint


def _lost() -> AwsError:
    return AwsError("lost", code=RESPONSE_LOST)


def test_settle_reads_back_a_write_whose_answer_was_lost() -> None:
    sent: list[str] = []

    def write() -> str:
        sent.append("write")
        raise _lost()

    assert settle(write, lambda: "made-by-the-lost-call") == "made-by-the-lost-call"
    assert sent == ["write"]


def test_settle_sends_again_when_the_state_shows_nothing_landed() -> None:
    answers: list[str | None] = [None]
    sent: list[str] = []

    def write() -> str:
        sent.append("write")
        if len(sent) == 1:
            raise _lost()
        return "second"

    assert settle(write, answers.pop) == "second"
    assert sent == ["write", "write"]


def test_settle_fails_when_nothing_landed_after_every_round() -> None:
    def write() -> str:
        raise _lost()

    with pytest.raises(AwsError) as failed:
        settle(write, lambda: None)
    assert failed.value.code == RESPONSE_LOST


def test_settle_takes_already_done_only_when_the_state_agrees() -> None:
    def write() -> str:
        raise AwsError("done", code="AlreadyExistsException")

    assert settle(write, lambda: "ours", done_codes=("AlreadyExistsException",)) == "ours"
    with pytest.raises(AwsError) as refused:
        settle(write, lambda: None, done_codes=("AlreadyExistsException",))
    assert refused.value.code == "AlreadyExistsException"


def test_settle_passes_other_errors_through_without_reading() -> None:
    read: list[str] = []

    def write() -> str:
        raise AwsError("refused", code="ValidationError")

    with pytest.raises(AwsError):
        settle(write, lambda: read.append("read") or None)
    assert read == []

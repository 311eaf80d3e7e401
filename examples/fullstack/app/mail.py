"""Outgoing mail through SES v2, from the address fargo injects as MAIL_FROM.

fargo also injects MAIL_CONFIGURATION_SET, the set whose rules (suppressed bounces and
complaints, reputation metrics) apply to the app's mail; it is named on each send.
"""

import os
from typing import Any

from app import aws

# Where the worker's notices go unless MAIL_TO names a mailbox. SES's mailbox simulator
# accepts mail even from an account still in the SES sandbox, and mail to it neither
# bounces nor counts against the sending quota, so a fresh deploy can send safely.
SIMULATOR_SUCCESS = "success@simulator.amazonses.com"


def sender() -> str:
    return aws.require("MAIL_FROM", "the service must use: [mail]")


def recipient() -> str:
    return os.environ.get("MAIL_TO", "").strip() or SIMULATOR_SUCCESS


def send(subject: str, text: str) -> str:
    """Send a plain-text mail to ``recipient()``; return SES's message id.

    SES rejects the send (MessageRejected) when MAIL_FROM is not a verified identity;
    the error propagates so the caller's job is retried rather than lost.
    """
    # The domain identity names the set as its default too; naming it here keeps the
    # rules on if the identity's default ever changes. Omitted when not injected.
    configuration_set = os.environ.get("MAIL_CONFIGURATION_SET", "").strip()
    extra: dict[str, Any] = {"ConfigurationSetName": configuration_set} if configuration_set else {}
    sent = aws.sesv2().send_email(
        FromEmailAddress=sender(),
        Destination={"ToAddresses": [recipient()]},
        Content={
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            }
        },
        **extra,
    )
    return sent["MessageId"]

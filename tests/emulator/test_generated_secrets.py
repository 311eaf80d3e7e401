"""A template's GenerateSecretString on the emulator: every character option applies, as on
AWS (the `secret-generation-options` patch)."""

from __future__ import annotations

import json
import string
import time
from typing import Any

_SECRETS = {
    "Alphanumeric": {"PasswordLength": 48, "ExcludePunctuation": True},
    "LowerOnly": {
        "PasswordLength": 40,
        "ExcludeNumbers": True,
        "ExcludeUppercase": True,
        "ExcludePunctuation": "true",  # a template scalar may arrive as a string
    },
    "Excluding": {"PasswordLength": 64, "ExcludeCharacters": "abcdefABCDEF0123/@\"' \\"},
    "Document": {
        "PasswordLength": 32,
        "ExcludePunctuation": True,
        "SecretStringTemplate": '{"username": "app"}',
        "GenerateStringKey": "password",
    },
}


def test_every_option_shapes_the_generated_value(aws: Any) -> None:
    template = {
        "Resources": {
            name: {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": g}}
            for name, g in _SECRETS.items()
        },
        "Outputs": {name: {"Value": {"Ref": name}} for name in _SECRETS},
    }
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="generated", TemplateBody=json.dumps(template))
    deadline = time.monotonic() + 30
    while (stack := cfn.describe_stacks(StackName="generated")["Stacks"][0])[
        "StackStatus"
    ].endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    secrets = aws("secretsmanager")
    value = {
        o["OutputKey"]: secrets.get_secret_value(SecretId=o["OutputValue"])["SecretString"]
        for o in stack["Outputs"]
    }

    assert len(value["Alphanumeric"]) == 48
    assert value["Alphanumeric"].isalnum()
    assert len(value["LowerOnly"]) == 40
    assert set(value["LowerOnly"]) <= set(string.ascii_lowercase)
    assert len(value["Excluding"]) == 64
    assert not set(value["Excluding"]) & set("abcdefABCDEF0123/@\"' \\")
    document = json.loads(value["Document"])
    assert document["username"] == "app"
    assert len(document["password"]) == 32
    assert document["password"].isalnum()

"""AWS::SecretsManager::Secret: GenerateSecretString honours every character option.

Gap (ministack 1.5.33): the provisioner draws a template's generated secret from letters,
digits and punctuation minus `ExcludeCharacters`, and ignores `ExcludePunctuation`,
`ExcludeNumbers`, `ExcludeUppercase`, `ExcludeLowercase`, `IncludeSpace` and
`RequireEachIncludedType`. A secret meant to be letters and digits only, such as the
header value CloudFront sends to the load balancer, came out with `*`, `?` and quotes in
it: not what AWS generates, and `*` and `?` are wildcards in a listener rule's header
condition.

The value is now drawn by ministack's own GetRandomPassword, which implements the options
as AWS documents them, with the template's values; `SecretStringTemplate` and
`GenerateStringKey` are applied as before.
"""

import json
from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace

_FLAGS = (
    "ExcludeNumbers",
    "ExcludePunctuation",
    "ExcludeUppercase",
    "ExcludeLowercase",
    "IncludeSpace",
    "RequireEachIncludedType",
)


def _flag(value: Any) -> bool:
    # Template scalars may reach the provisioner as strings ("true").
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _options(generate: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {
        "PasswordLength": int(generate.get("PasswordLength", 32)),
        "ExcludeCharacters": str(generate.get("ExcludeCharacters", "")),
    }
    for key in _FLAGS:
        if key in generate:
            options[key] = _flag(generate[key])
    return options


def _secret_string(random_password: Callable[[dict[str, Any]], Any]) -> Callable[..., str]:
    def secret_string(props: dict[str, Any]) -> str:
        declared = props.get("SecretString", "")
        generate = props.get("GenerateSecretString")
        if not generate or declared:
            return str(declared)
        status, _headers, body = random_password(_options(generate))
        answer = json.loads(body)
        if status >= 400:
            raise ValueError(f"GenerateSecretString: {answer.get('message', answer)}")
        generated = str(answer["RandomPassword"])
        template = generate.get("SecretStringTemplate")
        if not template:
            return generated
        document = json.loads(template)
        document[generate.get("GenerateStringKey", "password")] = generated
        return json.dumps(document)

    return secret_string


def generate_with_every_option() -> None:
    """Closes the gap in the module docstring."""
    provisioners = module("ministack.services.cloudformation.provisioners")
    random_password = attr(module("ministack.services.secretsmanager"), "_get_random_password")
    replace(provisioners, "_sm_secret_string", _secret_string(random_password))

"""What every section shares: strict parsing, the error a person can fix, and reading a secret."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr


class ConfigError(Exception):
    """A configuration problem a person can fix: names the file, the key and what was expected."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: invalid configuration"]
        lines += [f"  {key}: {why}" for key, why in problems]
        super().__init__("\n".join(lines))


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

def secret_value(secret: SecretStr | None) -> str | None:
    """The secret without surrounding whitespace: a key pasted from a file or made with `echo ... | base64`
    often ends in a newline, which no API key has and no HTTP header may carry."""
    if secret is None:
        return None
    value = secret.get_secret_value().strip()
    return value or None


# ---------------------------------------------------------------------------------------------- loading

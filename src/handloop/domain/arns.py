"""ARNs in AWS's shapes, built from the deployment's region and account."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handloop.errors import ValidationError

# resource kind -> the ARN path prefix AWS uses for it
RESOURCE_PATHS = {
    "human-task-ui": "human-task-ui/",
    "flow-definition": "flow-definition/",
    "workteam": "workteam/private-crowd/",
    "workforce": "workforce/",
    "human-loop": "human-loop/",
}

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z\-]*):sagemaker:(?P<region>[a-z0-9\-]*):(?P<account>\d{12}):"
    r"(?P<rest>.+)$"
)
PARTITION = "aws"


@dataclass(frozen=True)
class ArnFactory:
    region: str
    account_id: str

    def build(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{RESOURCE_PATHS[kind]}{name}"

    def name_from(self, kind: str, arn: str, *, field: str) -> str:
        """The resource name an ARN of ``kind`` in this deployment points at; else
        ValidationException naming the ARN and what does not match.

        An ARN of another partition, region or account names a resource that is not here,
        however its name reads (AWS answers such ARNs as not found or out of scope).
        """
        match = _ARN.match(arn)
        prefix = RESOURCE_PATHS[kind]
        if not match or not match["rest"].startswith(prefix) or len(match["rest"]) == len(prefix):
            raise ValidationError(f"{field} '{arn}' is not a valid {kind} ARN.")
        for part, want in (
            ("partition", PARTITION),
            ("region", self.region),
            ("account", self.account_id),
        ):
            if match[part] != want:
                raise ValidationError(
                    f"{field} '{arn}' is in {part} '{match[part]}', but this deployment's "
                    f"resources are in {part} '{want}': no such {kind} here."
                )
        return match["rest"][len(prefix) :]

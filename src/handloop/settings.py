"""The deployment's settings: one class, read from ``HANDLOOP_*`` environment variables.

Every field is documented in ``docs/settings.md``; a test fails when one is not.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "handloop"


class Settings(BaseSettings):
    """Everything a deployment can configure. Passed explicitly; never a global."""

    model_config = SettingsConfigDict(env_prefix="HANDLOOP_", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the SQLite database, the deployment key and the local output "
        "store. handloop creates it, the database and the store's folder for its owner only "
        "(0700, 0600); a folder that exists keeps its mode (`init` and `serve` warn when "
        "other users can read it).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database; unset means SQLite at <data_dir>/handloop.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    host: str = Field(default="127.0.0.1", description="Address `handloop serve` listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port `handloop serve` listens on.")
    public_url: str | None = Field(
        default=None,
        description="Address people and clients reach the service at (portal links, SubDomain, "
        "signed URLs); unset means http://<host>:<port>.",
    )
    region: str = Field(
        default="us-east-1",
        description="AWS region of the deployment: used in ARNs, and the region requests "
        "must be signed for.",
    )
    account_id: str = Field(
        default="123456789012",
        pattern=r"^\d{12}$",
        description="12-digit account id used in ARNs and returned by sts:GetCallerIdentity.",
    )
    max_in_progress_loops_per_flow: int = Field(
        default=5000, ge=1, description="In-progress human loops allowed per flow definition."
    )
    max_flow_definitions: int = Field(default=100, ge=1, description="Flow definitions allowed.")
    max_human_task_uis: int = Field(default=100, ge=1, description="Worker task templates allowed.")
    max_task_count: int = Field(
        default=3, ge=1, description="Highest TaskCount a flow definition may ask for (A2I: 3)."
    )
    flow_activation_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a new flow definition stays Initializing before it is Active.",
    )
    max_request_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Largest API request body accepted."
    )
    max_object_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1,
        description="Largest object the S3 API stores: a PutObject body, an UploadPart body, "
        "and the sum of a multipart upload's parts. A larger one is refused with "
        "EntityTooLarge (400), from its declared length before it is read where the "
        "request declares one. S3 bodies are streamed to a file, so "
        "HANDLOOP_MAX_REQUEST_BYTES does not limit them.",
    )
    clock_skew_seconds: int = Field(
        default=300,
        ge=1,
        description="Largest difference allowed between a request's signing "
        "time and the server's clock.",
    )
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a server process caches access keys; a revoked key stops working "
        "within this time.",
    )
    write_batch_size: int = Field(
        default=256, ge=1, description="Most write operations committed in one transaction."
    )
    output_store: Literal["local", "s3"] = Field(
        default="local",
        description="Where output files go: `local` (<data_dir>/s3/<bucket>/<key>) or `s3` "
        "(a real S3-compatible endpoint, see the S3_* settings).",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of the S3-compatible output store (unset: AWS S3 itself).",
    )
    s3_region: str = Field(default="us-east-1", description="Region of the S3 output store.")
    s3_access_key_id: str | None = Field(
        default=None,
        description="Access key for the S3 output store (unset: boto3's usual credential chain).",
    )
    s3_secret_access_key: str | None = Field(
        default=None, description="Secret key for the S3 output store."
    )
    log_level: str = Field(default="info", description="Log level of the server.")
    task_time_scale: float = Field(
        default=1.0,
        gt=0,
        description="Divides every TaskTimeLimitInSeconds and TaskAvailabilityLifetimeInSeconds; "
        "leave at 1 except to make tests and demos run fast.",
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="How long a worker stays signed in to the portal."
    )
    invitation_hours: float = Field(
        default=72.0, gt=0, description="How long a worker's one-time sign-up link stays valid."
    )
    sign_in_attempts: int = Field(
        default=10,
        ge=1,
        description="Failed portal sign-ins allowed per address and per email in 15 minutes "
        "(counted in the database: one limit for all server processes).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDR networks of the reverse proxies in "
        "front of handloop. Only requests from them may set the client's address "
        "(X-Forwarded-For) and scheme (X-Forwarded-Proto); empty trusts no one, so those "
        "headers are ignored.",
    )
    insecure_cheap_password_hashes: bool = Field(
        default=False,
        description="Hash new worker passwords with argon2id's cheapest parameters instead of "
        "RFC 9106's (3 passes over 64 MiB): insecure, for test suites only, never a "
        "deployment.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="The most one webhook delivery may take from start to end (connecting, "
        "sending the event, the receiver's status line and headers); a receiver that takes "
        "longer gets the event again later, after the usual backoff.",
    )
    webhook_max_attempts: int = Field(
        default=20,
        ge=1,
        description="Delivery attempts per event and webhook before it is given up (backoff "
        "doubles from 1 s to at most 1 h).",
    )
    output_write_attempts: int = Field(
        default=12,
        ge=1,
        description="Attempts at writing a loop's output file before the loop ends Failed "
        "(InternalError, with the store's error); the wait between attempts doubles from 1 s "
        "to at most 5 min.",
    )
    event_retention_days: float = Field(
        default=30.0,
        ge=0,
        description="How long status-change events are kept (for the event stream and webhook "
        "retries); older ones are deleted once no webhook still waits for them. 0 keeps them "
        "forever.",
    )

    oidc_ca_file: Path | None = Field(
        default=None,
        description="A PEM file of certificates (an internal or test certificate authority) "
        "that the server trusts, beside the system's store, for its calls to the workforce's "
        "OIDC provider (token, JWKS and userinfo endpoints). Unset: the system's store alone. "
        "A file that is missing or holds no certificate stops the server at start-up.",
    )

    console_oidc_group: str | None = Field(
        default=None,
        description="The group (in the sagemaker:groups claim) whose members may sign in to "
        "the requester console through the workforce's OIDC provider. Unset: the console "
        "signs requesters in with passwords only.",
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("oidc_ca_file", "console_oidc_group", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("console_oidc_group")
    @classmethod
    def _group_name(cls, value: str | None) -> str | None:
        """A group A2I could put in ``sagemaker:groups``: 1 to 63 characters, no commas."""
        if value is None:
            return None
        value = value.strip()
        if not value or len(value) > 63 or "," in value or not value.isprintable():
            raise ValueError(
                "HANDLOOP_CONSOLE_OIDC_GROUP must be one group name: 1 to 63 printable "
                "characters, no comma"
            )
        return value

    @field_validator("oidc_ca_file")
    @classmethod
    def _certificates(cls, value: Path | None) -> Path | None:
        """Refuse at start-up a file that cannot be trusted from, rather than at a worker's
        first sign-in."""
        if value is None:
            return None
        import ssl

        value = value.expanduser()
        try:
            ssl.create_default_context().load_verify_locations(cafile=str(value))
        except ssl.SSLError:
            raise ValueError(
                f"HANDLOOP_OIDC_CA_FILE {str(value)!r} holds no PEM certificate"
            ) from None
        except OSError as exc:
            raise ValueError(
                f"HANDLOOP_OIDC_CA_FILE {str(value)!r} cannot be read: {exc.strerror or exc}"
            ) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        networks = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(
                    f"{item!r} in HANDLOOP_TRUSTED_PROXIES is not an IP address or network"
                ) from None
        return ",".join(networks)

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies' networks, in the form uvicorn's ``forwarded_allow_ips`` takes."""
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'handloop.db'}"

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

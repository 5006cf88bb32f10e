"""Use cases. The only layer that changes state; each operation owns its transaction."""

from __future__ import annotations

from dataclasses import dataclass

from handloop.blobs import BlobStore, LocalBlobStore, S3BlobStore
from handloop.domain.arns import ArnFactory
from handloop.services.access_keys import AccessKeys, load_deployment_key
from handloop.services.clock import Clock, system_clock
from handloop.services.evaluations import Evaluations
from handloop.services.events import Events
from handloop.services.flow_definitions import FlowDefinitions
from handloop.services.human_loops import HumanLoops
from handloop.services.human_task_uis import HumanTaskUis
from handloop.services.oidc import OidcSignIns
from handloop.services.outputs import Outputs
from handloop.services.quality import Quality
from handloop.services.sessions import Sessions
from handloop.services.sign_ins import SignInLimits
from handloop.services.signed_urls import UrlSigner
from handloop.services.tasks import Tasks
from handloop.services.workers import Workers
from handloop.services.workforces import Workforces
from handloop.services.workteams import Workteams
from handloop.settings import Settings
from handloop.store import Database


@dataclass
class Services:
    """Every use case of one deployment, wired to one database and one clock."""

    settings: Settings
    db: Database
    clock: Clock
    arns: ArnFactory
    urls: UrlSigner
    # Where output files go; the local folder store unless configured otherwise.
    blobs: BlobStore
    access_keys: AccessKeys
    human_task_uis: HumanTaskUis
    flow_definitions: FlowDefinitions
    workteams: Workteams
    workforces: Workforces
    human_loops: HumanLoops
    evaluations: Evaluations
    quality: Quality
    outputs: Outputs
    tasks: Tasks
    workers: Workers
    sessions: Sessions
    sign_ins: SignInLimits
    # Sign-in through the workforce's OIDC provider, when its config has one.
    oidc: OidcSignIns
    events: Events

    def close(self) -> None:
        self.db.close()


def open_blob_store(settings: Settings) -> BlobStore:
    """The output store the settings name."""
    if settings.output_store == "s3":
        return S3BlobStore.connect(
            settings.s3_endpoint_url,
            settings.s3_region,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
    return LocalBlobStore(settings.data_dir / "s3")


def open_services(
    settings: Settings, *, create: bool = False, clock: Clock = system_clock
) -> Services:
    """Open (with ``create``: first make) a deployment's data directory and database.

    Applies pending migrations, so every entry point runs on the current schema.
    """
    deployment_key = load_deployment_key(settings.data_dir, create=create)
    db = Database(settings.effective_database_url, batch_size=settings.write_batch_size)
    db.migrate()
    workforces = Workforces(db, clock)
    db.write_now(workforces.ensure_default)
    arns = ArnFactory(settings.region, settings.account_id)
    blobs = open_blob_store(settings)
    outputs = Outputs(db, clock, arns, blobs, write_attempts=settings.output_write_attempts)
    human_loops = HumanLoops(
        db,
        clock,
        max_in_progress=settings.max_in_progress_loops_per_flow,
        activation_seconds=settings.flow_activation_seconds,
        arns=arns,
        time_scale=settings.task_time_scale,
    )
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        arns=arns,
        urls=UrlSigner(deployment_key, settings.effective_public_url),
        blobs=blobs,
        access_keys=AccessKeys(db, deployment_key, clock, settings.key_cache_seconds),
        human_task_uis=HumanTaskUis(db, clock, settings.max_human_task_uis),
        flow_definitions=FlowDefinitions(
            db,
            clock,
            limit=settings.max_flow_definitions,
            activation_seconds=settings.flow_activation_seconds,
        ),
        workteams=Workteams(db, clock),
        workforces=workforces,
        human_loops=human_loops,
        evaluations=Evaluations(db, clock, arns, blobs, human_loops),
        quality=Quality(db, clock),
        outputs=outputs,
        tasks=Tasks(
            db,
            clock,
            arns,
            outputs,
            time_scale=settings.task_time_scale,
            issuer=settings.effective_public_url,
        ),
        workers=Workers(
            db,
            clock,
            invitation_hours=settings.invitation_hours,
            insecure_cheap_hashes=settings.insecure_cheap_password_hashes,
        ),
        sessions=Sessions(db, clock, hours=settings.session_hours),
        sign_ins=SignInLimits(db, clock, settings.sign_in_attempts),
        oidc=OidcSignIns(
            db,
            clock,
            workforces,
            public_url=settings.effective_public_url,
            ca_file=settings.oidc_ca_file,
        ),
        events=Events(
            db,
            clock,
            deployment_key,
            timeout_seconds=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
            retention_days=settings.event_retention_days,
        ),
    )

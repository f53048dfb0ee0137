"""Rapport's one Piccolo app: every table, and where its migrations live."""

from piccolo.conf.apps import AppConfig

from surveys.accounts.credentials import AccessGrant, Account, ApiToken, SignInLink, WebSession
from surveys.attempts import AttemptPace
from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import (
    Organisation,
    Person,
    Relationship,
    RelationshipContact,
    TherapeuticArea,
)
from surveys.infra.database import MIGRATIONS
from surveys.instruments import Dimension, Instrument, Item
from surveys.jobs import Job
from surveys.jobs.batches import BatchItem
from surveys.jobs.beats import WorkerBeat
from surveys.programme import PlannedCycle, Programme, ReviewerNotice
from surveys.responses.answers import Answer, Response
from surveys.results.meetings import ActionItem
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    InstrumentReliability,
    PerceptionGap,
    ScoreRun,
    TargetIndex,
)
from surveys.results.tier_assignments import TierAssignment, TierEvent
from surveys.scorecards import PartnerReply, RenderedScorecard, ScorecardMailing
from surveys.world import SimulatedWorld, TrueScore

APP_CONFIG = AppConfig(
    app_name="surveys",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=[
        Organisation,
        TherapeuticArea,
        Person,
        Relationship,
        RelationshipContact,
        Instrument,
        Dimension,
        Item,
        Cycle,
        Invitation,
        Response,
        Answer,
        ScoreRun,
        TargetIndex,
        DimensionScore,
        InstrumentReliability,
        PerceptionGap,
        EscalationFlag,
        TierAssignment,
        TierEvent,
        RenderedScorecard,
        ScorecardMailing,
        PartnerReply,
        AuditEntry,
        Account,
        AccessGrant,
        WebSession,
        SignInLink,
        ApiToken,
        ActionItem,
        Job,
        BatchItem,
        WorkerBeat,
        AttemptPace,
        Programme,
        PlannedCycle,
        ReviewerNotice,
        SimulatedWorld,
        TrueScore,
    ],
    migration_dependencies=[],
    commands=[],
)

"""Rapport's one Piccolo app: every table, and where its migrations live."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from surveys.accounts import AccessGrant, Account, ApiToken, SignInLink, WebSession
from surveys.audit import AuditEntry
from surveys.cycles import Cycle
from surveys.instruments import Dimension, Instrument, Item
from surveys.invitations import Invitation
from surveys.meetings import ActionItem
from surveys.organisations import (
    Organisation,
    Person,
    Relationship,
    RelationshipContact,
    TherapeuticArea,
)
from surveys.responses import Answer, Response
from surveys.score_runs import (
    DimensionScore,
    EscalationFlag,
    InstrumentReliability,
    PerceptionGap,
    ScoreRun,
    TargetIndex,
)
from surveys.scorecards import PartnerReply, RenderedScorecard, ScorecardMailing
from surveys.tiers import TierAssignment, TierEvent
from surveys.world import SimulatedWorld, TrueScore

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "surveys"

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
        SimulatedWorld,
        TrueScore,
    ],
    migration_dependencies=[],
    commands=[],
)

"""The programme: the recurring schedule of cycles, and the work that runs it on its own.

An administrator sets the rules once (cadence, how long a cycle takes answers, reminder
days, the tier-review window, whether publication waits for them); the programme plans
the coming year's cycles (`planning`), shows them as a timeline, and at every tick does
what is due (`ticks`): open and invite, remind those who have not answered, close, score,
tell the tier reviewers and remind them, publish where the rules say so, and send every
scorecard. Each step is the same function the console's buttons run (`steps`).

May import: the domain's packages below it (cycles, results, scorecards, jobs…) and
`surveys.infra`.
"""

from surveys.programme.planning import (
    HORIZON,
    move_cycle,
    pause_programme,
    plan_ahead,
    set_programme,
    skip_cycle,
)
from surveys.programme.programme import (
    PlannedCycle,
    PlannedRecord,
    Programme,
    ProgrammeRecord,
    planned_cycle,
    planned_cycles,
    the_programme,
)
from surveys.programme.reviewer_mail import ReviewerNotice, cycle_reviewers, tell_reviewers
from surveys.programme.schedule import Cadence, Dates, Rules, ScheduleError, Step, due_step
from surveys.programme.steps import Tools
from surveys.programme.ticks import StepRun, tick, tick_forever

__all__ = [
    "HORIZON",
    "Cadence",
    "Dates",
    "PlannedCycle",
    "PlannedRecord",
    "Programme",
    "ProgrammeRecord",
    "ReviewerNotice",
    "Rules",
    "ScheduleError",
    "Step",
    "StepRun",
    "Tools",
    "cycle_reviewers",
    "due_step",
    "move_cycle",
    "pause_programme",
    "plan_ahead",
    "planned_cycle",
    "planned_cycles",
    "set_programme",
    "skip_cycle",
    "tell_reviewers",
    "the_programme",
    "tick",
    "tick_forever",
]

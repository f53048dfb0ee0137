"""The worker: the job queue that spreads the programme's steps and every batch over any
number of processes on any number of machines (PostgreSQL, through procrastinate), and
where a console button's work runs.

- `_queue`: the queues, the tasks (each a thin call into `surveys.programme` or
  `surveys.scorecards`), and how a scorecard batch fans out, one job per scorecard;
- `_run`: `rapport worker`'s processes and the queue's tables (`rapport migrate`);
- `_background`: a console step started in this process or queued;
- `_health`: the queues, jobs and workers as monitoring reads them.

On the embedded SQLite default there is no queue: `rapport serve` ticks the programme in
its own process (`surveys.programme.tick_forever`), and console work runs there too.

May import: every domain package below it, and `surveys.infra`.
"""

from surveys.worker._background import Background, InThisProcess, OnTheQueue
from surveys.worker._health import QueueDepth, WorkHealth, work_health
from surveys.worker._queue import CONCURRENCY, queue_app
from surveys.worker._run import queue_schema_applied, run_workers

__all__ = [
    "CONCURRENCY",
    "Background",
    "InThisProcess",
    "OnTheQueue",
    "QueueDepth",
    "WorkHealth",
    "queue_app",
    "queue_schema_applied",
    "run_workers",
    "work_health",
]

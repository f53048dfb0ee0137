"""Health check and metrics, for load balancers, monitoring and `make demo`.

`/healthz` answers 200 while the database answers (503 when it does not), with the
background work beside it: each queue's depth and oldest waiting job, the jobs running
and failed, each worker's last heartbeat, and warnings for a person to act on. A worker
that stopped does not take the web server out of a load balancer: it is a warning.
`/metrics` says the same in Prometheus' text format. Neither holds anything personal;
the deployment's proxy keeps `/metrics` to the monitoring network (docs/deploy.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import MediaType, get
from litestar.response import Response
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from surveys.infra.database import current_engine, ping
from surveys.worker import WorkHealth, work_health


def _moment(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _work(now: dt.datetime) -> WorkHealth | None:
    try:
        return await work_health(current_engine(), now)
    except Exception:  # a health check reports, it does not fail: the database line says why
        return None


@get("/healthz", name="healthz")
async def healthz() -> Response[dict[str, Any]]:
    """Return 200 with the database's details when it answers, 503 when it does not."""
    now = dt.datetime.now(dt.UTC)
    database = await ping(current_engine())
    body: dict[str, Any] = {
        "status": "ok" if database["ok"] else "unavailable",
        "database": database,
    }
    work = await _work(now) if database["ok"] else None
    if work is not None:
        body["queues"] = [
            {
                "queue": q.queue,
                "waiting": q.waiting,
                "running": q.running,
                "oldest_waiting_since": _moment(q.oldest_waiting_at),
            }
            for q in work.queues
        ]
        body["jobs"] = {
            "running": work.jobs_running,
            "oldest_running_since": _moment(work.oldest_running_since),
            "failed_last_day": work.jobs_failed_last_day,
        }
        body["workers"] = [
            {"name": w.name, "role": w.role, "last_heartbeat": _moment(w.at)} for w in work.workers
        ]
        body["warnings"] = work.warnings(now)
    return Response(body, status_code=200 if database["ok"] else 503)


@get("/metrics", name="metrics", media_type=MediaType.TEXT, include_in_schema=False)
async def metrics() -> Response[bytes]:
    """The same figures for Prometheus (a fresh registry per scrape: every figure is read
    from the database, which all processes share)."""
    now = dt.datetime.now(dt.UTC)
    database = await ping(current_engine())
    registry = CollectorRegistry()
    Gauge("rapport_database_up", "1 if the database answers", registry=registry).set(
        1 if database["ok"] else 0
    )
    work = await _work(now) if database["ok"] else None
    if work is not None:
        waiting = Gauge(
            "rapport_queue_waiting_jobs", "jobs waiting in a queue", ["queue"], registry=registry
        )
        running = Gauge(
            "rapport_queue_running_jobs", "jobs running from a queue", ["queue"], registry=registry
        )
        oldest = Gauge(
            "rapport_queue_oldest_waiting_seconds",
            "age of the longest-waiting job of a queue",
            ["queue"],
            registry=registry,
        )
        for q in work.queues:
            waiting.labels(q.queue).set(q.waiting)
            running.labels(q.queue).set(q.running)
            age = (now - q.oldest_waiting_at).total_seconds() if q.oldest_waiting_at else 0
            oldest.labels(q.queue).set(age)
        silent = Gauge(
            "rapport_worker_seconds_since_heartbeat",
            "seconds since a process last said it is alive (a worker's heartbeat, or the "
            "tick of a serving process that runs the programme)",
            ["worker", "role"],
            registry=registry,
        )
        for w in work.workers:
            silent.labels(w.name, w.role).set((now - w.at).total_seconds())
        Gauge("rapport_jobs_running", "background jobs running", registry=registry).set(
            work.jobs_running
        )
        Gauge(
            "rapport_jobs_failed_last_day",
            "background jobs failed in the last day",
            registry=registry,
        ).set(work.jobs_failed_last_day)
    return Response(
        generate_latest(registry),
        media_type=CONTENT_TYPE_LATEST,
        status_code=200 if database["ok"] else 503,
    )

"""GET /api/v1/admin/system: the System page as JSON, for monitoring scripts."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.system import service
from app.system.checks import Probe
from app.system.heartbeat import Heartbeat
from app.web.auth import admin_required
from app.web.deps import app_context
from app.web.openapi import operation, respond


class CheckOut(BaseModel):
    ok: bool = Field(description="False: unreachable, or no answer within 2 seconds.")
    latency_ms: float | None

    @classmethod
    def of(cls, probe: Probe) -> CheckOut:
        return cls(ok=probe.ok, latency_ms=round(probe.latency_ms, 1) if probe.latency_ms is not None else None)


class RedisOut(CheckOut):
    used_memory: str | None = None
    queue_length: int | None = Field(None, description="Jobs waiting in arq's queue.")


class WorkerOut(BaseModel):
    name: str = Field(description="<host>-<pid> of the `nova worker` process.")
    started_at: datetime
    last_seen: datetime
    seconds_ago: int
    running: int = Field(description="Runs this worker is executing.")


class FailedRunOut(BaseModel):
    at: datetime
    agent: str | None = Field(description="None: the agent was deleted.")
    error: str


class SystemOut(BaseModel):
    problems: list[str] = Field(description="Empty when every check passed.")
    version: str
    code_migration: str
    database_migration: str | None
    database: CheckOut
    database_kind: str
    redis: RedisOut | None = Field(description="None: embedded, jobs run inside `nova serve`.")
    storage: CheckOut
    storage_kind: str
    storage_location: str
    workers: list[WorkerOut] | None = Field(description="None: embedded, or Redis unreachable.")
    runs: dict[str, int] = Field(description="Runs in each active status.")
    last_errors: list[FailedRunOut] = Field(description="The 10 newest failed runs.")


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _redis(report: service.Report) -> RedisOut | None:
    if report.redis is None:
        return None
    detail = report.redis.detail
    return RedisOut(**CheckOut.of(report.redis).model_dump(), used_memory=detail.get("used_memory"),
                    queue_length=detail.get("queue_length"))  # fmt: skip


def _worker(report: service.Report, beat: Heartbeat) -> WorkerOut:
    return WorkerOut(name=beat.name, started_at=_time(beat.started_at), last_seen=_time(beat.last_seen),
                     seconds_ago=report.seconds_ago(beat), running=beat.running)  # fmt: skip


@admin_required
@operation(summary="Nova's health: dependencies, workers, queue, last errors", tag="Admin", scope="admin",
           responses={200: SystemOut})  # fmt: skip
async def system(request: Request) -> Response:
    report = await service.report(app_context(request))
    workers = [_worker(report, beat) for beat in report.workers]
    answer = SystemOut(
        problems=report.problems,
        version=report.version,
        code_migration=report.code_head,
        database_migration=report.db_revision,
        database=CheckOut.of(report.database),
        database_kind=report.dialect,
        redis=_redis(report),
        storage=CheckOut.of(report.storage),
        storage_kind=report.storage_kind,
        storage_location=report.storage_location,
        workers=workers if report.redis is not None and report.redis.ok else None,
        runs=report.runs,
        last_errors=[FailedRunOut(at=e.at, agent=e.agent, error=e.error) for e in report.errors],
    )
    return respond(answer)


routes = [Route("/api/v1/admin/system", system, methods=["GET"], name="api:admin:system")]

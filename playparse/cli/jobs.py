"""The job commands: submit a play, list and show jobs, steer them, follow their events."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from playparse.cli.base import (
    FINAL,
    Exit,
    Output,
    OutputOpt,
    app,
    call,
    err,
    print_json,
    say,
)
from playparse.client import PlayparseClient, ServerSentEvent, Unreachable
from playparse.jobs import event_summary

# How often `watch` opens the stream again when it ends before the job does.
STREAM_RESTARTS = 3


def _job_line(job: dict[str, Any]) -> str:
    return (
        f"{job['id']}  {job['status']:<9}  {job['progress']:>3}%  "
        f"{job['chunks_done']}/{job['chunks_total']} chunks  {job['filename']}"
    )


def _show_job(job: dict[str, Any], output: Output) -> None:
    if output == Output.json:
        print_json(job)
        return
    say(_job_line(job))
    if job.get("stage") and job["status"] not in FINAL:
        say(f"  stage: {job['stage']}")
    if job.get("error"):
        say(f"  error: {job['error']['message']}")
    if job.get("play_id"):
        say(f"  play: {job['play_id']}")


def _show_action(job: dict[str, Any], output: Output) -> None:
    """The job after a pause, resume, cancel, retry or priority change."""
    if output == Output.json:
        print_json(job)
    else:
        say(f"{_job_line(job)}  priority {job['priority']}")


def _exit_for(job: dict[str, Any]) -> None:
    if job["status"] in ("failed", "cancelled"):
        raise typer.Exit(Exit.JOB_FAILED)


def wait_for_job(client: PlayparseClient, job_id: str, *, interval: float = 0.5) -> dict[str, Any]:
    """Poll until the job ends, showing progress on stderr when it is a terminal."""
    last = ""
    while True:
        job = client.job(job_id)
        line = (
            f"{job['status']} {job.get('stage') or ''} {job['chunks_done']}/"
            f"{job['chunks_total']} chunks ({job['progress']}%)"
        )
        if line != last and err.is_terminal:
            err.print(f"  {job_id}: {line}", markup=False)
            last = line
        if job["status"] in FINAL:
            return job
        time.sleep(interval)


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    provider: Annotated[
        str | None,
        typer.Option(help="heuristic, anthropic or openai; default: the server's default"),
    ] = None,
    model: Annotated[str | None, typer.Option()] = None,
    chunk_size: Annotated[int | None, typer.Option(min=200, max=20000)] = None,
    priority: Annotated[int | None, typer.Option(min=1, max=5, help="5 is most urgent")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait until the job ends")] = False,
    output: OutputOpt = Output.text,
) -> None:
    """Submit FILE (PDF, DOCX or text) for parsing."""
    options = {"provider": provider, "model": model, "chunk_size": chunk_size, "priority": priority}

    def submit(client: PlayparseClient) -> dict[str, Any]:
        job = client.submit(file, options=options)
        return wait_for_job(client, job["id"]) if wait else job

    job = call(submit)
    _show_job(job, output)
    _exit_for(job)


@app.command()
def jobs(
    status: Annotated[list[str] | None, typer.Option(help="filter by status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="continue a listing where an earlier page ended")
    ] = None,
    output: OutputOpt = Output.text,
) -> None:
    """List jobs, newest first; failed jobs show why (`--status failed`: the dead letters)."""
    page = call(lambda client: client.jobs(status=status, limit=limit, cursor=cursor))
    if output == Output.json:
        print_json(page)
        return
    for job in page["data"]:
        reason = f"  error: {job['error']['message']}" if job.get("error") else ""
        say(_job_line(job) + reason)
    if not page["data"]:
        err.print("no jobs")
    elif page.get("next_cursor"):
        err.print(f"more: --cursor {page['next_cursor']}", markup=False)


@app.command()
def job(job_id: str, output: OutputOpt = Output.text) -> None:
    """Show one job."""
    _show_job(call(lambda client: client.job(job_id)), output)


@app.command()
def result(
    job_id: str,
    partial: Annotated[
        bool, typer.Option("--partial", help="the chunks parsed so far, in any state")
    ] = False,
    output: OutputOpt = Output.json,
) -> None:
    """Print a completed job's playbook (playbook/v1 JSON)."""
    playbook = call(lambda client: client.result(job_id, partial=partial))
    if output == Output.json:
        print_json(playbook)
        return
    say(f"{playbook['title']}{' (partial)' if partial else ''}")
    for act in playbook["acts"]:
        say(f"  {act.get('title') or 'Act'}: {len(act['scenes'])} scenes")


@app.command()
def pause(job_id: str, output: OutputOpt = Output.text) -> None:
    """Pause a job: chunks already running finish, no new chunk starts."""
    _show_action(call(lambda client: client.pause(job_id)), output)


@app.command()
def resume(job_id: str, output: OutputOpt = Output.text) -> None:
    """Resume a paused job."""
    _show_action(call(lambda client: client.resume(job_id)), output)


@app.command()
def cancel(job_id: str, output: OutputOpt = Output.text) -> None:
    """Cancel a job; what was parsed stays readable with `result --partial`."""
    _show_action(call(lambda client: client.cancel(job_id)), output)


@app.command()
def retry(
    job_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="wait until the job ends")] = False,
    output: OutputOpt = Output.text,
) -> None:
    """Run a failed or cancelled job again, reusing every chunk already parsed."""

    def run(client: PlayparseClient) -> dict[str, Any]:
        job = client.retry(job_id)
        return wait_for_job(client, job_id) if wait else job

    job = call(run)
    if wait:
        _show_job(job, output)
        _exit_for(job)
    else:
        _show_action(job, output)


@app.command("priority")
def set_priority(
    job_id: str,
    level: Annotated[
        int, typer.Argument(min=1, max=5, metavar="N", help="1 (least) to 5 (most urgent)")
    ],
    output: OutputOpt = Output.text,
) -> None:
    """Change the priority of a job's chunks not started yet."""
    _show_action(call(lambda client: client.set_priority(job_id, level)), output)


@app.command()
def watch(job_id: str, output: OutputOpt = Output.text) -> None:
    """Follow a job's events live until it ends; exit 1 if it failed or was cancelled."""

    def follow(client: PlayparseClient) -> dict[str, Any]:
        last_id: str | None = None
        for restart in range(STREAM_RESTARTS):
            if restart:
                time.sleep(0.5 * restart)
            for event in client.events(job_id, last_event_id=last_id, resume=restart > 0):
                last_id = event.id or last_id
                _show_event(event, output)
            # The server ends the stream once the job is final; a proxy or a server going
            # down may end it sooner, and then the stream is opened again after the last id.
            with contextlib.suppress(Unreachable):
                job = client.job(job_id)
                if job["status"] in FINAL:
                    return job
        raise Unreachable(f"the event stream of job {job_id} keeps ending before the job")

    try:
        job = call(follow)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if job["status"] != "completed":
        reason = job["error"]["message"] if job.get("error") else None
        verb = "was cancelled" if job["status"] == "cancelled" else "failed"
        err.print(
            f"[red]error:[/red] job {job_id} {verb}" + (f": {escape(reason)}" if reason else "")
        )
    _exit_for(job)


def _show_event(event: ServerSentEvent, output: Output) -> None:
    try:
        data = json.loads(event.data)
    except ValueError:
        data = {"kind": event.event, "data": event.data}
    if not isinstance(data, dict):
        data = {"kind": event.event, "data": data}
    if output == Output.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    kind = str(data.get("kind") or event.event)
    detail = data.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    say(f"{_clock(data.get('created_at'))}  {kind:<10}  {event_summary(kind, detail)}".rstrip())


def _clock(stamp: object) -> str:
    try:
        return datetime.fromisoformat(str(stamp)).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return str(stamp)

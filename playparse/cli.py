"""The `playparse` command: start the embedded stack, submit plays and follow jobs over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from playparse.client import ApiError, PlayparseClient, ServerSentEvent, Unreachable

app = typer.Typer(
    help="Parse theatre plays into structured playbooks with durable jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

DEFAULT_URL = "http://127.0.0.1:8000"
FINAL = {"completed", "failed", "cancelled"}
# How often `watch` opens the stream again when it ends before the job does.
STREAM_RESTARTS = 3
T = TypeVar("T")


class Exit(IntEnum):
    """Exit codes, documented in the README."""

    OK = 0
    JOB_FAILED = 1
    USAGE = 2
    NOT_FOUND = 3
    UNREACHABLE = 4


class Output(StrEnum):
    text = "text"
    json = "json"


OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="text or json")]


def _client() -> PlayparseClient:
    return PlayparseClient(os.environ.get("PLAYPARSE_URL", DEFAULT_URL))


def _fail(error: ApiError) -> typer.Exit:
    """Show the error as one line on stderr; the exit code says what kind it was."""
    message = error.detail
    allowed = error.problem.get("allowed_actions")
    if error.status == 409 and isinstance(allowed, list):
        message += f" (allowed: {', '.join(str(a) for a in allowed) or 'none'})"
    elif error.status and error.status >= 500:
        message += f" (HTTP {error.status})"
    err.print(f"[red]error:[/red] {escape(message)}")
    if isinstance(error, Unreachable):
        return typer.Exit(Exit.UNREACHABLE)
    if error.status in (404, 409):
        return typer.Exit(Exit.NOT_FOUND)
    return typer.Exit(Exit.USAGE if error.status and error.status < 500 else Exit.UNREACHABLE)


def _call(action: Callable[[PlayparseClient], T]) -> T:
    """Run one exchange with the API, turning its errors into an exit."""
    with _client() as client:
        try:
            return action(client)
        except ApiError as error:
            raise _fail(error) from None


def _say(line: str) -> None:
    """One line of data on stdout, printed as is (no markup, no emoji codes)."""
    out.print(line, markup=False, emoji=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _job_line(job: dict[str, Any]) -> str:
    return (
        f"{job['id']}  {job['status']:<9}  {job['progress']:>3}%  "
        f"{job['chunks_done']}/{job['chunks_total']} chunks  {job['filename']}"
    )


def _show_job(job: dict[str, Any], output: Output) -> None:
    if output == Output.json:
        _print_json(job)
        return
    _say(_job_line(job))
    if job.get("stage") and job["status"] not in FINAL:
        _say(f"  stage: {job['stage']}")
    if job.get("error"):
        _say(f"  error: {job['error']['message']}")
    if job.get("play_id"):
        _say(f"  play: {job['play_id']}")


def _show_action(job: dict[str, Any], output: Output) -> None:
    """The job after a pause, resume, cancel, retry or priority change."""
    if output == Output.json:
        _print_json(job)
    else:
        _say(f"{_job_line(job)}  priority {job['priority']}")


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
    provider: Annotated[str | None, typer.Option(help="heuristic (default)")] = None,
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

    job = _call(submit)
    _show_job(job, output)
    _exit_for(job)


@app.command()
def jobs(
    status: Annotated[list[str] | None, typer.Option(help="filter by status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    output: OutputOpt = Output.text,
) -> None:
    """List jobs, newest first; failed jobs show why (`--status failed`: the dead letters)."""
    page = _call(lambda client: client.jobs(status=status, limit=limit))
    if output == Output.json:
        _print_json(page)
        return
    for job in page["data"]:
        reason = f"  error: {job['error']['message']}" if job.get("error") else ""
        _say(_job_line(job) + reason)
    if not page["data"]:
        err.print("no jobs")


@app.command()
def job(job_id: str, output: OutputOpt = Output.text) -> None:
    """Show one job."""
    _show_job(_call(lambda client: client.job(job_id)), output)


@app.command()
def result(
    job_id: str,
    partial: Annotated[
        bool, typer.Option("--partial", help="the chunks parsed so far, in any state")
    ] = False,
    output: OutputOpt = Output.json,
) -> None:
    """Print a completed job's playbook (playbook/v1 JSON)."""
    playbook = _call(lambda client: client.result(job_id, partial=partial))
    if output == Output.json:
        _print_json(playbook)
        return
    _say(f"{playbook['title']}{' (partial)' if partial else ''}")
    for act in playbook["acts"]:
        _say(f"  {act.get('title') or 'Act'}: {len(act['scenes'])} scenes")


@app.command()
def pause(job_id: str, output: OutputOpt = Output.text) -> None:
    """Pause a job: chunks already running finish, no new chunk starts."""
    _show_action(_call(lambda client: client.pause(job_id)), output)


@app.command()
def resume(job_id: str, output: OutputOpt = Output.text) -> None:
    """Resume a paused job."""
    _show_action(_call(lambda client: client.resume(job_id)), output)


@app.command()
def cancel(job_id: str, output: OutputOpt = Output.text) -> None:
    """Cancel a job; what was parsed stays readable with `result --partial`."""
    _show_action(_call(lambda client: client.cancel(job_id)), output)


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

    job = _call(run)
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
    _show_action(_call(lambda client: client.set_priority(job_id, level)), output)


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
        job = _call(follow)
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
    _say(f"{_clock(data.get('created_at'))}  {kind:<10}  {event_summary(kind, detail)}".rstrip())


def _clock(stamp: object) -> str:
    try:
        return datetime.fromisoformat(str(stamp)).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return str(stamp)


def event_summary(kind: str, d: dict[str, Any]) -> str:
    """A few words on what an event says, e.g. "chunk 12/53  41 lines"."""
    if kind == "chunk":
        return f"chunk {d.get('chunks_done')}/{d.get('chunks_total')}  {d.get('lines')} lines"
    if kind in ("started", "stage"):
        return str(d.get("stage", ""))
    if kind == "submitted":
        return f"{d.get('filename')} ({d.get('format')}, {d.get('bytes')} bytes)"
    if kind == "planned":
        return f"{d.get('chunks')} chunks, {d.get('chars')} characters"
    if kind == "retrying":
        return f"chunk {d.get('chunk')} attempt {d.get('attempt')} failed: {d.get('error')}"
    if kind == "recovered":
        return f"chunk {d.get('chunk')} succeeded on attempt {d.get('attempt')}"
    if kind == "completed" and "title" in d:
        return f"{d.get('title')}: {d.get('lines')} lines, play {d.get('play_id')}"
    if kind == "failed" and ("message" in d or "reason" in d):
        return str(d.get("message") or d.get("reason"))
    if kind == "cancelled" and "chunks_done" in d:
        return f"after {d['chunks_done']} chunks"
    if kind == "retried":
        return f"run {d.get('run')} (was {d.get('previous')})"
    return "  ".join(f"{key}={value}" for key, value in d.items())


@app.command("eval")
def eval_command(
    playbook: Annotated[
        str | None,
        typer.Argument(
            metavar="PLAYBOOK|JOB_ID", help="playbook/v1 JSON file, or a completed job's id"
        ),
    ] = None,
    truth: Annotated[
        Path | None, typer.Argument(metavar="TRUTH", help="the truth.json to score against")
    ] = None,
    cases: Annotated[
        Path | None,
        typer.Option("--all", help="score every case under DIR", metavar="DIR", file_okay=False),
    ] = None,
    minimum: Annotated[
        list[str] | None,
        typer.Option(
            "--min", metavar="NAME=VALUE", help="a target, e.g. speaker_accuracy=0.9; repeatable"
        ),
    ] = None,
    output: OutputOpt = Output.text,
) -> None:
    """Score a playbook against ground truth; exit 1 when a figure is below its target."""
    from playparse import eval_cases

    try:
        targets = eval_cases.thresholds(minimum or ())
        if cases is not None and playbook is None:
            _eval_all(cases, targets, output)
            return
        if cases is not None or playbook is None or truth is None:
            raise eval_cases.EvalError("give PLAYBOOK and TRUTH, or --all DIR")
        expected = eval_cases.load_json(truth, "truth file")
        if Path(playbook).is_file() or playbook.endswith(".json"):
            played = eval_cases.load_json(Path(playbook), "playbook")
        else:
            played = _call(lambda client: client.result(playbook))
    except eval_cases.EvalError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(Exit.USAGE) from None
    scores = eval_cases.evaluate(played, expected)
    missed = scores.missed_targets(targets)
    if output == Output.json:
        result = {"scores": scores.as_dict(), "targets": targets, "missed": sorted(missed)}
        _print_json({**result, "met": not missed})
    else:
        for line in eval_cases.format_scores(scores, targets):
            _say(line)
    if missed:
        summary = escape(eval_cases.missed_summary(missed, targets))
        err.print(f"[red]error:[/red] below target: {summary}")
        raise typer.Exit(Exit.JOB_FAILED)


def _eval_all(directory: Path, targets: dict[str, float], output: Output) -> None:
    from playparse import eval_cases

    results = eval_cases.run_cases(directory, targets)
    if output == Output.json:
        _print_json([result.as_row() for result in results])
    else:
        for line in eval_cases.format_table(results):
            _say(line)
    failed = [result for result in results if not result.met]
    if failed:
        names = ", ".join(f"{result.case}/{result.file}" for result in failed)
        err.print(f"[red]error:[/red] {len(failed)} of {len(results)} below target: {names}")
        raise typer.Exit(Exit.JOB_FAILED)


@app.command()
def up(
    data_dir: Annotated[
        Path, typer.Option(help="where jobs, plays and Temporal state live")
    ] = Path(".playparse"),
    port: Annotated[int, typer.Option(help="API port")] = 8000,
    temporal_port: Annotated[int, typer.Option()] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port")] = 8233,
) -> None:
    """Run the embedded stack (Temporal dev server, SQLite, worker, API) until Ctrl-C."""
    _run_stack(data_dir, port, temporal_port, ui_port, demo_file=None)


@app.command()
def demo(
    file: Annotated[
        Path | None, typer.Argument(help="play to parse (default: bundled sample)")
    ] = None,
    data_dir: Annotated[Path, typer.Option()] = Path(".playparse"),
    port: Annotated[int, typer.Option()] = 8000,
    temporal_port: Annotated[int, typer.Option()] = 7233,
    ui_port: Annotated[int, typer.Option()] = 8233,
) -> None:
    """Start the embedded stack, parse a sample play, print a summary, keep serving."""
    from playparse.demo import sample_play

    _run_stack(data_dir, port, temporal_port, ui_port, demo_file=file or sample_play())


def _run_stack(
    data_dir: Path, port: int, temporal_port: int, ui_port: int, demo_file: Path | None
) -> None:
    from pydantic import ValidationError

    from playparse import loop
    from playparse.config import Settings
    from playparse.demo import run_demo
    from playparse.devstack import StackError, run_stack
    from playparse.logs import configure_logging

    try:
        settings = Settings(data_dir=data_dir, api_port=port)
    except ValidationError as error:
        problems = "; ".join(
            f"PLAYPARSE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        err.print(f"[red]error:[/red] invalid settings: {problems}")
        raise typer.Exit(Exit.USAGE) from None
    configure_logging(settings.log_format, settings.log_level)
    hook = None
    if demo_file is not None:

        async def hook_fn(addresses: Any) -> None:
            await asyncio.to_thread(run_demo, addresses, demo_file, out, err)

        hook = hook_fn
    try:
        loop.run(run_stack(settings, temporal_port=temporal_port, ui_port=ui_port, on_ready=hook))
    except StackError as error:
        err.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(Exit.UNREACHABLE) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    app()

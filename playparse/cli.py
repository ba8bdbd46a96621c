"""The `playparse` command: start the embedded stack, submit plays and follow jobs over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from playparse.client import ApiError, PlayparseClient, Unreachable

app = typer.Typer(
    help="Parse theatre plays into structured playbooks with durable jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

DEFAULT_URL = "http://127.0.0.1:8000"
FINAL = {"completed", "failed", "cancelled"}


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
    err.print(f"[red]error:[/red] {error.message}")
    if isinstance(error, Unreachable):
        return typer.Exit(Exit.UNREACHABLE)
    if error.status in (404, 409):
        return typer.Exit(Exit.NOT_FOUND)
    return typer.Exit(Exit.USAGE if error.status and error.status < 500 else Exit.UNREACHABLE)


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
    out.print(_job_line(job))
    if job.get("stage") and job["status"] not in FINAL:
        out.print(f"  stage: {job['stage']}")
    if job.get("error"):
        out.print(f"  error: {job['error']['message']}")
    if job.get("play_id"):
        out.print(f"  play: {job['play_id']}")


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
            err.print(f"  {job_id}: {line}")
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
    with _client() as client:
        try:
            job = client.submit(file, options=options)
            if wait:
                job = wait_for_job(client, job["id"])
        except ApiError as error:
            raise _fail(error) from None
    _show_job(job, output)
    if job["status"] in ("failed", "cancelled"):
        raise typer.Exit(Exit.JOB_FAILED)


@app.command()
def jobs(
    status: Annotated[list[str] | None, typer.Option(help="filter by status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    output: OutputOpt = Output.text,
) -> None:
    """List jobs, newest first."""
    with _client() as client:
        try:
            page = client.jobs(status=status, limit=limit)
        except ApiError as error:
            raise _fail(error) from None
    if output == Output.json:
        _print_json(page)
        return
    for job in page["data"]:
        out.print(_job_line(job))
    if not page["data"]:
        err.print("no jobs")


@app.command()
def job(job_id: str, output: OutputOpt = Output.text) -> None:
    """Show one job."""
    with _client() as client:
        try:
            data = client.job(job_id)
        except ApiError as error:
            raise _fail(error) from None
    _show_job(data, output)


@app.command()
def result(job_id: str, output: OutputOpt = Output.json) -> None:
    """Print a completed job's playbook (playbook/v1 JSON)."""
    with _client() as client:
        try:
            playbook = client.result(job_id)
        except ApiError as error:
            raise _fail(error) from None
    if output == Output.json:
        _print_json(playbook)
        return
    out.print(f"{playbook['title']}")
    for act in playbook["acts"]:
        out.print(f"  {act.get('title') or 'Act'}: {len(act['scenes'])} scenes")


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

    from playparse.config import Settings
    from playparse.demo import run_demo
    from playparse.devstack import StackError, run_stack

    try:
        settings = Settings(data_dir=data_dir, api_port=port)
    except ValidationError as error:
        problems = "; ".join(
            f"PLAYPARSE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        err.print(f"[red]error:[/red] invalid settings: {problems}")
        raise typer.Exit(Exit.USAGE) from None
    hook = None
    if demo_file is not None:

        async def hook_fn(addresses: Any) -> None:
            await asyncio.to_thread(run_demo, addresses, demo_file, out, err)

        hook = hook_fn
    try:
        asyncio.run(
            run_stack(settings, temporal_port=temporal_port, ui_port=ui_port, on_ready=hook)
        )
    except StackError as error:
        err.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(Exit.UNREACHABLE) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    app()

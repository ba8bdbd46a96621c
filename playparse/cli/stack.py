"""`playparse up` and `playparse demo`: the embedded stack in the foreground."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from playparse.cli.base import Exit, app, err, out, usage_error


@app.command()
def up(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="where jobs, plays and Temporal state live "
            "\\[default: PLAYPARSE_DATA_DIR, else .playparse]",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="API port \\[default: PLAYPARSE_API_PORT, else 8000]",
            show_default=False,
            min=1,
            max=65535,
        ),
    ] = None,
    temporal_port: Annotated[int, typer.Option(min=1, max=65535)] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port", min=1, max=65535)] = 8233,
) -> None:
    """Run the embedded stack (Temporal dev server, SQLite, worker, API) until Ctrl-C."""
    _run_stack(data_dir, port, temporal_port, ui_port, demo_file=None)


@app.command()
def demo(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="play to parse (default: bundled sample)",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="where jobs, plays and Temporal state live "
            "\\[default: PLAYPARSE_DATA_DIR, else .playparse]",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="API port \\[default: PLAYPARSE_API_PORT, else 8000]",
            show_default=False,
            min=1,
            max=65535,
        ),
    ] = None,
    temporal_port: Annotated[int, typer.Option(min=1, max=65535)] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port", min=1, max=65535)] = 8233,
) -> None:
    """Start the embedded stack, parse a sample play, print a summary, keep serving."""
    from playparse.demo import sample_play

    _run_stack(data_dir, port, temporal_port, ui_port, demo_file=file or sample_play())


def _run_stack(
    data_dir: Path | None,
    port: int | None,
    temporal_port: int,
    ui_port: int,
    demo_file: Path | None,
) -> None:
    from pydantic import ValidationError

    from playparse import loop
    from playparse.config import Settings
    from playparse.demo import run_demo
    from playparse.devstack import StackError, run_stack
    from playparse.logs import configure_logging

    try:
        # Only what was given on the command line overrides the PLAYPARSE_* environment.
        given: dict[str, Any] = {"data_dir": data_dir, "api_port": port}
        settings = Settings(**{key: value for key, value in given.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"PLAYPARSE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise usage_error(f"invalid settings: {problems}") from None
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

"""Shared benchmark helpers: an embedded stack in a temp dir, percentiles and the results file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.db.migrate import upgrade
from playparse.devstack import TemporalDevServer, serving
from playparse.llm.base import Providers

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
# The ground-truth plays live beside the repository (../shared/plays).
SHARED_PLAYS = REPO.parent / "shared" / "plays"
EXAMPLE_PLAY = REPO / "examples" / "emilia-galotti.txt"

Better = Literal["higher", "lower"]


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One benchmark figure; `target` None means reported, not judged."""

    name: str
    value: float
    unit: str
    target: float | None = None
    better: Better | None = None

    @property
    def met(self) -> bool | None:
        if self.target is None or self.better is None:
            return None
        if self.better == "higher":
            return self.value >= self.target
        return self.value <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "better": self.better,
            "met": self.met,
        }


def write_results(rows: Sequence[Row], results_dir: Path = RESULTS_DIR) -> Path:
    """Merge `rows` into latest.json by name and regenerate latest.md; returns latest.json.

    Rows of other benchmarks already in the file are kept in their place; a row with a known
    name replaces the old one, a new name goes in after the row that precedes it in `rows`
    (at the end when it comes first), so a benchmark's rows stay together.
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "latest.json"
    table: list[dict[str, Any]] = []
    if path.exists():
        table = json.loads(path.read_text(encoding="utf-8"))
    for previous, row in zip([None, *rows], rows, strict=False):
        names = [entry["name"] for entry in table]
        if row.name in names:
            table[names.index(row.name)] = row.as_dict()
        elif previous is not None and previous.name in names:
            table.insert(names.index(previous.name) + 1, row.as_dict())
        else:
            table.append(row.as_dict())
    _replace(path, json.dumps(table, indent=2, ensure_ascii=False) + "\n")
    _replace(results_dir / "latest.md", render_markdown(table))
    return path


def render_markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (see bench/README.md); a target of `-` is reported, not judged.",
        "",
        "| name | value | unit | target | met |",
        "|---|---:|---|---:|---|",
    ]
    for row in rows:
        target = "-" if row["target"] is None else f"{row['target']:g}"
        if row["target"] is not None and row["better"]:
            target = ("≥ " if row["better"] == "higher" else "≤ ") + target
        met = {True: "yes", False: "**no**", None: "-"}[row["met"]]
        lines.append(
            f"| {row['name']} | {_number(row['value'])} | {row['unit']} | {target} | {met} |"
        )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"


def _replace(path: Path, text: str) -> None:
    # Written beside the target and renamed, so a reader never sees half a file.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def show(rows: Sequence[Row]) -> None:
    """Print rows as aligned lines."""
    for row in rows:
        sign = "≥" if row.better == "higher" else "≤"
        target = "" if row.target is None else f"  (target {sign} {row.target:g})"
        verdict = {True: "  met", False: "  NOT MET", None: ""}[row.met]
        print(f"  {row.name:<22} {_number(row.value):>14} {row.unit:<8}{target}{verdict}")


# --- statistics --------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def p50(values: Sequence[float]) -> float:
    return percentile(values, 0.50)


def p95(values: Sequence[float]) -> float:
    return percentile(values, 0.95)


# --- the embedded stack ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    """A running stack: Temporal dev server, SQLite, one worker and the API over real HTTP."""

    settings: Settings
    temporal: Client
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient


@contextlib.contextmanager
def cancelled_by_sigterm() -> Iterator[None]:
    """Within this, SIGTERM cancels the running task instead of ending the process at once.

    A benchmark ended by SIGTERM (`timeout`, a cancelled CI job) would otherwise skip its
    cleanup and leave its dev server, worker and fake LLM running; cancelled, the stack stops
    them on the way out.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


@contextlib.asynccontextmanager
async def running_api(
    settings: Settings, client: Client, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The API in this process on the settings' host and port, and a client for it."""
    from api.app import create_app

    app = create_app(settings, temporal=client, sessions=sessions)
    async with (
        serving(app, settings.api_host, settings.api_port) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        yield http


@contextlib.asynccontextmanager
async def embedded_stack(providers: Providers) -> AsyncIterator[Stack]:
    """Start a throwaway stack in a temp dir whose worker uses `providers`."""
    from worker import build_worker

    with cancelled_by_sigterm(), tempfile.TemporaryDirectory(prefix="playparse-bench-") as tmp:
        data_dir = Path(tmp)
        host = "127.0.0.1"
        server = TemporalDevServer(
            data_dir=data_dir / "temporal", host=host, port=free_port(), ui_port=None
        )
        # Explicit values: PLAYPARSE_* variables of the shell must not point the bench elsewhere.
        settings = Settings(
            data_dir=data_dir,
            database_url=f"sqlite+aiosqlite:///{data_dir / 'playparse.db'}",
            temporal_address=server.address,
            task_queue="bench",
            api_host=host,
            api_port=free_port(),
            default_provider="heuristic",
        )
        client = await server.start()
        engine = create_engine(settings.resolved_database_url)
        try:
            await upgrade(engine)
            sessions = create_sessionmaker(engine)
            worker = build_worker(client, settings, sessions, providers)
            async with worker, running_api(settings, client, sessions) as http:
                yield Stack(settings, client, sessions, http)
        finally:
            await engine.dispose()
            await server.stop()

"""The demo run: submit a sample play to the embedded stack, follow it, print a summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console

from playparse.client import PlayparseClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def sample_play() -> Path:
    """The bundled sample play (public-domain or CC0 text)."""
    return EXAMPLES / "emilia-galotti.txt"


def summarise(playbook: dict[str, Any]) -> dict[str, int | str]:
    scenes = [scene for act in playbook["acts"] for scene in act["scenes"]]
    items = [item for scene in scenes for item in scene["items"]]
    return {
        "title": playbook["title"],
        "characters": len(playbook["characters"]),
        "acts": len(playbook["acts"]),
        "scenes": len(scenes),
        "lines": sum(1 for item in items if item["type"] == "line"),
        "directions": sum(1 for item in items if item["type"] == "direction"),
    }


def run_demo(addresses: Any, file: Path, out: Console, err: Console) -> None:
    """Parse `file` through the API and print what came out (runs in a thread)."""
    started = time.monotonic()
    with PlayparseClient(addresses.api) as client:
        job = client.submit(file)
        out.print(f"submitted {file.name} as job {job['id']}")
        last = None
        while job["status"] not in ("completed", "failed", "cancelled"):
            time.sleep(0.3)
            job = client.job(job["id"])
            shown = (job["status"], job["stage"], job["chunks_done"])
            if shown != last:
                err.print(
                    f"  {job['status']:<9} {job['stage'] or '':<10} "
                    f"{job['chunks_done']:>3}/{job['chunks_total']} chunks "
                    f"{job['progress']:>3}%"
                )
                last = shown
        elapsed = time.monotonic() - started
        if job["status"] != "completed":
            reason = job["error"]["message"] if job.get("error") else job["status"]
            out.print(f"[red]job {job['id']} {job['status']}:[/red] {reason}")
        else:
            summary = summarise(client.result(job["id"]))
            out.print(f"\n[bold]{summary['title']}[/bold]")
            out.print(
                f"  characters {summary['characters']}, acts {summary['acts']}, "
                f"scenes {summary['scenes']}, lines {summary['lines']}, "
                f"directions {summary['directions']}"
            )
            out.print(f"  parsed in {elapsed:.1f} s ({job['chunks_total']} chunks)")
    out.print(f"\n  web API:         {addresses.api}  (docs: {addresses.api}/docs)")
    out.print(f"  job:             {addresses.api}/api/jobs/{job['id']}")
    if addresses.ui:
        namespace = quote(addresses.namespace, safe="")
        workflow = quote(job["id"], safe="")
        out.print(f"  Temporal Web UI: {addresses.ui}/namespaces/{namespace}/workflows/{workflow}")
    out.print("\nServing until Ctrl-C.")

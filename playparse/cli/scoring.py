"""`playparse eval`: score playbooks against ground truth, one file or every case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from playparse.cli.base import (
    Exit,
    Output,
    OutputOpt,
    app,
    call,
    err,
    print_json,
    say,
    usage_error,
)


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
            played = call(lambda client: client.result(playbook))
    except eval_cases.EvalError as error:
        raise usage_error(str(error)) from None
    scores = eval_cases.evaluate(played, expected)
    missed = scores.missed_targets(targets)
    if output == Output.json:
        result = {"scores": scores.as_dict(), "targets": targets, "missed": sorted(missed)}
        print_json({**result, "met": not missed})
    else:
        for line in eval_cases.format_scores(scores, targets):
            say(line)
    if missed:
        summary = escape(eval_cases.missed_summary(missed, targets))
        err.print(f"[red]error:[/red] below target: {summary}")
        raise typer.Exit(Exit.JOB_FAILED)


def _eval_all(directory: Path, targets: dict[str, float], output: Output) -> None:
    from playparse import eval_cases

    results = eval_cases.run_cases(directory, targets)
    if output == Output.json:
        print_json([result.as_row() for result in results])
    else:
        for line in eval_cases.format_table(results):
            say(line)
    failed = [result for result in results if not result.met]
    if failed:
        names = ", ".join(f"{result.case}/{result.file}" for result in failed)
        err.print(f"[red]error:[/red] {len(failed)} of {len(results)} below target: {names}")
        raise typer.Exit(Exit.JOB_FAILED)

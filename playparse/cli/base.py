"""What every `playparse` command shares: the app, its consoles, exit codes and API calls."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum, StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from playparse.client import ApiError, PlayparseClient, Unreachable

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class OneLineErrors(TyperGroup):
    """The `playparse` group, whose own errors (usage errors above all) are one line on stderr.

    Typer shows a usage error as the command's usage, a hint and the message in a box; this
    runs the command the way Typer runs it without its standalone mode (which leaves errors
    to the caller) and shows them as every other error of the CLI is shown, keeping their
    exit codes (2 for a usage error).
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            # Without standalone mode a command's typer.Exit comes back as its code, and a
            # command that ends normally gives back its return value (None).
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as error:
            # `playparse` alone has already printed its help (no_args_is_help), as Typer does.
            if type(error).__name__ != "NoArgsIsHelpError":
                err.print(f"[red]error:[/red] {escape(_one_line(error))}")
            sys.exit(error.exit_code)
        except typer.Abort:
            err.print("Aborted!", markup=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _one_line(error: typer.TyperException) -> str:
    """The error's message on one line, with where to find the command's help."""
    message = " ".join(error.format_message().split())
    ctx = getattr(error, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        message += f" (see {ctx.command_path} {ctx.help_option_names[0]})"
    return message


app = typer.Typer(
    cls=OneLineErrors,
    help="Parse theatre plays into structured playbooks with durable jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DEFAULT_URL = "http://127.0.0.1:8000"
FINAL = {"completed", "failed", "cancelled"}
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


def client() -> PlayparseClient:
    return PlayparseClient(os.environ.get("PLAYPARSE_URL", DEFAULT_URL))


def fail(error: ApiError) -> typer.Exit:
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
    if error.status is None or error.status < 500:
        # Refused by the API, or never sent (PLAYPARSE_URL is not a usable URL).
        return typer.Exit(Exit.USAGE)
    return typer.Exit(Exit.UNREACHABLE)


def call(action: Callable[[PlayparseClient], T]) -> T:
    """Run one exchange with the API, turning its errors into an exit."""
    try:
        api = client()
    except ApiError as error:
        raise fail(error) from None
    with api:
        try:
            return action(api)
        except ApiError as error:
            raise fail(error) from None


def say(line: str) -> None:
    """One line of data on stdout, printed as is (no markup, no emoji codes)."""
    out.print(line, markup=False, emoji=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def usage_error(message: str) -> typer.Exit:
    """Show a usage error on stderr; raise what this returns."""
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(Exit.USAGE)

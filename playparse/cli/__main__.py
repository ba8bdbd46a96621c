"""`python -m playparse.cli`, the same as the `playparse` command."""

from playparse.cli import app

app(prog_name="playparse")

"""The `playparse` command: start the embedded stack, submit plays and follow jobs over HTTP.

`base` holds the app, the exit codes and the API calls every command shares; the commands
live in `jobs` (submit, list, steer, watch), `scoring` (eval) and `stack` (up, demo), each
registering itself on the app when imported here.
"""

from playparse.cli import jobs, scoring, stack
from playparse.cli.base import app

__all__ = ["app", "jobs", "scoring", "stack"]

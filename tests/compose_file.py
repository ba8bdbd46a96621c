"""Reading docker-compose.yml, the Dockerfile and .dockerignore the way Docker would.

Compose interpolates `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$` after parsing the
YAML; the helpers here do the same, so tests see the values a container would get.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BIN = Path(sys.executable).parent

# The services built from this repository's Dockerfile, and the ones that run to completion.
PROJECT_SERVICES = ("migrate", "api", "worker-1", "worker-2")
ONE_SHOT = ("temporal-schema", "temporal-setup", "migrate")

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)


class MissingVariable(KeyError):
    """A `${VAR:?message}` whose variable is unset: compose refuses to start."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """`value` with compose's variable substitution applied to every string in it."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg, found = match["op"], match["arg"], env.get(name)
        unset = found is None or (found == "" and op is not None and op.startswith(":"))
        if op in ("-", ":-") and unset:
            return str(arg)
        if op in ("?", ":?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        return found or ""

    return _VARIABLE.sub(replace, value)


def load(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as compose sees it, variables taken from `env` (none by default)."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    model: dict[str, Any] = interpolate(raw, env or {})
    return model


def environment_of(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment as a mapping; None means "passed through from the host"."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = [item.split("=", 1) if "=" in item else [item, None] for item in env]
        return {key: value for key, value in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def argv(service: dict[str, Any], part: str = "command") -> list[str]:
    """A service's command (or entrypoint) as an argument list."""
    value = service.get(part) or []
    return shlex.split(value) if isinstance(value, str) else [str(item) for item in value]


def published_ports(service: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    """(host ip, host port, container port, protocol) of every port published on the host."""
    found = []
    for spec in service.get("ports") or []:
        if isinstance(spec, dict):
            published = spec.get("published")
            if published is not None:
                found.append(
                    (
                        spec.get("host_ip", "0.0.0.0"),
                        int(published),
                        int(spec["target"]),
                        spec.get("protocol", "tcp"),
                    )
                )
            continue
        text, _, protocol = str(spec).partition("/")
        parts = text.rsplit(":", 2)
        if len(parts) == 1:
            continue  # only a container port: Docker picks a free host port
        host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
        found.append((host_ip, int(parts[-2]), int(parts[-1]), protocol or "tcp"))
    return found


def local_argv(command: list[str]) -> list[str]:
    """The image's command run from this virtual environment (`python`, `uvicorn`, `alembic`)."""
    program = sys.executable if command[0] == "python" else str(BIN / command[0])
    assert Path(program).exists(), f"{command[0]} is not installed in {BIN}"
    return [program, *command[1:]]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for every instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), " ".join(rest.split())))
    return instructions


def ignored_by_docker(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative, with /) out of the build context.

    The last pattern that matches the path or one of its parent directories decides, as in
    Docker's own matcher; `!` re-includes.
    """
    excluded = False
    prefixes = ["/".join(path.split("/")[: i + 1]) for i in range(path.count("/") + 1)]
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            excluded = not negated
    return excluded

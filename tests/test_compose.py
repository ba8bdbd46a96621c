"""docker-compose.yml, the Dockerfile and .dockerignore, read as Docker would (no engine here).

tests/test_compose_services.py then runs the project's services with their compose commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from playparse.config import Settings
from playparse.devstack import DYNAMIC_CONFIG, temporal_binary
from playparse.temporal import SEARCH_ATTRIBUTES
from tests.compose_file import (
    ONE_SHOT,
    PROJECT_SERVICES,
    ROOT,
    MissingVariable,
    argv,
    dockerfile_instructions,
    environment_of,
    ignored_by_docker,
    load,
    published_ports,
)

PASSWORD = "not-a-real-password"
LONG_RUNNING = ("postgresql", "temporal", "temporal-ui", "api", "worker-1", "worker-2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load({"POSTGRES_PASSWORD": PASSWORD})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def test_the_stack_has_the_production_shape(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {*LONG_RUNNING, *ONE_SHOT}
    for name in LONG_RUNNING:
        assert services[name]["restart"] in ("always", "unless-stopped"), name
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    for name in ONE_SHOT:
        # A one-shot job restarted "always" would run again and again.
        assert str(services[name]["restart"]).split(":")[0] in ("no", "on-failure"), name


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    postgresql = compose["services"]["postgresql"]
    assert "postgresql-data:/var/lib/postgresql/data" in postgresql["volumes"]
    used = {
        str(mount).split(":")[0]
        for service in compose["services"].values()
        for mount in service.get("volumes", [])
    }
    assert used == set(compose["volumes"]), "every volume is named and declared"


def test_host_ports_do_not_collide(services: dict[str, dict[str, Any]]) -> None:
    published = [(port, name) for name, s in services.items() for port in published_ports(s)]
    host_ports = [(host, protocol) for (_, host, _, protocol), _ in published]
    assert len(host_ports) == len(set(host_ports)), published
    listening = {"api": int(argv(services["api"])[argv(services["api"]).index("--port") + 1])}
    listening |= {"temporal": 7233, "temporal-ui": 8080}
    assert {name: target for (_, _, target, _), name in published} == listening
    # Temporal and its UI have no authentication: only this machine reaches them.
    for (host_ip, _, _, _), name in published:
        assert host_ip == "127.0.0.1" or name == "api", name
    for name in ("worker-1", "worker-2"):
        metrics = environment_of(services[name])["PLAYPARSE_WORKER_METRICS_ADDRESS"]
        assert metrics is not None and [metrics.rsplit(":")[1]] == services[name]["expose"]


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag and tag not in ("", "latest"), f"{name}: {image}"
    for name in PROJECT_SERVICES:
        assert services[name]["image"] == f"playparse:{version}"
        assert services[name]["build"] == "."


def test_temporal_runs_the_version_the_tests_use(services: dict[str, dict[str, Any]]) -> None:
    output = subprocess.run(
        [str(temporal_binary()), "--version"], capture_output=True, text=True, check=True
    ).stdout  # "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)"
    server = output.split("Server ")[1].split(",")[0]
    for name in ("temporal", "temporal-schema", "temporal-setup"):
        tag = services[name]["image"].rpartition(":")[2]
        assert tag.split(".")[:2] == server.split(".")[:2], f"{name} {tag}, dev server {server}"


def test_temporal_is_configured_as_playparse_expects(compose: dict[str, Any]) -> None:
    dynamic = yaml.safe_load(compose["configs"]["temporal-dynamic-config"]["content"])
    for key, value in DYNAMIC_CONFIG.items():
        # YAML reads `true` as a boolean; the dev server is given the JSON spelling.
        assert [json.dumps(entry["value"]) for entry in dynamic[key]] == [value], key
    temporal = compose["services"]["temporal"]
    mounted = {config["target"] for config in temporal["configs"]}
    assert environment_of(temporal)["DYNAMIC_CONFIG_FILE_PATH"] in mounted
    script = argv(compose["services"]["temporal-setup"])[0]
    listed = script.split("for pair in ")[1].split(";")[0].split()
    assert dict(item.split("=") for item in listed) == SEARCH_ATTRIBUTES


def test_the_setup_scripts_are_valid_shell(services: dict[str, dict[str, Any]]) -> None:
    # temporal-setup also runs for real in test_compose_services.py; temporal-sql-tool is not
    # installed here, so temporal-schema's script is only parsed.
    for name in ("temporal-schema", "temporal-setup"):
        command = argv(services[name], "entrypoint") + argv(services[name])
        assert command[:2] == ["/bin/sh", "-c"], name
        parsed = subprocess.run(["/bin/sh", "-n", "-c", command[2]], capture_output=True, text=True)
        assert parsed.returncode == 0, f"{name}: {parsed.stderr}"


def test_the_playparse_environment_is_real_settings(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    postgresql = environment_of(services["postgresql"])
    for name in PROJECT_SERVICES:
        env = environment_of(services[name])
        assert all(key.startswith("PLAYPARSE_") for key in env), name
        unknown = {key.removeprefix("PLAYPARSE_").lower() for key in env} - set(
            Settings.model_fields
        )
        assert not unknown, f"{name} passes variables no setting reads: {unknown}"
        # Settings() reads them as the container's process would (pass-through ones unset).
        for key in [key for key in os.environ if key.startswith("PLAYPARSE_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            if value is not None:
                monkeypatch.setenv(key, value)
        settings = Settings()
        # The database and Temporal are the compose services, with the credentials they use.
        assert settings.resolved_database_url == (
            f"postgresql+asyncpg://{postgresql['POSTGRES_USER']}:{postgresql['POSTGRES_PASSWORD']}"
            f"@postgresql:5432/{postgresql['POSTGRES_DB']}"
        )
        if name != "migrate":
            assert settings.temporal_address == "temporal:7233"
            assert settings.task_queue == "playparse"


def test_secrets_come_only_from_the_host(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in environment_of(service).items():
            if key.endswith(("_API_KEY", "_BASE_URL", "_REQUESTS_PER_S")):
                assert value is None, f"{name}: {key} has a value in the file"
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        load({})  # no default password: compose refuses to start without one


def test_services_start_in_order(services: dict[str, dict[str, Any]]) -> None:
    def waits_for(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    for name in ("api", "worker-1", "worker-2"):
        assert waits_for(name) == {
            "migrate": "service_completed_successfully",
            "temporal": "service_healthy",
            "temporal-setup": "service_completed_successfully",
        }, name
    assert waits_for("migrate") == {"postgresql": "service_healthy"}
    assert waits_for("temporal-schema") == {"postgresql": "service_healthy"}
    assert waits_for("temporal") == {"temporal-schema": "service_completed_successfully"}
    assert waits_for("temporal-setup") == {"temporal": "service_healthy"}
    for name, service in services.items():
        for dep, spec in service.get("depends_on", {}).items():
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits on {dep}'s health"
            if spec["condition"] == "service_completed_successfully":
                assert dep in ONE_SHOT, f"{name} waits for {dep} to exit"


def test_the_image_is_built_from_the_lock_file() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(args.startswith("pip install") and "uv==" in args for args in runs)
    syncs = [args for args in runs if args.startswith("uv sync")]
    assert syncs and all("--frozen" in args and "--no-dev" in args for args in syncs)
    copied = [args.split()[:-1] for keyword, args in instructions if keyword == "COPY"]
    first_sync = instructions.index(("RUN", syncs[0]))
    assert "uv.lock" in sum((args for args in copied[:first_sync]), [])
    for source in sum(copied, []):
        assert (ROOT / source).exists(), source
        assert not ignored_by_docker(source), f".dockerignore drops {source}"
    user = [args for keyword, args in instructions if keyword == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    for private in (".venv", ".git", ".playparse", ".env", "tests/conftest.py"):
        assert ignored_by_docker(private), private

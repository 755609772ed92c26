from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from connector.cli import main

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORO_CONNECTOR_")}
    env.update(extra)
    return env


def test_serve_without_settings_names_each_missing_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connector", "serve"],
        cwd=tmp_path, env=clean_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    for name in ("ORO_CONNECTOR_SECRET_KEY", "ORO_CONNECTOR_ENCRYPTION_KEYS", "ORO_CONNECTOR_PUBLIC_URL"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_db_upgrade_then_check_against_the_sandbox_and_a_closed_port(
    tmp_path: Path, sandbox_server: Any
) -> None:
    env = {
        "ORO_CONNECTOR_MODE": "test",
        "ORO_CONNECTOR_VAR_DIR": str(tmp_path / "var"),
        "ORO_CONNECTOR_PUBLIC_URL": "http://connector.test",
        "ORO_CONNECTOR_ORO_URL": sandbox_server.oro_url,
        "ORO_CONNECTOR_ORO_INTEGRATION_CLIENT_ID": "demo-integration",
        "ORO_CONNECTOR_ORO_INTEGRATION_CLIENT_SECRET": "demo-secret",
    }
    runner = CliRunner()
    before = runner.invoke(main, ["check"], env=env)
    assert before.exit_code == 1
    assert "oro-connector db upgrade" in before.output
    upgraded = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert (tmp_path / "var" / "connector.db").is_file()
    after = runner.invoke(main, ["check"], env=env)
    assert after.exit_code == 0, after.output
    assert "migrations" in after.output
    assert "emails API available" in after.output and "Commerce resources available" in after.output

    closed = f"http://127.0.0.1:{_free_port()}/oro"
    down = runner.invoke(main, ["check"], env={**env, "ORO_CONNECTOR_ORO_URL": closed})
    assert down.exit_code == 1
    assert "127.0.0.1" in down.output and "FAIL" in down.output


def test_keys_generate_prints_usable_keys() -> None:
    from connector.settings import load_settings

    result = CliRunner().invoke(main, ["keys", "generate"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    secret = lines[0].split("=", 1)[1]
    key = lines[1].rsplit(" ", 1)[1]
    settings = load_settings(
        {"secret_key": secret, "encryption_keys": key, "public_url": "https://c.example"},
        environ={}, env_file=None,
    )
    assert settings.encryption_keys == (key,)

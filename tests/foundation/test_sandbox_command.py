from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sandbox_command_serves_oro_with_faults_set_at_start() -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORO_CONNECTOR_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--port", str(port), "--latency-ms", "30"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/sandbox/oro"
        deadline = time.monotonic() + 30
        while True:
            try:
                token = requests.post(
                    f"{base}/oauth2-token",
                    data={"grant_type": "client_credentials", "client_id": "demo-integration",
                          "client_secret": "demo-secret"},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.2)
        assert token.status_code == 200
        started = time.monotonic()
        answer = requests.get(
            f"{base}/admin/api/customers",
            headers={"Accept": "application/vnd.api+json",
                     "Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=5,
        )
        assert answer.status_code == 200
        assert len(answer.json()["data"]) == 10
        assert time.monotonic() - started >= 0.03
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "/sandbox/oro/admin/api" in output

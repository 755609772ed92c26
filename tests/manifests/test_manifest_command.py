from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from click.testing import CliRunner

from connector.cli import main

CLIENT_ID = "2b8f6c1d-9e4a-4f7b-8c3d-1a2b3c4d5e6f"


def test_manifest_gmail_prints_a_deployment_for_the_base_url() -> None:
    result = CliRunner().invoke(main, ["manifest", "gmail", "--base-url", "https://connector.example.com"])
    assert result.exit_code == 0, result.output
    deployment = json.loads(result.output)
    assert deployment["addOns"]["gmail"]["contextualTriggers"][0]["onTriggerFunction"] == (
        "https://connector.example.com/addons/gmail/message"
    )


def test_manifest_refuses_a_plain_http_url() -> None:
    result = CliRunner().invoke(main, ["manifest", "gmail", "--base-url", "http://connector.example.com"])
    assert result.exit_code == 2
    assert "Cannot build the manifest" in result.output


def test_manifest_outlook_xml_and_json_share_a_stable_add_in_id() -> None:
    runner = CliRunner()
    args = ["manifest", "outlook", "--base-url", "https://connector.example.com", "--client-id", CLIENT_ID]
    first = runner.invoke(main, args)
    again = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert first.output == again.output
    root = ET.fromstring(first.output)
    assert root.tag.endswith("OfficeApp")
    as_json = runner.invoke(main, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    add_in_id = root.find("{http://schemas.microsoft.com/office/appforoffice/1.1}Id")
    assert add_in_id is not None and json.loads(as_json.output)["id"] == add_in_id.text


def test_manifest_outlook_needs_a_client_id() -> None:
    result = CliRunner().invoke(main, ["manifest", "outlook", "--base-url", "https://connector.example.com"])
    assert result.exit_code == 2
    assert "client id" in result.output

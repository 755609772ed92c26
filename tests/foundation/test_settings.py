from __future__ import annotations

import re
from pathlib import Path

import pytest

from connector.settings import SettingsError, describe, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_production_without_settings_names_each_missing_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={}, env_file=None)
    report = caught.value.report()
    for name in ("ORO_CONNECTOR_SECRET_KEY", "ORO_CONNECTOR_ENCRYPTION_KEYS", "ORO_CONNECTOR_PUBLIC_URL"):
        assert name in report
    assert "Traceback" not in report


def test_malformed_values_are_all_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"mode": "test"},
            environ={
                "ORO_CONNECTOR_PORT": "eighty",
                "ORO_CONNECTOR_SANDBOX": "maybe",
                "ORO_CONNECTOR_PROT": "1",
            },
            env_file=None,
        )
    problems = "\n".join(caught.value.problems)
    assert "ORO_CONNECTOR_PORT must be a whole number" in problems
    assert "ORO_CONNECTOR_SANDBOX must be true or false" in problems
    assert "ORO_CONNECTOR_PROT is not a setting" in problems


def test_bad_encryption_key_is_named_by_position() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"mode": "test", "encryption_keys": "not-a-key"}, environ={}, env_file=None)
    assert "key 1 is not a Fernet key" in str(caught.value)


def test_env_file_then_environment_then_overrides(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ORO_CONNECTOR_MODE=test\nORO_CONNECTOR_PORT=9001\nORO_CONNECTOR_WORKERS=3\n")
    settings = load_settings({"workers": 5}, environ={"ORO_CONNECTOR_PORT": "9002"}, env_file=env_file)
    assert (settings.mode, settings.port, settings.workers) == ("test", 9002, 5)


def test_lists_and_derived_urls() -> None:
    settings = load_settings(
        {"mode": "test", "admin_emails": "a@x.example, b@x.example", "oro_url": "https://oro.example/",
         "oro_backoffice_prefix": ""},
        environ={}, env_file=None,
    )
    assert settings.admin_emails == ("a@x.example", "b@x.example")
    assert settings.oro_api_base == "https://oro.example/api"
    commerce = load_settings({"mode": "test", "oro_url": "https://oro.example"}, environ={}, env_file=None)
    assert commerce.oro_api_base == "https://oro.example/admin/api"


def test_repr_hides_secrets() -> None:
    settings = load_settings({"mode": "test", "oro_client_secret": "s3cr3t-value"}, environ={}, env_file=None)
    assert "s3cr3t-value" not in repr(settings)


def test_readme_documents_every_setting() -> None:
    text = README.read_text()
    documented = set(re.findall(r"`(ORO_CONNECTOR_[A-Z_]+)`", text))
    missing = [name for name, *_ in describe() if name not in documented]
    assert not missing, f"README.md lacks {missing}"


def test_graph_resource_is_a_resource_not_the_apis_url() -> None:
    environ = {"ORO_CONNECTOR_GRAPH_RESOURCE": "https://graph.microsoft.us"}
    us = load_settings({"mode": "test"}, environ=environ, env_file=None)
    assert us.graph_resource == "https://graph.microsoft.us"
    assert load_settings({"mode": "test"}, environ={}, env_file=None).graph_resource == (
        "https://graph.microsoft.com"
    )
    for mistaken in ("https://graph.microsoft.us/v1.0", "graph.microsoft.us", "http://graph.microsoft.us"):
        with pytest.raises(SettingsError) as caught:
            load_settings({"mode": "test", "graph_resource": mistaken}, environ={}, env_file=None)
        assert "ORO_CONNECTOR_GRAPH_RESOURCE must be a resource" in str(caught.value)


def test_internal_domains_that_are_not_domains_stop_the_start() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"mode": "test", "internal_domains": "acme.example, acme corp"}, environ={}, env_file=None
        )
    assert caught.value.problems == ["ORO_CONNECTOR_INTERNAL_DOMAINS: 'acme corp' is not a domain."]

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from connector.db.models import Credential, User
from connector.security.credentials import read_secret, rotate_secrets, save_secret
from connector.security.secrets import SecretBox, SecretDecryptionError

SECRET = "oro-refresh-token-4f1c2d9e8b7a6"


def test_secret_is_stored_encrypted_and_never_logged(
    db: Session, backend: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from connector.app_services import secret_box

    box = secret_box()
    user = User(email="alice@example.com")
    db.add(user)
    save_secret(db, box, user=user, provider="oro", secret=SECRET)
    logging.getLogger("connector.test").info("stored credential for %s", user)
    db.commit()

    raw = db.execute(text("SELECT secret FROM credentials")).scalar_one()
    assert SECRET not in raw
    assert read_secret(db, box, user=user, provider="oro") == SECRET
    if backend == "sqlite":
        db_file = Path(database_url.removeprefix("sqlite:///"))
        db.get_bind().dispose()  # checkpoint and close so every byte is on disk
        on_disk = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        assert SECRET.encode() not in on_disk
    assert SECRET not in capsys.readouterr().err


def test_rotation_reencrypts_with_the_newest_key(db: Session, backend: str) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_box = SecretBox([old_key])
    user = User(email="bob@example.com")
    db.add(user)
    save_secret(db, old_box, user=user, provider="oro", secret=SECRET)
    db.commit()

    rotated_box = SecretBox([new_key, old_key])
    assert rotate_secrets(db, rotated_box) == 1
    db.commit()
    db.expire_all()
    assert read_secret(db, SecretBox([new_key]), user=user, provider="oro") == SECRET
    with pytest.raises(SecretDecryptionError):
        read_secret(db, old_box, user=user, provider="oro")


def test_keys_rotate_command(app_factory: Any, database_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from connector.cli import main
    from connector.db import db as database

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app = app_factory(encryption_keys=(old_key,))
    with database.session_scope(app) as session:
        user = User(email="carol@example.com")
        session.add(user)
        save_secret(session, SecretBox([old_key]), user=user, provider="oro", secret=SECRET)

    env = {
        "ORO_CONNECTOR_MODE": "test",
        "ORO_CONNECTOR_DATABASE_URL": database_url,
        "ORO_CONNECTOR_ENCRYPTION_KEYS": f"{new_key},{old_key}",
        "ORO_CONNECTOR_VAR_DIR": str(tmp_path / "var"),
        "ORO_CONNECTOR_LOG_FORMAT": "text",
    }
    result = CliRunner().invoke(main, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 secret(s)" in result.output
    with database.session_scope(app) as session:
        stored = session.scalars(select(Credential)).one()
        assert SecretBox([new_key]).decrypt(stored.secret) == SECRET

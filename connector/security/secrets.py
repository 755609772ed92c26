"""Encryption of secrets at rest (tokens, client secrets) with a rotation list of Fernet keys.

The first key encrypts; every key decrypts, so a new key can be put in front and the stored
secrets re-encrypted later with ``oro-connector keys rotate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key (a key was removed too early?)."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def invalid_keys(keys: Iterable[str]) -> list[int]:
    """1-based positions of the keys that are not valid Fernet keys."""
    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            bad.append(position)
    return bad


class SecretBox:
    """Encrypts text with the newest key, decrypts with any, re-encrypts with the newest."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretDecryptionError(
                "a stored secret could not be decrypted with any key in ORO_CONNECTOR_ENCRYPTION_KEYS"
            ) from None

    def rotate(self, token: str) -> str:
        """The same secret, encrypted with the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretDecryptionError(
                "a stored secret could not be decrypted with any key in ORO_CONNECTOR_ENCRYPTION_KEYS"
            ) from None

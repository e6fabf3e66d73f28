"""Encryption at rest for provider keys and tool credentials."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SecretDecryptError(Exception):
    """The stored secret was encrypted with another key."""


class SecretBox:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretDecryptError("stored secret cannot be decrypted with this key") from exc


def mask_secret(plaintext: str) -> str:
    """`sk-…abcd`: enough to recognise a key, never enough to use it."""
    if len(plaintext) < 12:
        return "…"
    head, dash, _ = plaintext[:6].partition("-")
    prefix = head + dash if dash else ""
    return f"{prefix}…{plaintext[-4:]}"

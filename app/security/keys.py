"""Signing and encryption keys: from the environment, or generated once into the data dir."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from app.security.files import make_private_dir
from app.settings import Settings

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret.key"
ENCRYPTION_KEY_FILE = "encryption.key"


@dataclass(frozen=True)
class Keys:
    secret_key: str
    encryption_key: str


def load_keys(settings: Settings) -> Keys:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    fernet = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    if not secret:
        secret = _read_or_create(settings.data_dir / SECRET_KEY_FILE, secrets.token_urlsafe(48))
    if not fernet:
        path = settings.data_dir / ENCRYPTION_KEY_FILE
        existed = path.exists()
        fernet = _read_or_create(path, Fernet.generate_key().decode())
        if not existed:
            log.warning(
                "NOVA_ENCRYPTION_KEY is not set: generated %s. BACK IT UP — without it the "
                "provider keys and tool credentials stored by Nova cannot be decrypted.",
                path.resolve(),
            )
    return Keys(secret_key=secret, encryption_key=fernet)


def _read_or_create(path: Path, fresh_value: str) -> str:
    if path.exists():
        return path.read_text().strip()
    make_private_dir(path.parent)
    # Create with 0600 so the key never exists world-readable, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(fresh_value + "\n")
    return fresh_value

"""Files on the local disk, under NOVA_DATA_DIR/files: the embedded default."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import BinaryIO

from app.security.files import make_private_dir
from app.storage import CHUNK_BYTES, check_key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, source: BinaryIO, size: int, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), source)

    def _write(self, path: Path, source: BinaryIO) -> None:
        make_private_dir(path.parent)
        partial = path.with_name(path.name + ".part")
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as target:
            shutil.copyfileobj(source, target, CHUNK_BYTES)
        partial.replace(path)  # readers never see half a file

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self._path(key), "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            handle.close()

    async def delete(self, keys: Sequence[str]) -> None:
        paths = [self._path(key) for key in keys]
        await asyncio.to_thread(_unlink_all, paths)

    async def close(self) -> None:
        return None


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)

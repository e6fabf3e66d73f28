"""Files in S3-compatible object storage (MinIO, SeaweedFS, AWS S3) through aiobotocore.

One client per process, opened on first use. Objects above MULTIPART_THRESHOLD go up in
parts of that size (S3's smallest part is 5 MiB), so no upload is held whole in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any, BinaryIO

from app.settings import Settings
from app.storage import CHUNK_BYTES, check_key

MULTIPART_THRESHOLD = 5 * 1024 * 1024
DELETE_BATCH = 1000


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        assert settings.s3_bucket
        self.bucket = settings.s3_bucket
        self.settings = settings
        self._client: Any = None
        self._resources = AsyncExitStack()
        self._lock = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                s = self.settings
                config = AioConfig(
                    s3={"addressing_style": "path" if s.s3_path_style else "virtual"},
                    signature_version="s3v4",
                    retries={"max_attempts": 3, "mode": "standard"},
                )
                self._client = await self._resources.enter_async_context(
                    get_session().create_client(
                        "s3", endpoint_url=s.s3_endpoint_url, region_name=s.s3_region, config=config,
                        aws_access_key_id=s.s3_access_key.get_secret_value() if s.s3_access_key else None,
                        aws_secret_access_key=s.s3_secret_key.get_secret_value() if s.s3_secret_key else None,
                    )
                )  # fmt: skip
            return self._client

    async def put(self, key: str, source: BinaryIO, size: int, content_type: str) -> None:
        s3, key = await self._s3(), check_key(key)
        if size <= MULTIPART_THRESHOLD:
            body = await asyncio.to_thread(source.read, size + 1)
            await s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
            return
        upload = await s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)
        upload_id = upload["UploadId"]
        parts = []
        try:
            number = 1
            while part := await asyncio.to_thread(source.read, MULTIPART_THRESHOLD):
                sent = await s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                            Body=part)  # fmt: skip
                parts.append({"ETag": sent["ETag"], "PartNumber": number})
                number += 1
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            await asyncio.shield(s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id))
            raise

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        answer = await s3.get_object(Bucket=self.bucket, Key=check_key(key))
        async with answer["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_BYTES):
                yield chunk

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        s3 = await self._s3()
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": check_key(key)} for key in keys[start : start + DELETE_BATCH]]
            await s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    async def close(self) -> None:
        await self._resources.aclose()
        self._client = None

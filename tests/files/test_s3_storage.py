"""The S3 backend against a real S3 server (SeaweedFS), and Nova's uploads through it."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import get_session

from app.settings import load_settings
from app.storage import object_key, read_all
from app.storage.s3 import S3Storage
from tests.api.support import bearer
from tests.files.seaweedfs import SeaweedS3, seaweedfs
from tests.fixtures.nova import nova_settings, open_nova

BUCKET = "nova-files"


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def s3_values(server: SeaweedS3) -> dict[str, str]:
    return {"S3_ENDPOINT_URL": server.endpoint, "S3_BUCKET": BUCKET, "S3_ACCESS_KEY": "nova",
            "S3_SECRET_KEY": "nova-secret", "S3_REGION": "us-east-1", "S3_PATH_STYLE": "true"}  # fmt: skip


@pytest.fixture
async def s3(s3_server: SeaweedS3) -> AsyncIterator[Any]:
    """A raw client, to look at the bucket from outside Nova."""
    async with get_session().create_client(
        "s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
        aws_access_key_id="nova", aws_secret_access_key="nova-secret",
    ) as client:  # fmt: skip
        try:
            await client.create_bucket(Bucket=BUCKET)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        yield client


async def test_a_large_file_goes_up_in_parts_and_streams_back(s3_server: SeaweedS3, s3: Any) -> None:
    import uuid

    storage = S3Storage(load_settings(_env_file=None, **s3_values(s3_server)))
    data = os.urandom(6 * 1024 * 1024 + 123)
    key = object_key(uuid.uuid4(), uuid.uuid4())
    try:
        await storage.put(key, io.BytesIO(data), len(data), "application/pdf")
        head = await s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] == len(data)
        assert head["ETag"].strip('"').endswith("-2")  # two parts: a multipart upload
        chunks = [chunk async for chunk in storage.stream(key)]
        assert len(chunks) > 1 and b"".join(chunks) == data
        assert await read_all(storage, key, 10) == data[:10]
        await storage.delete([key])
        assert (await s3.list_objects_v2(Bucket=BUCKET, Prefix=key)).get("KeyCount", 0) == 0
    finally:
        await storage.close()


async def test_nova_keeps_uploads_in_the_bucket(s3_server: SeaweedS3, s3: Any, database_url: str,
                                               tmp_path: Path) -> None:  # fmt: skip
    async with open_nova(nova_settings(database_url, tmp_path, **s3_values(s3_server))) as nova:
        user = await nova.create_user("ada@example.com")
        headers = await bearer(nova, user.id)
        data = b"x,y\n" * (1536 * 1024)  # 6 MiB of CSV
        async with nova.client() as client:
            answer = await client.post("/api/v1/files", files={"file": ("../../big.csv", data, "image/png")},
                                       headers=headers)  # fmt: skip
            assert answer.status_code == 201, answer.text
            file = answer.json()
            assert (file["name"], file["content_type"], file["size"]) == ("../../big.csv", "text/csv", len(data))
            key = f"users/{user.id}/files/{file['id']}"
            assert (await s3.head_object(Bucket=BUCKET, Key=key))["ContentLength"] == len(data)
            assert not (tmp_path / "files").exists()  # nothing on the local disk

            download = await client.get(f"/api/v1/files/{file['id']}/content", headers=headers)
            assert download.content == data
            assert download.headers["content-security-policy"] == "sandbox; default-src 'none'"

            assert (await client.delete(f"/api/v1/files/{file['id']}", headers=headers)).status_code == 204
            assert (await s3.list_objects_v2(Bucket=BUCKET, Prefix=key)).get("KeyCount", 0) == 0

"""The media bucket (Cloudflare R2 in production, any S3-compatible server locally), through boto3.

Checksums are computed only when required: since boto3 1.36, uploads over https otherwise use
`aws-chunked` encoding with a trailing checksum, which servers that do not decode it (including some
S3-compatible ones) store inside the object, silently corrupting it.
"""

from __future__ import annotations

from typing import Any, Protocol

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from canvasgen.config import Settings
from canvasgen.errors import StorageUnavailable

# Multipart in 8 MiB parts, 4 at a time: memory stays near 50 MiB whatever the media's size.
TRANSFER = TransferConfig(
    multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4
)
# From a stream (not a file) s3transfer reads up to 10 parts ahead of the uploads by default, so memory
# grew with the media (132 MiB for 500 MiB, docs/profiles/README.md); now no more is read than is sent.
TRANSFER.max_in_memory_upload_chunks = TRANSFER.max_concurrency


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


class MediaStore:
    """Uploads generated media and names its permanent public URL."""

    def __init__(self, settings: Settings) -> None:
        self._bucket = settings.storage_bucket
        self._public_base = settings.media_public_base_url.rstrip("/")
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=settings.storage_endpoint,
            region_name=settings.storage_region,
            aws_access_key_id=settings.storage_access_key_id.get_secret_value(),
            aws_secret_access_key=settings.storage_secret_access_key.get_secret_value(),
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    def upload(self, key: str, stream: Readable, content_type: str) -> None:
        """Stream an object into the bucket, replacing any object under the same key."""
        try:
            self._client.upload_fileobj(
                stream, self._bucket, key, ExtraArgs={"ContentType": content_type}, Config=TRANSFER
            )
        except (BotoCoreError, ClientError) as exc:
            msg = f"the media could not be stored ({type(exc).__name__})"
            raise StorageUnavailable(msg) from exc

    def public_url(self, key: str) -> str:
        """Return the permanent public URL of an object."""
        return f"{self._public_base}/{key}"

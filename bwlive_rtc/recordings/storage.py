"""Where evidence (segment files) lives: a local directory, or an S3-compatible bucket.

Both stores take finished local files and address them by key
``<recording id>/<segment file name>``. Calls block: run them off the event loop.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ..kernel.config import Settings
from ..kernel.files import private_directory


class EvidenceStore(Protocol):
    description: str

    def put(self, source: Path, key: str) -> None:
        """Store a finished local file under ``key`` durably (overwriting is idempotent)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises KeyError if there are none."""
        ...

    def keys(self, recording_id: str) -> list[str]:
        """The keys of every file the store holds of a recording."""
        ...

    def delete_recording(self, recording_id: str) -> None:
        """Remove every file of a recording."""
        ...


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"directory {root}"
        private_directory(root)

    def put(self, source: Path, key: str) -> None:
        """A hard link where the spool and the store share a file system (no copy), else a copy."""
        target = self.root / key
        private_directory(target.parent)
        temporary = target.with_name(target.name + ".tmp")
        temporary.unlink(missing_ok=True)
        try:
            os.link(source, temporary)
        except OSError:
            shutil.copyfile(source, temporary)
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())
        os.replace(temporary, target)
        _fsync_directory(target.parent)

    def get(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def keys(self, recording_id: str) -> list[str]:
        directory = self.root / recording_id
        return sorted(f"{recording_id}/{path.name}" for path in directory.iterdir()
                      if not path.name.endswith(".tmp")) if directory.is_dir() else []

    def delete_recording(self, recording_id: str) -> None:
        shutil.rmtree(self.root / recording_id, ignore_errors=True)


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, …); credentials from the usual AWS
    environment variables or configuration files, never from bwlive's settings."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None) -> None:
        import boto3  # imported here: only servers that use S3 pay for it
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint_url}" if endpoint_url else "")
        # Few, quick retries: a segment the store refuses waits in the spool and is retried
        # with the next one, so the writer thread never stalls for long.
        config = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 2})
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)

    def put(self, source: Path, key: str) -> None:
        self.client.upload_file(str(source), self.bucket, self.prefix + key)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None

    def _pages(self, recording_id: str) -> Iterator[list[str]]:
        """The recording's object names (with the prefix), a page at a time."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{recording_id}/"):
            yield [item["Key"] for item in page.get("Contents", [])]

    def keys(self, recording_id: str) -> list[str]:
        return sorted(name.removeprefix(self.prefix) for page in self._pages(recording_id) for name in page)

    def delete_recording(self, recording_id: str) -> None:
        for names in self._pages(recording_id):
            if names:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": name} for name in names]})


def open_store(settings: Settings) -> EvidenceStore:
    if settings.recordings_storage == "s3":
        if not settings.s3_bucket:
            raise ValueError("S3 storage for recordings needs a bucket (--s3-bucket)")
        return S3Store(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    if settings.recordings_storage != "local":
        raise ValueError(f"unknown recordings storage {settings.recordings_storage!r}: use local or s3")
    return LocalStore(settings.recordings_path)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""The file formats of S3 Batch Operations: CSV manifests and completion reports (standard library only).

- CSV manifest (``S3BatchOperations_CSV_20180820``): one object a row, ``bucket,key`` or ``bucket,key,versionId``,
  the key URL-encoded. Every row has the same fields: a manifest with version ids on some rows only is refused.
- Completion report (``Report_CSV_20180820``): ``<prefix>/job-<id>/manifest.json`` lists one results CSV per
  task status; each results row is ``bucket,key,versionId,taskStatus,httpStatusCode,errorCode,resultMessage``
  (the order of the documented example rows; the ``ReportSchema`` string of manifest.json names the error code
  before the HTTP status code, as AWS's own reports do).
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CSV_MANIFEST_FORMAT = "S3BatchOperations_CSV_20180820"
INVENTORY_MANIFEST_FORMAT = "S3InventoryReport_CSV_20161130"
GENERATED_MANIFEST_FORMAT = "S3InventoryReport_CSV_20211130"
"""The only format the job manifest generator writes its manifest in (``S3ManifestOutputLocation``)."""
REPORT_FORMAT = "Report_CSV_20180820"
REPORT_SCHEMA = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"
MAX_KEY_BYTES = 1024


class ManifestError(ValueError):
    """A manifest S3 Batch Operations would refuse; the message says which row and how to fix it."""


@dataclass(frozen=True)
class ManifestRow:
    """One object of a manifest (the key decoded)."""

    bucket: str
    key: str
    version_id: str | None = None


def encode_key(key: str) -> str:
    """A key as a manifest or report spells it: URL-encoded, ``/`` kept (``a b+c`` -> ``a+b%2Bc``)."""
    return urllib.parse.quote_plus(key, safe="/")


def decode_key(key: str) -> str:
    """A key as S3 Batch Operations spells it (manifests, inventory reports, task events), decoded."""
    return urllib.parse.unquote_plus(key)


def encode_csv_manifest(rows: Iterable[ManifestRow]) -> str:
    """The CSV manifest of ``rows``; ``ManifestError`` when it would be empty or mixes rows with and without
    version ids."""
    rows = list(rows)
    check_rows(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        fields = [row.bucket, encode_key(row.key)]
        if row.version_id is not None:
            fields.append(row.version_id)
        writer.writerow(fields)
    return out.getvalue()


def check_rows(rows: Sequence[ManifestRow]) -> None:
    if not rows:
        raise ManifestError("the manifest is empty: list at least one object (S3 Batch Operations fails such a job)")
    with_versions = [row for row in rows if row.version_id is not None]
    if with_versions and len(with_versions) != len(rows):
        first_without = next(index for index, row in enumerate(rows) if row.version_id is None)
        raise ManifestError(
            f"the manifest mixes rows with and without version ids ({len(with_versions)} of {len(rows)} have one; "
            f"row {first_without + 1}, {rows[first_without].key!r}, has none): give a version id for every object "
            "or for none"
        )
    for index, row in enumerate(rows):
        if not row.key:
            raise ManifestError(f"row {index + 1}: the key is empty")
        if len(row.key.encode("utf-8")) > MAX_KEY_BYTES:
            raise ManifestError(f"row {index + 1}: the key is longer than S3's {MAX_KEY_BYTES} bytes")


def parse_csv_manifest(text: str, fields: Sequence[str]) -> list[ManifestRow]:
    """The rows of a CSV manifest whose columns are ``fields`` (``["Bucket", "Key"]`` or with ``"VersionId"``)."""
    expected = list(fields)
    if expected not in (["Bucket", "Key"], ["Bucket", "Key", "VersionId"]):
        raise ManifestError(f"manifest fields must be Bucket, Key[, VersionId], got {', '.join(expected)}")
    rows: list[ManifestRow] = []
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or record == [""]:
            continue
        if len(record) != len(expected):
            raise ManifestError(
                f"manifest row {number} has {len(record)} fields ({','.join(record)}), the job's manifest spec says "
                f"{len(expected)} ({', '.join(expected)}): every row must have the same fields"
            )
        version = record[2] if len(record) == 3 else None
        rows.append(ManifestRow(bucket=record[0], key=decode_key(record[1]), version_id=version))
    if not rows:
        raise ManifestError("the manifest is empty: it lists no object")
    return rows


@dataclass(frozen=True)
class ReportRow:
    """One row of a completion report's results CSV."""

    bucket: str
    key: str
    version_id: str | None
    task_status: str
    """``succeeded`` or ``failed``."""
    http_status: int
    error_code: str
    result_message: str


def encode_report_rows(rows: Iterable[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(
            [
                row.bucket,
                encode_key(row.key),
                row.version_id or "",
                row.task_status,
                str(row.http_status),
                row.error_code,
                row.result_message,
            ]
        )
    return out.getvalue()


def parse_report_rows(text: str) -> list[ReportRow]:
    rows: list[ReportRow] = []
    for record in csv.reader(io.StringIO(text)):
        if not record:
            continue
        bucket, key, version, status, http_status, error_code, message = record
        rows.append(
            ReportRow(
                bucket=bucket,
                key=decode_key(key),
                version_id=version or None,
                task_status=status,
                http_status=int(http_status),
                error_code=error_code,
                result_message=message,
            )
        )
    return rows


__all__ = [
    "CSV_MANIFEST_FORMAT",
    "GENERATED_MANIFEST_FORMAT",
    "INVENTORY_MANIFEST_FORMAT",
    "REPORT_FORMAT",
    "REPORT_SCHEMA",
    "ManifestError",
    "ManifestRow",
    "ReportRow",
    "check_rows",
    "decode_key",
    "encode_csv_manifest",
    "encode_key",
    "encode_report_rows",
    "parse_csv_manifest",
    "parse_report_rows",
]

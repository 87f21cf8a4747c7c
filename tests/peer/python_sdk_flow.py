"""The seed's worked examples, run with the official Python `geopera` package against the dev server.

The package (PyPI `geopera`) is generated from the live API document; this script drives it,
unchanged, against `geopera-dev-server` and checks every step. It is run by
tests/peer/check_python_sdk.sh, which installs the pinned package in a venv and starts the server.

Usage:  python python_sdk_flow.py --base-url http://127.0.0.1:PORT --token TOKEN [--quota-bytes N]
        (or GEOPERA_API_URL / GEOPERA_API_TOKEN / GEOPERA_QUOTA_BYTES in the environment)

The server must have the demo data (project `prj_demo`, item `itm_demo` with asset `visual`,
clip job `clip_demo` with mosaic `visual`) and a storage quota of --quota-bytes (the 402 and
release checks depend on it). Prints one line per check and `python sdk peer: N checks OK`;
exits 1 on the first failed check.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

import httpx

# The imports the seed documents, exactly as it spells them.
from geopera import AuthenticatedClient, Client, Geopera
from geopera.api.operations import (
    clip_job_download,
    clip_job_downloads,
    items_asset_download,
    uploads_complete,
    uploads_fail,
    uploads_initiate,
    uploads_progress,
    uploads_signed_url,
)
from geopera.models import (
    AssetDownloadInput,
    ClipDownloadInput,
    ClipJobInput,
    HTTPValidationError,
    Problem,
    SignedUrlInput,
    SignedUrlOutput,
    UploadFailInput,
    UploadInitiate,
    UploadOutput,
    UploadProgressInput,
    UploadsCompleteBodyType0,
)

PROJECT_ID = "prj_demo"
DEMO_ITEM = "itm_demo"
DEMO_ASSET = "visual"
CLIP_JOB = "clip_demo"
MOSAIC = "visual"
TIFF = "image/tiff"
MIB = 1024 * 1024


class CheckFailed(AssertionError):
    pass


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_type(value: object, cls: type, what: str) -> None:
    expect(
        isinstance(value, cls),
        f"{what}: expected {cls.__name__}, got {type(value).__name__}: {value!r}",
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def get_bytes(url: str) -> bytes:
    """GET a signed URL the way the seed does: httpx.stream, chunk by chunk."""
    out = bytearray()
    with httpx.stream("GET", url, timeout=None) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_bytes():
            out.extend(chunk)
    return bytes(out)


class Flow:
    def __init__(self, base_url: str, token: str, quota_bytes: int, workdir: Path) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.quota_bytes = quota_bytes
        self.workdir = workdir
        # How the package takes a base URL: Geopera(token=..., base_url=...) (fluent.py),
        # AuthenticatedClient(base_url=..., token=...) (client.py).
        self.client = Geopera(token=token, base_url=self.base_url)
        self.generated = AuthenticatedClient(base_url=self.base_url, token=token)

    def write_file(self, name: str, size: int) -> tuple[Path, bytes]:
        data = os.urandom(size)
        path = self.workdir / name
        path.write_bytes(data)
        return path, data

    # 1 ------------------------------------------------------------------------------------
    def fluent_upload_and_download(self) -> str:
        """The seed's 'Complete upload example (fluent)', then its download example on the new item."""
        client = self.client
        file_path, data = self.write_file("harbour_2024.tif", 300_000)
        file_name = "harbour_2024.tif"
        total_bytes = os.path.getsize(file_path)

        session = client.uploads.initiate({
            "project_id": PROJECT_ID,
            "transfer_method": "signed_url",
            "file_count": 1,
            "total_bytes": total_bytes,
        })
        expect_type(session, UploadOutput, "uploads.initiate")
        upload_id = session.id
        expect(isinstance(upload_id, str) and upload_id, f"UploadOutput.id is empty: {session!r}")
        try:
            signed = client.uploads.signed_url({
                "upload_id": upload_id,
                "file_name": file_name,
                "content_type": TIFF,
            })
            expect_type(signed, SignedUrlOutput, "uploads.signed_url")
            expect(signed.object_path, f"empty object_path: {signed!r}")
            with open(file_path, "rb") as fh:
                put = httpx.put(
                    signed.upload_url,
                    content=fh.read(),
                    headers={"Content-Type": TIFF},
                    timeout=None,
                )
            put.raise_for_status()
            result = client.uploads.complete({"upload_id": upload_id})
        except Exception as exc:
            client.uploads.fail({
                "upload_id": upload_id,
                "error_message": str(exc),
                "error_step": "transfer",
            })
            raise
        expect_type(result, dict, "uploads.complete (decoded JSON)")
        item_ids = result["item_ids"]
        expect(
            isinstance(item_ids, list) and len(item_ids) == 1,
            f"uploads.complete: expected one item id, got {result!r}",
        )
        expect(result.get("id") == upload_id, f"uploads.complete: id != upload_id: {result!r}")

        # Download example: the descriptor is a dict with a signed `url`; GET it yourself.
        descriptor = client.items.asset.download({
            "item_id": item_ids[0],
            "asset_id": "harbour_2024",  # the dev server keys an uploaded asset by the file stem
        })
        expect_type(descriptor, dict, "items.asset.download (decoded JSON)")
        got = get_bytes(descriptor["url"])
        expect(
            got == data,
            f"downloaded {len(got)} bytes (sha256 {sha256(got)[:12]}) != uploaded {len(data)} "
            f"(sha256 {sha256(data)[:12]})",
        )
        # A second complete is the legitimate no-op the seed describes: it creates nothing and
        # replays the first answer, so a retry whose first answer was lost keeps the items.
        again = client.uploads.complete({"upload_id": upload_id})
        expect_type(again, dict, "second uploads.complete")
        expect(again == result, f"second complete {again!r} != first {result!r}")
        return f"{total_bytes} bytes up and down, item {item_ids[0]}"

    # 2 ------------------------------------------------------------------------------------
    def multi_file_upload(self) -> str:
        """The seed's multi-file example: one initiate, a sign + PUT per file, one complete."""
        client = self.client
        files = [("scene_b04.tif", TIFF), ("scene_b08.tif", TIFF)]
        blobs = {}
        for i, (name, _) in enumerate(files):
            blobs[name] = self.write_file(name, 200_000 + 12_345 * i)[1]
        total = sum(os.path.getsize(self.workdir / name) for name, _ in files)

        session = client.uploads.initiate({
            "project_id": PROJECT_ID,
            "transfer_method": "signed_url",
            "file_count": len(files),
            "total_bytes": total,
        })
        expect_type(session, UploadOutput, "uploads.initiate")
        upload_id = session.id
        try:
            for index, (file_name, content_type) in enumerate(files):
                signed = client.uploads.signed_url({
                    "upload_id": upload_id,
                    "file_name": file_name,
                    "content_type": content_type,
                })
                expect_type(signed, SignedUrlOutput, f"uploads.signed_url {file_name}")
                with open(self.workdir / file_name, "rb") as fh:
                    # The first as the seed writes it (fh.read()); the second streamed from the
                    # open file, as the seed advises for large files (chunked, no Content-Length).
                    content = fh.read() if index == 0 else fh
                    httpx.put(
                        signed.upload_url,
                        content=content,
                        headers={"Content-Type": content_type},
                        timeout=None,
                    ).raise_for_status()
            result = client.uploads.complete({"upload_id": upload_id})
        except Exception as exc:
            client.uploads.fail({
                "upload_id": upload_id,
                "error_message": str(exc),
                "error_step": "transfer",
            })
            raise
        expect_type(result, dict, "uploads.complete")
        item_ids = result["item_ids"]
        expect(len(item_ids) == len(files), f"expected {len(files)} item ids, got {result!r}")
        for item_id, (file_name, _) in zip(item_ids, files):
            stem = file_name.rsplit(".", 1)[0]
            descriptor = client.items.asset.download({"item_id": item_id, "asset_id": stem})
            expect_type(descriptor, dict, f"items.asset.download {item_id}/{stem}")
            got = get_bytes(descriptor["url"])
            expect(got == blobs[file_name], f"{file_name}: downloaded bytes differ from uploaded")
        return f"{len(files)} files, items {', '.join(item_ids)}"

    # 3 ------------------------------------------------------------------------------------
    def progress_reporting(self) -> str:
        """uploads.progress during a transfer: returns UploadOutput, does not change the lifecycle."""
        client = self.client
        _, data = self.write_file("progress.tif", 262_144)
        session = client.uploads.initiate({
            "project_id": PROJECT_ID,
            "transfer_method": "signed_url",
            "total_bytes": len(data),
        })
        expect_type(session, UploadOutput, "uploads.initiate")
        upload_id = session.id
        signed = client.uploads.signed_url({
            "upload_id": upload_id, "file_name": "progress.tif", "content_type": TIFF,
        })
        expect_type(signed, SignedUrlOutput, "uploads.signed_url")

        reports = []

        def chunks():
            step = 131_072
            for start in range(0, len(data), step):
                yield data[start:start + step]
                done = min(start + step, len(data))
                out = client.uploads.progress({
                    "upload_id": upload_id,
                    "status": "uploading",
                    "bytes_uploaded": done,
                })
                reports.append(out)

        httpx.put(
            signed.upload_url, content=chunks(), headers={"Content-Type": TIFF}, timeout=None,
        ).raise_for_status()
        expect(len(reports) == 2, f"expected 2 progress reports, got {len(reports)}")
        for out in reports:
            expect_type(out, UploadOutput, "uploads.progress")
            expect(out.id == upload_id, f"uploads.progress answered id {out.id!r}")
        # The generated module too, with the typed model.
        out = uploads_progress.sync(
            client=self.generated,
            body=UploadProgressInput(upload_id=upload_id, status="uploading", bytes_uploaded=len(data)),
        )
        expect_type(out, UploadOutput, "uploads_progress.sync")
        result = client.uploads.complete({"upload_id": upload_id})
        expect(
            isinstance(result, dict) and len(result.get("item_ids", [])) == 1,
            f"complete after progress reports: {result!r}",
        )
        return "3 reports, session still completes"

    # 4 ------------------------------------------------------------------------------------
    def fail_on_error_path(self) -> str:
        """The seed's try/except: a transfer error (a 403 from storage) → uploads.fail."""
        client = self.client
        _, data = self.write_file("broken.tif", 50_000)
        session = client.uploads.initiate({
            "project_id": PROJECT_ID, "transfer_method": "signed_url", "total_bytes": len(data),
        })
        expect_type(session, UploadOutput, "uploads.initiate")
        upload_id = session.id
        failed = None
        caught = None
        try:
            signed = client.uploads.signed_url({
                "upload_id": upload_id, "file_name": "broken.tif", "content_type": TIFF,
            })
            # Signed for image/tiff, PUT as something else: object storage must refuse it.
            put = httpx.put(
                signed.upload_url,
                content=data,
                headers={"Content-Type": "application/octet-stream"},
                timeout=None,
            )
            put.raise_for_status()
            client.uploads.complete({"upload_id": upload_id})
        except httpx.HTTPStatusError as exc:
            caught = exc
            failed = client.uploads.fail({
                "upload_id": upload_id,
                "error_message": str(exc),
                "error_step": "transfer",
            })
        expect(caught is not None, "a PUT with the wrong Content-Type was accepted by storage")
        expect(
            caught.response.status_code == 403,
            f"wrong-content-type PUT: expected 403, got {caught.response.status_code}",
        )
        expect_type(failed, UploadOutput, "uploads.fail")
        expect(failed.id == upload_id, f"uploads.fail answered id {failed.id!r}")
        # The session is over: completing it now is a Problem, not a success.
        after = client.uploads.complete({"upload_id": upload_id})
        expect_type(after, Problem, "uploads.complete after uploads.fail")
        expect(after.status == 404, f"complete after fail: status {after.status}")
        return "403 from storage caught, uploads.fail → UploadOutput, complete afterwards → 404 Problem"

    # 5 ------------------------------------------------------------------------------------
    def fail_releases_reservation(self) -> str:
        """initiate reserves, fail releases: two 60%-of-quota sessions in a row both fit."""
        client = self.client
        size = self.quota_bytes * 6 // 10
        for round_ in (1, 2):
            resp = client.uploads.initiate(
                {"project_id": PROJECT_ID, "transfer_method": "signed_url", "total_bytes": size},
                detailed=True,
            )
            expect(
                resp.status_code == 200,
                f"round {round_}: initiate of {size} bytes (60% of quota) answered "
                f"{int(resp.status_code)}: {resp.content[:300]!r}"
                + (" — the previous uploads.fail did not release its reservation" if round_ == 2 else ""),
            )
            expect_type(resp.parsed, UploadOutput, "uploads.initiate (detailed).parsed")
            out = client.uploads.fail({
                "upload_id": resp.parsed.id,
                "error_message": "released by the python peer check",
                "error_step": "transfer",
            })
            expect_type(out, UploadOutput, "uploads.fail")
        # Failing an already failed session is a no-op, not an error.
        again = client.uploads.fail({"upload_id": out.id, "error_message": "again"})
        expect_type(again, UploadOutput, "second uploads.fail")
        return f"2 × {size} bytes reserved and released under a {self.quota_bytes}-byte quota"

    # 6 ------------------------------------------------------------------------------------
    def generated_escape_hatch(self) -> str:
        """The seed's generated-layer upload: AuthenticatedClient + <module>.sync / sync_detailed."""
        client = self.generated
        file_path, data = self.write_file("harbour_2024.tif", 123_457)
        total_bytes = os.path.getsize(file_path)
        # The live document's transfer_method pattern lacks "signed_url"; the package does
        # not validate patterns client-side (this would raise if it did).
        session = uploads_initiate.sync(
            client=client,
            body=UploadInitiate(
                project_id=PROJECT_ID,
                transfer_method="signed_url",
                file_count=1,
                total_bytes=total_bytes,
            ),
        )
        expect_type(session, UploadOutput, "uploads_initiate.sync")
        upload_id = session.id
        try:
            detailed = uploads_signed_url.sync_detailed(
                client=client,
                body=SignedUrlInput(upload_id=upload_id, file_name="harbour_2024.tif", content_type=TIFF),
            )
            expect(detailed.status_code == 200, f"signed_url sync_detailed: {int(detailed.status_code)}")
            expect(
                detailed.headers.get("content-type", "").startswith("application/json"),
                f"signed_url content-type {detailed.headers.get('content-type')!r}",
            )
            signed = detailed.parsed
            expect_type(signed, SignedUrlOutput, "uploads_signed_url.sync_detailed(...).parsed")
            with open(file_path, "rb") as fh:
                httpx.put(
                    signed.upload_url,
                    content=fh.read(),
                    headers={"Content-Type": TIFF},
                    timeout=None,
                ).raise_for_status()
            done = uploads_complete.sync_detailed(
                client=client,
                body=UploadsCompleteBodyType0.from_dict({"upload_id": upload_id}),
            )
            expect(done.status_code == 200, f"uploads_complete.sync_detailed: {int(done.status_code)}")
            result = done.parsed
        except Exception as exc:
            uploads_fail.sync(
                client=client,
                body=UploadFailInput(upload_id=upload_id, error_message=str(exc), error_step="transfer"),
            )
            raise
        expect_type(result, dict, "uploads_complete parsed (decoded JSON)")
        expect(len(result.get("item_ids", [])) == 1, f"uploads_complete: {result!r}")
        item_id = result["item_ids"][0]

        descriptor = items_asset_download.sync(
            client=client, body=AssetDownloadInput(item_id=item_id, asset_id="harbour_2024"),
        )
        expect_type(descriptor, dict, "items_asset_download.sync")
        expect(get_bytes(descriptor["url"]) == data, "generated layer: downloaded bytes differ")

        # The async variants of the same modules.
        async def run_async():
            resp = await clip_job_downloads.asyncio_detailed(
                client=client, body=ClipJobInput(job_id=CLIP_JOB),
            )
            one = await clip_job_download.asyncio(
                client=client, body=ClipDownloadInput(job_id=CLIP_JOB, mosaic_type=MOSAIC),
            )
            return resp, one

        resp, one = asyncio.run(run_async())
        expect(resp.status_code == 200, f"clip_job_downloads.asyncio_detailed: {int(resp.status_code)}")
        expect_type(resp.parsed, dict, "clip_job_downloads.asyncio_detailed(...).parsed")
        expect_type(one, dict, "clip_job_download.asyncio")
        expect(one.get("url"), f"clip_job_download.asyncio: no url in {one!r}")
        # The fluent client exposes this same generated client as .client.
        expect_type(self.client.client, AuthenticatedClient, "Geopera(...).client")
        return f"sync, sync_detailed and asyncio(_detailed); item {item_id}"

    # 7 ------------------------------------------------------------------------------------
    def demo_asset_download(self) -> str:
        """The seed's download examples on the demo item, fluent and generated."""
        descriptor = self.client.items.asset.download({"item_id": DEMO_ITEM, "asset_id": DEMO_ASSET})
        expect_type(descriptor, dict, "items.asset.download")
        href = descriptor["url"]
        got = get_bytes(href)
        expect(got[:4] in (b"II*\x00", b"MM\x00*"), f"{DEMO_ITEM}/{DEMO_ASSET} is not a TIFF: {got[:8]!r}")
        if "size" in descriptor:
            expect(descriptor["size"] == len(got), f"descriptor size {descriptor['size']} != {len(got)}")
        generated = items_asset_download.sync(
            client=self.generated,
            body=AssetDownloadInput(item_id=DEMO_ITEM, asset_id=DEMO_ASSET),
        )
        expect_type(generated, dict, "items_asset_download.sync")
        expect(get_bytes(generated["url"]) == got, "generated descriptor's URL served different bytes")
        return f"{DEMO_ITEM}/{DEMO_ASSET}: {len(got)}-byte TIFF"

    # 8 ------------------------------------------------------------------------------------
    def clip_job_downloads_and_download(self) -> str:
        """The seed's 'Downloading a clip job': list the mosaics, resolve one, GET it."""
        client = self.client
        available = client.clip.job.downloads({"job_id": CLIP_JOB})
        expect_type(available, dict, "clip.job.downloads")
        expect(MOSAIC in repr(available), f"clip.job.downloads does not list {MOSAIC!r}: {available!r}")
        one = client.clip.job.download({
            "job_id": CLIP_JOB,
            "mosaic_type": MOSAIC,
            "user_agent": "python-sdk-peer/1",
            "requester_ip": "198.51.100.7",
        })
        expect_type(one, dict, "clip.job.download")
        got = get_bytes(one["url"])
        expect(got[:4] in (b"II*\x00", b"MM\x00*"), f"clip mosaic is not a TIFF: {got[:8]!r}")
        generated = clip_job_downloads.sync(client=self.generated, body=ClipJobInput(job_id=CLIP_JOB))
        expect(generated == available, f"generated clip_job_downloads differs: {generated!r}")
        missing = client.clip.job.download({"job_id": CLIP_JOB, "mosaic_type": "no_such_mosaic"})
        expect_type(missing, Problem, "clip.job.download of an unknown mosaic")
        expect(missing.status == 404, f"unknown mosaic: status {missing.status}")
        return f"{CLIP_JOB}/{MOSAIC}: {len(got)} bytes; unknown mosaic → 404 Problem"

    # 9 ------------------------------------------------------------------------------------
    def quota_402_detailed(self) -> str:
        """The seed's 402 branch: detailed=True, read response.status_code."""
        total_bytes = self.quota_bytes + 1
        resp = self.client.uploads.initiate(
            {"project_id": PROJECT_ID, "transfer_method": "signed_url", "total_bytes": total_bytes},
            detailed=True,
        )
        expect(resp.status_code == 402, f"over-quota initiate: expected 402, got {int(resp.status_code)}")
        # The package has no parser for 402 (only 200/401/403/404/422/500), so `parsed` is None
        # and the Problem is in the raw content; the seed's branch only reads status_code.
        expect(
            resp.headers.get("content-type", "").startswith("application/problem+json"),
            f"402 content-type {resp.headers.get('content-type')!r}",
        )
        problem = Problem.from_dict(json.loads(resp.content))
        expect(problem.status == 402, f"402 body status {problem.status}")
        generated = uploads_initiate.sync_detailed(
            client=self.generated,
            body=UploadInitiate(project_id=PROJECT_ID, transfer_method="signed_url", total_bytes=total_bytes),
        )
        expect(generated.status_code == 402, f"sync_detailed over quota: {int(generated.status_code)}")
        return f"402 for {total_bytes} bytes (parsed={resp.parsed!r}, detail {problem.detail!r})"

    # 10 -----------------------------------------------------------------------------------
    def wrong_token_401(self) -> str:
        """A wrong token: the package returns its Problem model with status 401."""
        bad = Geopera(token="gpra_wrong_token", base_url=self.base_url)
        out = bad.uploads.initiate({"project_id": PROJECT_ID, "transfer_method": "signed_url"})
        expect_type(out, Problem, "uploads.initiate with a wrong token")
        expect(out.status == 401, f"wrong token: Problem.status {out.status}")
        resp = bad.items.asset.download({"item_id": DEMO_ITEM, "asset_id": DEMO_ASSET}, detailed=True)
        expect(resp.status_code == 401, f"wrong token (detailed): {int(resp.status_code)}")
        expect_type(resp.parsed, Problem, "wrong token (detailed).parsed")
        expect(
            resp.headers.get("content-type", "").startswith("application/problem+json"),
            f"401 content-type {resp.headers.get('content-type')!r}",
        )
        generated = clip_job_downloads.sync(
            client=AuthenticatedClient(base_url=self.base_url, token="gpra_wrong_token"),
            body=ClipJobInput(job_id=CLIP_JOB),
        )
        expect_type(generated, Problem, "clip_job_downloads.sync with a wrong token")
        expect(generated.status == 401, f"generated wrong token: status {generated.status}")
        # No credentials at all (the fluent client without a token is a plain Client).
        anonymous = Geopera(base_url=self.base_url)
        out = anonymous.clip.job.downloads({"job_id": CLIP_JOB})
        expect_type(out, Problem, "clip.job.downloads without credentials")
        expect(out.status == 401, f"no token: status {out.status}")
        return "wrong token and no token → Problem(status=401)"

    # 11 -----------------------------------------------------------------------------------
    def api_key_header(self) -> str:
        """The generated modules' x_api_key parameter, an alternative to the bearer token."""
        plain = Client(base_url=self.base_url)
        out = clip_job_downloads.sync(client=plain, body=ClipJobInput(job_id=CLIP_JOB), x_api_key=self.token)
        expect_type(out, dict, "clip_job_downloads.sync with x_api_key")
        # The fluent client passes x_api_key through as well.
        anonymous = Geopera(base_url=self.base_url)
        out = anonymous.items.asset.download(
            {"item_id": DEMO_ITEM, "asset_id": DEMO_ASSET}, x_api_key=self.token,
        )
        expect_type(out, dict, "items.asset.download with x_api_key")
        bad = anonymous.items.asset.download(
            {"item_id": DEMO_ITEM, "asset_id": DEMO_ASSET}, x_api_key="gpra_wrong_key",
        )
        expect_type(bad, Problem, "items.asset.download with a wrong x_api_key")
        expect(bad.status == 401, f"wrong x-api-key: status {bad.status}")
        return "x-api-key accepted; a wrong one → 401 Problem"

    # 12 -----------------------------------------------------------------------------------
    def typed_errors(self) -> str:
        """'Errors and edge cases': Problem for 404, HTTPValidationError for 422."""
        client = self.client
        missing = client.uploads.initiate({"project_id": "prj_does_not_exist", "transfer_method": "signed_url"})
        expect_type(missing, Problem, "uploads.initiate on an unknown project")
        expect(missing.status == 404, f"unknown project: status {missing.status}")

        invalid = client.uploads.initiate({"project_id": PROJECT_ID, "file_count": 0})
        expect_type(invalid, HTTPValidationError, "uploads.initiate with file_count 0")
        locs = [list(e.loc) for e in invalid.detail]
        expect(["body", "file_count"] in locs, f"422 loc: expected ['body', 'file_count'] in {locs}")

        escape = client.uploads.initiate({"project_id": PROJECT_ID, "transfer_method": "signed_url"})
        expect_type(escape, UploadOutput, "uploads.initiate")
        bad_name = client.uploads.signed_url({"upload_id": escape.id, "file_name": "../escape.tif"})
        expect_type(bad_name, HTTPValidationError, "uploads.signed_url with file_name '../escape.tif'")
        client.uploads.fail({"upload_id": escape.id, "error_message": "done", "error_step": "sign"})

        unknown = client.items.asset.download({"item_id": "itm_nope", "asset_id": "visual"})
        expect_type(unknown, Problem, "items.asset.download of an unknown item")
        expect(unknown.status == 404, f"unknown item: status {unknown.status}")

        # complete() with no body: this package sends no body at all (json=None), so the server
        # cannot know the session; it must be a typed 422, not a crash.
        nobody = client.uploads.complete()
        expect_type(nobody, HTTPValidationError, "uploads.complete() without a body")
        return "404 Problem, 422 HTTPValidationError (loc ['body', 'file_count'], '..' file name, no body)"


CHECKS = [
    ("fluent upload → complete → asset download, bytes verified", Flow.fluent_upload_and_download),
    ("multi-file upload (2 files, one streamed), each verified", Flow.multi_file_upload),
    ("progress reporting during the PUT", Flow.progress_reporting),
    ("fail on the error path (403 from storage)", Flow.fail_on_error_path),
    ("fail releases the quota reservation", Flow.fail_releases_reservation),
    ("generated escape hatch (sync, sync_detailed, asyncio)", Flow.generated_escape_hatch),
    ("items.asset.download of the demo item", Flow.demo_asset_download),
    ("clip.job.downloads + clip.job.download", Flow.clip_job_downloads_and_download),
    ("402 over quota with detailed=True", Flow.quota_402_detailed),
    ("401 with a wrong or missing token", Flow.wrong_token_401),
    ("x-api-key header", Flow.api_key_header),
    ("typed errors: 404 Problem, 422 HTTPValidationError", Flow.typed_errors),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("GEOPERA_API_URL"))
    parser.add_argument("--token", default=os.environ.get("GEOPERA_API_TOKEN"))
    parser.add_argument(
        "--quota-bytes", type=int, default=int(os.environ.get("GEOPERA_QUOTA_BYTES", 100 * MIB)),
    )
    args = parser.parse_args()
    if not args.base_url or not args.token:
        parser.error("--base-url and --token (or GEOPERA_API_URL and GEOPERA_API_TOKEN) are required")

    from importlib.metadata import version

    print(f"python sdk peer: geopera {version('geopera')} against {args.base_url}")
    with tempfile.TemporaryDirectory(prefix="py-sdk-peer-") as tmp:
        flow = Flow(args.base_url, args.token, args.quota_bytes, Path(tmp))
        for number, (title, check) in enumerate(CHECKS, 1):
            try:
                note = check(flow)
            except Exception as exc:  # noqa: BLE001 - report any failure as the check's
                print(f"FAIL {number:2} {title}: {exc}", file=sys.stderr)
                if not isinstance(exc, CheckFailed):
                    traceback.print_exc()
                print(f"python sdk peer: check {number} of {len(CHECKS)} failed", file=sys.stderr)
                return 1
            print(f"ok   {number:2} {title} — {note}")
    print(f"python sdk peer: {len(CHECKS)} checks OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

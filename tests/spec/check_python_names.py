"""Name-fidelity check for a Python client generated from openapi.json.

Usage: python check_python_names.py <dir containing the generated `geopera` package>

Asserts that the client openapi-python-client generates from our openapi.json
has exactly the operation modules and model classes the Python SDK documents
(seed 000_754bce49c8176286), and that each operation's `sync` takes the
expected body model. Prints one summary line on success; on failure prints
every problem found (missing / unexpected names, wrong signatures) to stderr
and exits 1.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import typing
from pathlib import Path

PACKAGE = "geopera"

# operation id -> (generated module, body model, success model or None for untyped JSON)
OPERATIONS = {
    "uploads.initiate": ("uploads_initiate", "UploadInitiate", "UploadOutput"),
    "uploads.signed_url": ("uploads_signed_url", "SignedUrlInput", "SignedUrlOutput"),
    "uploads.progress": ("uploads_progress", "UploadProgressInput", "UploadOutput"),
    "uploads.complete": ("uploads_complete", "UploadsCompleteBodyType0", None),
    "uploads.fail": ("uploads_fail", "UploadFailInput", "UploadOutput"),
    "items.asset.download": ("items_asset_download", "AssetDownloadInput", None),
    "clip.job.download": ("clip_job_download", "ClipDownloadInput", None),
    "clip.job.downloads": ("clip_job_downloads", "ClipJobInput", None),
}

# The model names the seed uses, verbatim.
MODELS = [
    "UploadInitiate",
    "SignedUrlInput",
    "SignedUrlOutput",
    "UploadProgressInput",
    "UploadFailInput",
    "UploadOutput",
    "UploadsCompleteBodyType0",
    "AssetDownloadInput",
    "ClipDownloadInput",
    "ClipJobInput",
    "Problem",
    "HTTPValidationError",
]
# Generated as well, but not named by the seed (the item type of HTTPValidationError.detail).
ALLOWED_EXTRA_MODELS = {"ValidationError"}

FUNCTIONS = ("sync", "sync_detailed", "asyncio", "asyncio_detailed")


def main(gen_dir: str) -> int:
    errors: list[str] = []
    root = Path(gen_dir)
    pkg_dir = root / PACKAGE
    if not (pkg_dir / "__init__.py").is_file():
        print(f"FAIL: no generated package at {pkg_dir}", file=sys.stderr)
        return 1

    # --- operation modules: exactly the expected files, and nothing else under api/
    expected_modules = {m for m, _, _ in OPERATIONS.values()}
    api_dir = pkg_dir / "api"
    found = {}
    for p in sorted(api_dir.rglob("*.py")) if api_dir.is_dir() else []:
        if p.name == "__init__.py":
            continue
        found[p.relative_to(pkg_dir).as_posix()] = p.stem
    expected_paths = {f"api/operations/{m}.py" for m in expected_modules}
    for path in sorted(expected_paths - set(found)):
        errors.append(f"missing operation module: {PACKAGE}/{path}")
    for path in sorted(set(found) - expected_paths):
        errors.append(f"unexpected operation module: {PACKAGE}/{path}")

    # --- models: import the generated package and compare its exported names
    sys.path.insert(0, str(root))
    try:
        models = importlib.import_module(f"{PACKAGE}.models")
    except Exception as exc:  # noqa: BLE001 - report any import failure
        errors.append(f"cannot import {PACKAGE}.models: {exc!r}")
        models = None
    if models is not None:
        exported = set(getattr(models, "__all__", ()))
        for name in MODELS:
            if name not in exported or not inspect.isclass(getattr(models, name, None)):
                errors.append(f"missing model class: {PACKAGE}.models.{name}")
        for name in sorted(exported - set(MODELS) - ALLOWED_EXTRA_MODELS):
            errors.append(f"unexpected model class: {PACKAGE}.models.{name}")

    # --- each operation module: the four functions, and the body type of sync()
    for op_id, (mod_name, body_model, ok_model) in OPERATIONS.items():
        if f"api/operations/{mod_name}.py" not in found or models is None:
            continue
        qual = f"{PACKAGE}.api.operations.{mod_name}"
        try:
            mod = importlib.import_module(qual)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{op_id}: cannot import {qual}: {exc!r}")
            continue
        for fn in FUNCTIONS:
            if not callable(getattr(mod, fn, None)):
                errors.append(f"{op_id}: {qual} has no function {fn}()")
        if not callable(getattr(mod, "sync", None)):
            continue
        try:
            hints = typing.get_type_hints(mod.sync)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{op_id}: cannot resolve annotations of {qual}.sync: {exc!r}")
            continue
        want = getattr(models, body_model, None)
        body = hints.get("body")
        body_types = set(typing.get_args(body)) or {body}
        if want is None or want not in body_types:
            errors.append(
                f"{op_id}: {qual}.sync(body=...) is annotated {body!r}, expected {body_model}"
            )
        # uploads.complete is the only operation whose body may be omitted
        # (generated as a keyword with a default of UNSET).
        param = inspect.signature(mod.sync).parameters.get("body")
        optional = param is not None and param.default is not inspect.Parameter.empty
        if optional != (op_id == "uploads.complete"):
            errors.append(
                f"{op_id}: body of {qual}.sync is {'optional' if optional else 'required'}, "
                f"expected {'optional' if op_id == 'uploads.complete' else 'required'}"
            )
        ret = set(typing.get_args(hints.get("return"))) or {hints.get("return")}
        for err_model in ("Problem", "HTTPValidationError"):
            if getattr(models, err_model, object()) not in ret:
                errors.append(f"{op_id}: {qual}.sync does not return {err_model}")
        if ok_model is not None:
            if getattr(models, ok_model, object()) not in ret:
                errors.append(f"{op_id}: {qual}.sync does not return {ok_model}")
        elif typing.Any not in ret:
            errors.append(f"{op_id}: {qual}.sync should return decoded JSON (Any), got {ret!r}")

    # --- the seed's defaults survive generation
    if models is not None and not any("UploadInitiate" in e or "SignedUrlInput" in e for e in errors):
        try:
            ui = models.UploadInitiate(project_id="p").to_dict()
            want_ui = {"project_id": "p", "transfer_method": "browser", "file_count": 1,
                       "total_bytes": 0, "is_categorical": False}
            for k, v in want_ui.items():
                if ui.get(k) != v:
                    errors.append(f"UploadInitiate default {k}: got {ui.get(k)!r}, expected {v!r}")
            su = models.SignedUrlInput(upload_id="u", file_name="f").to_dict()
            if su.get("content_type") != "application/octet-stream":
                errors.append(f"SignedUrlInput default content_type: got {su.get('content_type')!r}")
            body = models.UploadsCompleteBodyType0.from_dict({"upload_id": "u"}).to_dict()
            if body != {"upload_id": "u"}:
                errors.append(f"UploadsCompleteBodyType0 does not carry upload_id as an extra key: {body!r}")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"cannot exercise generated model defaults: {exc!r}")

    if errors:
        print(f"python names: FAILED ({len(errors)} problem(s)):", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print(f"python names: {len(OPERATIONS)} operations, {len(MODELS)} models OK")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))

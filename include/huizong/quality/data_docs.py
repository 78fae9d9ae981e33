"""Great Expectations Data Docs that work offline, and the app that serves them.

GX 1.24 writes pages whose CSS and JavaScript come from CDNs (Bootstrap,
bootstrap-table, jQuery, Font Awesome, Vega) and whose logo comes from S3.
Offline the index is unstyled and lists nothing: bootstrap-table builds the
list of validations. :func:`localize` copies the vendored files of
``data_docs_assets/`` (see its README) into ``<docs>/static/vendor/`` and
rewrites every page to load them by relative path, so the site works from
disk (``file://``) and from any URL prefix. Idempotent: a page with nothing
left to rewrite is not written again.

:func:`create_docs_app` serves a Data Docs directory read-only; the Airflow
plugin mounts it at ``/huizong-docs`` behind Airflow's login.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
VENDOR_DIR = Path("static") / "vendor"

# Every asset URL GX 1.24's templates write, mapped to the vendored files that
# replace it (in order); an empty list drops the tag (see the assets README).
CDN_TO_LOCAL: dict[str, list[str]] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": [
        "bootstrap.min.css"
    ],
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": [
        "bootstrap.bundle.min.js"
    ],
    # Popper comes with bootstrap.bundle.min.js.
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": [],
    "https://code.jquery.com/jquery-3.7.1.min.js": ["jquery.min.js"],
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": [
        "bootstrap-table.min.css"
    ],
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": [
        "bootstrap-table.min.js"
    ],
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": ["bootstrap-table-filter-control.min.css"],
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": ["bootstrap-table-filter-control.min.css"],
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": ["bootstrap-table-filter-control.min.js"],
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": [
        "fontawesome/css/fontawesome.min.css",
        "fontawesome/css/solid.min.css",
        "fontawesome/css/regular.min.css",
    ],
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": ["bootstrap-datepicker.min.css"],
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": ["bootstrap-datepicker.min.js"],
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": [],
    "https://cdn.jsdelivr.net/npm/vega@5": [],
    "https://cdn.jsdelivr.net/npm/vega-lite@5": [],
    "https://cdn.jsdelivr.net/npm/vega-embed@6": [],
}
GX_IMAGES_HOST = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
GX_FALLBACK_IMAGE = "logo-long.png"

# A <link …href="http…"> or a <script …src="http…"></script>: an asset, not a
# hyperlink (<a href> to GX's documentation stays as it is). Or what an
# earlier localize put in its place, between markers naming the CDN URL, so a
# page localized before a change of CDN_TO_LOCAL is brought up to date.
_ASSET_TAG = re.compile(
    r"<link\b[^>]*?\bhref=\"(?P<css>https?://[^\"]+)\"[^>]*>"
    r"|<script\b[^>]*?\bsrc=\"(?P<js>https?://[^\"]+)\"[^>]*>\s*</script>"
    r"|<!--cdn:(?P<done>\S+?)-->.*?<!--/cdn-->",
    re.IGNORECASE | re.DOTALL,
)
_GX_IMAGE = re.compile(re.escape(GX_IMAGES_HOST) + r"(?P<name>[\w.-]+)(?:\?[^\"')\s]*)?")


class UnknownAsset(ValueError):
    """A page loads an asset from the network that CDN_TO_LOCAL does not know."""


def _relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def _asset_tags(url: str, page: Path, docs_dir: Path) -> str:
    if url not in CDN_TO_LOCAL:
        raise UnknownAsset(
            f"{page}: loads {url} from the network; vendor it in {ASSETS_DIR} and map it in "
            "huizong.quality.data_docs.CDN_TO_LOCAL (a newer Great Expectations may have "
            "changed its templates)"
        )
    tags = [f"<!--cdn:{url}-->"]
    for name in CDN_TO_LOCAL[url]:
        href = _relative(docs_dir / VENDOR_DIR / name, page)
        if name.endswith(".css"):
            tags.append(f'<link rel="stylesheet" href="{href}">')
        else:
            tags.append(f'<script src="{href}"></script>')
    tags.append("<!--/cdn-->")
    return "".join(tags)


def localize_page(text: str, page: Path, docs_dir: Path) -> str:
    """``text`` of ``page`` with every CDN asset and GX image pointed at local copies."""

    def asset(match: re.Match) -> str:
        url = match.group("css") or match.group("js") or match.group("done")
        return _asset_tags(url, page, docs_dir)

    def image(match: re.Match) -> str:
        local = docs_dir / "static" / "images" / match.group("name")
        if not local.exists():
            local = local.with_name(GX_FALLBACK_IMAGE)
        return _relative(local, page)

    return _GX_IMAGE.sub(image, _ASSET_TAG.sub(asset, text))


def install_assets(docs_dir: Path) -> None:
    """The vendored files under ``<docs>/static/vendor/``, refreshed when they differ."""
    target_root = docs_dir / VENDOR_DIR
    for source in ASSETS_DIR.rglob("*"):
        if not source.is_file() or source.suffix == ".md":
            continue
        target = target_root / source.relative_to(ASSETS_DIR)
        if target.exists() and target.read_bytes() == source.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def localize(docs_dir: Path | str) -> int:
    """Make the Data Docs site in ``docs_dir`` work offline; the number of pages rewritten."""
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        return 0
    install_assets(docs_dir)
    rewritten = 0
    for page in sorted(docs_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        local = localize_page(text, page, docs_dir)
        if local != text:
            page.write_text(local, encoding="utf-8")
            rewritten += 1
    if rewritten:
        log.info("Data Docs in %s: %d page(s) now load their assets locally", docs_dir, rewritten)
    return rewritten


def create_docs_app(
    docs_dir_provider: Callable[[], Path], *, dependencies: Sequence[Any] = ()
) -> Any:
    """A read-only app serving the Data Docs directory; ``dependencies`` guard every request.

    Paths are resolved inside the directory: ``..`` and symlinks out of it are 404.
    """
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse, RedirectResponse

    app = FastAPI(
        title="huizong Data Docs",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(d) for d in dependencies],
    )

    @app.get("/")
    def index() -> RedirectResponse:
        # Relative, so it works under whatever prefix the app is mounted at.
        return RedirectResponse("index.html", status_code=307)

    @app.get("/{path:path}")
    def page(path: str) -> FileResponse:
        root = Path(docs_dir_provider()).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            if path in ("", "index.html"):
                raise HTTPException(
                    404, "No Data Docs yet: they are written by consolidate_and_check's audit."
                )
            raise HTTPException(404, "Not found")
        return FileResponse(target)

    return app

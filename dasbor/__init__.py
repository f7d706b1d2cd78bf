"""The dashboard of the mayor's office (`/dasbor`): static files only, a pure client of `/graphql`.

The page (`static/index.html`), its script, styles and GraphQL documents (`static/queries.graphql`) and the vendored
chart library (`static/vendor/`, refreshed by `refresh_vendor.sh`) are package data. `app.py` serves them: the page at
`/dasbor` and the files under `/dasbor/static/`, every answer with the headers below (no inline script or style can
run, nothing is fetched from another host).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"
PAGE = STATIC / "index.html"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated (ETag), so a new release is seen at once
}


class DashboardFiles(StaticFiles):
    """The dashboard's static files, with its headers."""

    def file_response(self, full_path, stat_result, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(HEADERS)
        if str(full_path).endswith(".graphql"):  # not in the mimetypes table: read as text, never sniffed
            response.headers["content-type"] = "text/plain; charset=utf-8"
        return response


async def page(request: Request) -> Response:
    """`/dasbor`: the page itself."""
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=HEADERS)


def static_files() -> DashboardFiles:
    return DashboardFiles(directory=STATIC)

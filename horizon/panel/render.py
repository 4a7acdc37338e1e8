"""HTML from the Jinja2 templates beside this module, autoescaped, and the static files."""

from __future__ import annotations

import mimetypes
from importlib import resources
from typing import Any

import falcon
import jinja2
from falcon.asgi import Request, Response

from horizon import __version__

STATIC = resources.files("horizon.panel") / "static"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".md": "text/plain; charset=utf-8",
}


class Renderer:
    """Renders a page template inside the layout; every value is escaped."""

    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("horizon.panel", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,  # a misspelt name fails in the tests, not blank
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def page(self, template: str, values: dict[str, Any], *, title: str, nav: str = "") -> str:
        page = template.removesuffix(".html")  # <body data-page>: which page this is
        return self.env.get_template(template).render(
            **values, title=title, nav=nav, page=page, version=__version__
        )


class StaticResource:
    """GET /static/{name}: the panel's own CSS and JS and the vendored chart library."""

    def __init__(self) -> None:
        self.files = {
            path: entry
            for path, entry in _walk(STATIC, "")
            if not path.endswith(".map")  # no source maps are shipped
        }

    async def on_get(self, req: Request, resp: Response, name: str) -> None:
        entry = self.files.get(name)
        if entry is None:
            raise falcon.HTTPNotFound()
        suffix = "." + name.rsplit(".", 1)[-1]
        resp.content_type = _TYPES.get(suffix) or (
            mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        resp.data = entry.read_bytes()
        resp.cache_control = ["private", "max-age=300"]


def _walk(directory: Any, prefix: str) -> list[tuple[str, Any]]:
    found = []
    for entry in directory.iterdir():
        if entry.is_dir():
            found += _walk(entry, f"{prefix}{entry.name}/")
        else:
            found.append((f"{prefix}{entry.name}", entry))
    return found

"""A report page as an A4 PDF, rendered by WeasyPrint from the page's own HTML.

The PDF is the HTML page with its print stylesheet (``@media print`` in
``static/css/reports.css``), so what is printed from the browser and what is
downloaded agree. WeasyPrint never touches the network: its URL fetcher serves
only files under the app's static folder, so a report cannot be made to call out
(nor to read other files) by anything that ends up in its HTML.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, has_request_context, request
from werkzeug.security import safe_join

from survey_app.core.clock import utcnow
from survey_app.core.dates import date_time

logger = logging.getLogger(__name__)


class _ErrorsOnly(logging.Filter):
    """Let through WeasyPrint's errors (a resource that failed to load), not its warnings.

    It warns about every browser-only rule in pulse.css (media queries on
    screen width, box-shadow...) on every PDF: a hundred lines that say nothing
    about the PDF and would bury anything that does.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


logging.getLogger("weasyprint").addFilter(_ErrorsOnly())

# Used when there is no request (a PDF rendered by a job or a shell): any origin
# will do, since only its /static/ paths are ever served, from disk.
OFFLINE_BASE_URL = "http://pulse.invalid/"


class FetchRefused(ValueError):
    """WeasyPrint asked for something other than a file of the static folder."""


def _base_url() -> str:
    return request.host_url if has_request_context() else OFFLINE_BASE_URL


def static_only_fetcher(base_url: str) -> Any:
    """A WeasyPrint URL fetcher that serves ``<base_url>/static/...`` from disk, nothing else.

    Raises :class:`FetchRefused` for any other URL: another host or scheme
    (no network call is made), a path outside the static folder, or a missing
    file. WeasyPrint logs the refusal and leaves that resource out.
    """
    origin = urlsplit(base_url)
    static_folder = current_app.static_folder
    prefix = (current_app.static_url_path or "/static").rstrip("/") + "/"

    def fetch(url: str, **_: Any) -> dict[str, Any]:
        parts = urlsplit(url)
        same_origin = (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc)
        path = unquote(parts.path)
        local = (safe_join(static_folder, path[len(prefix):])
                 if same_origin and static_folder and path.startswith(prefix) else None)
        if local is None or not os.path.isfile(local):
            logger.warning("PDF: refused to fetch %s (only static files are served)", url)
            raise FetchRefused(f"not a static file of this app: {url}")
        mime_type, _encoding = mimetypes.guess_type(local)
        # WeasyPrint closes file_obj once it has read it.
        return {"file_obj": open(local, "rb"), "mime_type": mime_type,
                "redirected_url": url, "filename": os.path.basename(local)}

    return fetch


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_css(printed: str) -> str:
    # Margin boxes carry the title and printed date on every page; the title is
    # the page's own h1, captured by `string-set` in reports.css.
    return f"""
    @page {{
      size: A4;
      @top-left {{ content: string(pulse-report-title); font-size: 8pt; color: #4c6272; }}
      @top-right {{ content: {_css_string(printed)}; font-size: 8pt; color: #4c6272; }}
      @bottom-left {{ content: "Pulse"; font-size: 8pt; color: #4c6272; }}
      @bottom-right {{ content: "Page " counter(page) " of " counter(pages);
                       font-size: 8pt; color: #4c6272; }}
    }}
    """


def _safe_filename(filename: str) -> str:
    # A header value: no quotes, slashes or control characters from a team's name.
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-.")
    return cleaned or "report.pdf"


def render_pdf(html: str) -> bytes:
    """``html`` as A4 PDF bytes; resources load only from the static folder."""
    from weasyprint import CSS, HTML  # imported here: it is slow to import, and only PDFs use it

    base_url = _base_url()
    fetcher = static_only_fetcher(base_url)
    printed = f"Printed {date_time(utcnow())}"
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher, media_type="print")
    page_css = CSS(string=_page_css(printed), base_url=base_url, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[page_css])
    return pdf


def pdf_response(html: str, *, filename: str) -> Response:
    """The page as an A4 PDF download, never cached (it holds report figures)."""
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_safe_filename(filename)}"')
    response.headers["Cache-Control"] = "no-store"
    return response

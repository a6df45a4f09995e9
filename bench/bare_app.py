"""The baseline for bench/load.py: a bare Flask app, no extensions, no database.

``GET /page`` answers a constant 2 KB HTML page and ``POST /redirect`` a constant
303, the shapes of a pulse page and its acknowledged answer. Served by the same
Gunicorn settings as the app: ``gunicorn --pythonpath bench bare_app:app``.
"""

from __future__ import annotations

from flask import Flask, Response, redirect
from flask.typing import ResponseReturnValue

PAGE = ("<!DOCTYPE html>\n<html lang=\"en\"><head><title>Bare</title></head><body>\n"
        + "<p>" + "x" * 2000 + "</p>\n</body></html>\n")[:2048]

app = Flask(__name__)


@app.get("/page")
def page() -> Response:
    return Response(PAGE, mimetype="text/html")


@app.post("/redirect")
def moved() -> ResponseReturnValue:
    return redirect("/page", code=303)

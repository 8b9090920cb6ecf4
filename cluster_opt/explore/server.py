"""The explorer's HTTP API and page: a thin Starlette shell over ``session.Explorer``.

    GET  /                        the page (Leaflet, map.js and explore.js inlined: nothing else is fetched)
    GET  /api/scenario            the config, the criteria, the rules and the current answer
    POST /api/solve               {"weights": {...}, "selection": {...}, "client": "..."} -> the re-solved answer
    GET  /api/download/config.yaml    the current scenario as a YAML config
    GET  /api/download/run.zip        the current scenario's run directory, zipped

A bad value gets HTTP 422 with the one-line message ``cluster-opt run`` would print for that
YAML; a body over MAX_BODY bytes gets 413, anything but JSON 415, a request naming another host
421 (no page elsewhere can reach this server through DNS rebinding), and a request superseded by a
newer one from the same page 409. Solves run one at a time in worker threads, so the page never
waits on another page's work to be sent its answer queue.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import ClusterOptError, ConfigError
from .session import SELECTION_KEYS, Explorer, Superseded, file_name

MAX_BODY = 64 * 1024  # bytes of a request body
SECURITY_HEADERS = {
    # Everything the page needs is inline or from this server; nothing may be fetched from elsewhere.
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=SECURITY_HEADERS)


def scenario(explorer: Explorer) -> dict:
    """GET /api/scenario: what the page starts from."""
    cfg = explorer.cfg
    return {
        "name": cfg.name, "description": cfg.description, "chain": cfg.is_chain,
        "config": cfg.resolved(),
        "criteria": [{"key": k, "label": c.label or k, "weight": float(c.weight)} for k, c in cfg.criteria.items()],
        "selection": None if cfg.selection is None else {k: getattr(cfg.selection, k) for k in SELECTION_KEYS},
        "answer": explorer.current["answer"] if explorer.current else explorer.first,
    }


def create_app(explorer: Explorer, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Starlette:
    """The web app over one open scenario; ``hosts``: the host names the browser may use to reach it."""
    from .page import explore_page

    page_html = explore_page(explorer)

    async def index(request: Request) -> Response:
        return HTMLResponse(page_html, headers=SECURITY_HEADERS)

    async def get_scenario(request: Request) -> Response:
        return JSONResponse(scenario(explorer), headers=SECURITY_HEADERS)

    async def solve(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error(415, "request: expected a JSON body (Content-Type: application/json)")
        body = await _body(request)
        if body is None:
            return _error(413, f"request: the body is larger than {MAX_BODY:,} bytes")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            return _error(422, f"request: not valid JSON ({str(e).splitlines()[0][:120]})")
        try:
            answer = await run_in_threadpool(explorer.solve, data)
        except Superseded:
            return _error(409, "superseded by a newer request from the same page")
        except ConfigError as e:
            return _error(422, str(e))
        except ClusterOptError as e:
            return _error(500, str(e))
        return JSONResponse(answer, headers=SECURITY_HEADERS)

    async def download_config(request: Request) -> Response:
        text = explorer.yaml_text()
        return Response(text, media_type="application/x-yaml", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{file_name(explorer.path.stem)}-explored.yaml"'})

    async def download_run(request: Request) -> Response:
        try:
            data = await run_in_threadpool(explorer.run_zip)
        except ClusterOptError as e:
            return _error(500, str(e))
        return Response(data, media_type="application/zip", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{file_name(explorer.cfg.name)}-run.zip"'})

    routes = [Route("/", index), Route("/api/scenario", get_scenario), Route("/api/solve", solve, methods=["POST"]),
              Route("/api/download/config.yaml", download_config), Route("/api/download/run.zip", download_run)]
    allowed = {h.lower() for h in hosts}
    return Starlette(routes=routes, middleware=[Middleware(Guard, allowed=allowed)])


class Guard:
    """Refuse, before any route runs, a request naming another host (DNS rebinding) or announcing too large a body."""

    def __init__(self, app, allowed: set[str]):
        self.app, self.allowed = app, allowed

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
        length = headers.get("content-length")
        if host not in self.allowed:
            response = _error(421, f'request: host "{host[:80]}" is not this server\'s ({", ".join(sorted(self.allowed))})')
        elif length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            response = _error(413, f"request: the body is larger than {MAX_BODY:,} bytes")
        else:
            return await self.app(scope, receive, send)
        await response(scope, receive, send)


async def _body(request: Request) -> bytes | None:
    """The request body, or None once it grows past MAX_BODY (chunked bodies are counted as they come)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def serve(explorer: Explorer, host: str = "127.0.0.1", port: int = 8765, on_ready=None) -> None:
    """Serve the app until interrupted; ``on_ready(url)`` is called once it listens."""
    import socket

    import uvicorn

    hosts = ("127.0.0.1", "localhost") if host in ("127.0.0.1", "localhost") else ("127.0.0.1", "localhost", host)
    if host in ("0.0.0.0", "::"):
        hosts += (socket.gethostname(), socket.getfqdn())
    config = uvicorn.Config(create_app(explorer, hosts), host=host, port=port, log_level="warning", access_log=False,
                            limit_concurrency=64, timeout_keep_alive=30)
    server = uvicorn.Server(config)

    if on_ready is not None:
        import threading
        import time

        def announce() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                on_ready(f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/")

        threading.Thread(target=announce, daemon=True).start()
    server.run()

"""The shared HTTP client keeps no cookies: one caller's Set-Cookie never rides on the next call."""

from __future__ import annotations

from aiohttp import web

from owkernel.http import make_http_client
from owtest import free_port


async def test_shared_client_sends_no_cookie_it_was_given() -> None:
    async def handler(request: web.Request) -> web.Response:
        response = web.json_response({"cookie": request.headers.get("Cookie")})
        response.set_cookie("session", "caller-one")
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = make_http_client(base_url=f"http://127.0.0.1:{port}")
    try:
        first = await client.get("/")
        assert first.cookies.get("session") == "caller-one"
        second = await client.get("/")
        assert second.json() == {"cookie": None}
    finally:
        await client.aclose()
        await runner.cleanup()

"""Log in through the province's unified identity as a browser does (docs/api.md, "Identity assurance").

The one walk the seed and the end-to-end tests share: the gateway's redirect, the provider's login
form, its redirects back to the gateway's callback and on to ``return_to``, then the one-time login
code traded for the platform's token pair. The shared contract's walk (../shared/contract/province.py)
is the same; this copy lives here so the repo's own tools need nothing outside it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

REDIRECTS = (301, 302, 303, 307, 308)


class ProvinceLoginError(RuntimeError):
    """A step of the walk did not answer as the flow says it must."""


class _LoginForm(HTMLParser):
    """The first POST form of the provider's login page: its action and its inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None and a.get("method", "get").lower() == "post":
            self.action = a.get("action", "")
        elif (
            tag == "input"
            and self.action is not None
            and not self.done
            and a.get("name")
            and a.get("type", "text").lower() not in ("submit", "button", "image", "reset")
        ):
            self.fields.setdefault(a["name"], a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.action is not None:
            self.done = True


def province_login(gateway_url: str, id_number: str, name: str) -> dict[str, Any] | None:
    """The token pair of ``id_number`` proven through the province; None when the gateway has no provider."""
    with httpx.Client(timeout=30.0, trust_env=False, follow_redirects=False) as browser:
        r = browser.get(f"{gateway_url}/api/v1/auth/province/login", params={"return_to": "/"})
        if r.status_code not in REDIRECTS or "location" not in r.headers:
            return None  # no province provider configured: its login answers no redirect
        page = browser.get(urljoin(str(r.url), r.headers["location"]), follow_redirects=True)
        form = _LoginForm()
        form.feed(page.text)
        if page.status_code != 200 or form.action is None or not {"id_number", "name"} <= form.fields.keys():
            raise ProvinceLoginError(f"the provider's login page: {page.status_code} {page.text[:300]}")
        r = browser.post(urljoin(str(page.url), form.action), data=form.fields | {"id_number": id_number, "name": name})
        for _ in range(6):  # the provider -> the gateway's callback -> return_to with the login code
            if r.status_code not in REDIRECTS or "location" not in r.headers:
                raise ProvinceLoginError(f"the login's redirects: {r.status_code} {r.text[:300]}")
            url = urljoin(str(r.url), r.headers["location"])
            code = parse_qs(urlsplit(url).query).get("login_code")
            if code:
                break
            r = browser.get(url)
        else:
            raise ProvinceLoginError("no login_code came back to return_to")
        r = browser.post(f"{gateway_url}/api/v1/auth/province/token", json={"login_code": code[0]})
        if r.status_code != 200:
            raise ProvinceLoginError(f"the province login code: {r.status_code} {r.text[:300]}")
        pair: dict[str, Any] = r.json()
        return pair

"""The provider's HTML: the login form and the page of a request that cannot be redirected."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#222}"
    ".sim{background:#fff4d6;border:1px solid #e0b84c;padding:.75rem;border-radius:4px}"
    "label{display:block;margin-top:1rem}input[type=text]{width:100%;padding:.4rem;font-size:1rem}"
    "button{margin-top:1.25rem;padding:.5rem 1.5rem;font-size:1rem}.error{color:#b00020}"
)


def page(title: str, body: str, status: int) -> HTMLResponse:
    document = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(
        document,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            # No form-action directive: browsers apply it to the redirect back to the client too.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        },
    )


def error_page(error: str, description: str) -> HTMLResponse:
    """The 400 of a request whose redirect URI cannot be trusted (RFC 6749 4.1.2.1: never redirect)."""
    body = (
        "<h1>登录请求无效 / Invalid login request</h1>"
        f"<p><code>{html.escape(error)}</code>: {html.escape(description)}</p>"
        "<p>请回到您来自的网站重新开始。 / Go back to the site you came from and start again.</p>"
    )
    return page("登录请求无效 / Invalid login request", body, 400)


def login_page(
    request_id: str, client_id: str, *, id_number: str = "", name: str = "", error: str = ""
) -> HTMLResponse:
    e = html.escape
    body = (
        "<h1>省统一身份认证 / Provincial unified identity login</h1>"
        '<p class="sim"><strong>模拟器 / Simulator.</strong> 这是用于本地运行和测试的模拟省级身份认证平台，'
        "不核验任何证件：输入任一有效的居民身份证号码或统一社会信用代码即以该身份登录。"
        "It stands for the province's identity provider in local runs and tests only and checks no document: "
        "any valid resident ID number or unified social credit code logs in as that identity.</p>"
        f"<p>申请登录的网站 / Site asking you to log in: <code>{e(client_id)}</code></p>"
        + (f'<p class="error" role="alert">{e(error)}</p>' if error else "")
        + '<form method="post" action="/authorize">'
        f'<input type="hidden" name="request_id" value="{e(request_id)}">'
        '<label for="id_number">身份证号码或统一社会信用代码 / Resident ID number or unified social credit code'
        f'<input type="text" id="id_number" name="id_number" value="{e(id_number)}" maxlength="18" '
        'autocomplete="off" required></label>'
        '<label for="name">姓名或单位名称 / Name (person or enterprise)'
        f'<input type="text" id="name" name="name" value="{e(name)}" maxlength="64" required></label>'
        '<button type="submit">登录 / Log in</button>'
        "</form>"
    )
    return page("省统一身份认证（模拟）/ Provincial identity login (simulator)", body, 400 if error else 200)

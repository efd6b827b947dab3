"""Security headers of every answer: pages may run only this site's scripts and styles,
are never framed, and say little of where a person came from."""

from urllib.parse import urlsplit

from flask import current_app, request

# No inline script or style: markup that slipped into a page cannot run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


def secure(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", _policy())
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    if current_app.config["ENV_NAME"] == "production" and request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _policy() -> str:
    """The CSP, letting images come from the configured map tile server too."""
    tiles = current_app.config.get("MAP_TILE_URL")
    if not tiles:
        return CSP
    parts = urlsplit(tiles)
    return CSP.replace("img-src 'self'", f"img-src 'self' {parts.scheme}://{parts.netloc}")


def init_app(app):
    app.after_request(secure)

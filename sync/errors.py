"""What the reference client raises: the server's problem documents, and giving up."""

import httpx


class SyncError(Exception):
    """The server refused a request; ``detail`` says why, as its problem document did."""

    def __init__(self, status: int, title: str, detail: str = "", errors=None):
        self.status = status
        self.title = title
        self.detail = detail or title
        self.errors = list(errors or [])
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors
                           if isinstance(e, dict))
        super().__init__(f"{status} {title}: {self.detail}" + (f" ({fields})" if fields else ""))


class AuthError(SyncError):
    """Not signed in, or the token was revoked (401): sign in again."""


class ServerUnavailable(SyncError):
    """Every attempt failed on the network, or with 5xx/429; nothing is lost, try later."""

    def __init__(self, attempts: int, cause: str):
        super().__init__(0, "Server unavailable", f"gave up after {attempts} attempts: {cause}")
        self.attempts = attempts


def problem_error(response: httpx.Response) -> SyncError:
    """The SyncError (AuthError for 401) that a problem document answer stands for."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text[:300]}
    kind = AuthError if response.status_code == 401 else SyncError
    return kind(response.status_code, body.get("title") or response.reason_phrase,
                body.get("detail") or "", body.get("errors"))

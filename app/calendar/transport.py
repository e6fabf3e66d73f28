"""The caldav library's HTTP, held to Nova's rules: every host checked, failures in plain words.

caldav talks to the server itself (through requests), so the egress guard cannot see its
requests. Instead the session asks the guard's address check about every URL before sending,
redirects and hosts discovered on the server included.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import caldav
import requests
from caldav.lib import error as dav_error
from requests.auth import HTTPBasicAuth

from app.calendar.models import CalendarCredentials, CalendarError

UrlCheck = Callable[[str], Awaitable[None]]

AUTH_FAILED = "The calendar server rejected the username or password."


class _CheckedSession(requests.Session):
    def __init__(self, check: Callable[[str], None]) -> None:
        super().__init__()
        self._check = check
        # Like the egress guard: no proxies or .netrc from the environment.
        self.trust_env = False

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # requests sends each redirect hop through here too.
        self._check(str(request.url))
        return super().send(request, **kwargs)


def open_client(
    credentials: CalendarCredentials,
    timeout: float,
    check: UrlCheck | None,
    loop: asyncio.AbstractEventLoop,
) -> caldav.DAVClient:
    """A DAVClient for one operation, to be used (and closed) in a worker thread."""
    # Over HTTPS the password goes with the first request: otherwise caldav asks without it first,
    # and servers such as Radicale answer each failed login a second late. Over plain HTTP caldav
    # first learns which scheme the server wants, so a digest-only server never gets it in clear.
    secure = urlsplit(credentials.url).scheme.lower() == "https"
    client = caldav.DAVClient(
        url=credentials.url,
        username=credentials.username,
        password=credentials.password,
        auth=HTTPBasicAuth(credentials.username, credentials.password) if secure else None,
        timeout=math.ceil(timeout),
    )
    client.session = _CheckedSession(_blocking(check, loop, timeout, credentials.url))
    return client


def _blocking(
    check: UrlCheck | None, loop: asyncio.AbstractEventLoop, timeout: float, server: str
) -> Callable[[str], None]:
    # The caller has just checked the server's own address; other origins once each.
    checked = {_origin(server)}

    def run(url: str) -> None:
        if check is None or _origin(url) in checked:
            return

        async def call() -> None:
            await check(url)

        asyncio.run_coroutine_threadsafe(call(), loop).result(timeout)
        checked.add(_origin(url))

    return run


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


@contextmanager
def plain_errors(url: str, timeout: float) -> Iterator[None]:
    """Turn what requests and caldav raise into a CalendarError a person understands."""
    try:
        yield
    except dav_error.AuthorizationError as exc:
        if "forbidden" in str(exc.reason).lower():
            raise CalendarError("The calendar server does not allow this account to do that.") from exc
        raise CalendarError(AUTH_FAILED) from exc
    except NotImplementedError as exc:
        # caldav's word for "the server wants an authentication scheme I do not speak"
        raise CalendarError(f"The calendar server at {url} asks for an unsupported login.") from exc
    except requests.exceptions.SSLError as exc:
        raise CalendarError(f"The calendar server at {url} has a certificate that failed verification.") from exc
    except (requests.exceptions.Timeout, TimeoutError) as exc:
        raise CalendarError(f"The calendar server at {url} did not answer within {timeout:g} s.") from exc
    except requests.exceptions.ConnectionError as exc:
        raise CalendarError(f"The calendar server is unreachable at {url}.") from exc
    except requests.exceptions.RequestException as exc:
        raise CalendarError(f"The calendar address {url} cannot be used: {exc}") from exc
    except dav_error.DAVError as exc:
        raise CalendarError(f"The calendar server refused the request ({exc.reason}).") from exc
    except ValueError as exc:
        # icalendar's word for an entry it cannot parse (listing skips those; one event cannot)
        raise CalendarError(f"The calendar server sent an event Nova cannot read: {exc}") from exc
    except SyntaxError as exc:
        # lxml's XMLSyntaxError: an answer that is not WebDAV XML, e.g. an ordinary web page.
        raise CalendarError(f"The address {url} does not answer like a CalDAV server.") from exc

"""The caldav library's HTTP, held to Nova's rules: every connection checked, failures in plain words.

caldav talks to the server itself through requests; its session is the egress guard's, which
checks the address of every connection it opens (redirects and hosts the server names
included) and connects to the address it checked, so a name cannot resolve twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import caldav
import requests
from caldav.lib import error as dav_error
from requests.auth import HTTPBasicAuth

from app.calendar.models import CalendarCredentials, CalendarError
from app.egress import EgressError, EgressPolicy, EgressRefused
from app.egress.requests_adapter import guarded_session

AUTH_FAILED = "The calendar server rejected the username or password."


def open_client(credentials: CalendarCredentials, timeout: float, egress: EgressPolicy) -> caldav.DAVClient:
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
    client.session = guarded_session(egress)
    return client


@contextmanager
def plain_errors(url: str, timeout: float) -> Iterator[None]:
    """Turn what requests and caldav raise into a CalendarError a person understands."""
    try:
        yield
    except EgressRefused as exc:
        raise CalendarError(str(exc)) from exc
    except EgressError as exc:
        raise CalendarError(f"The calendar server is unreachable at {url}.") from exc
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

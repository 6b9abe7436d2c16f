"""One way to print a URL: credentials in its user info or query replaced by ***."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Query names that carry a credential: password, token, api_key, X-Amz-Signature, secret, sig...
_CREDENTIAL_NAME = re.compile(
    r"pass|pwd|token|key|secret|signature|^sig$|credential|auth|session", re.IGNORECASE
)


def is_credential_name(name: str) -> bool:
    return _CREDENTIAL_NAME.search(name) is not None


def mask_url(value: str) -> str:
    """`value` with the user-info password and credential-like query values masked.

    Anything that does not parse as a URL is masked whole: better unreadable than leaked."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return MASK
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        # A user name alone can be a token (https://TOKEN@host), so it goes too.
        netloc = f"{user}:{MASK}@{hostport}" if colon else f"{MASK}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_credential_name(name) for name, _ in pairs):
            masked = [(k, MASK if is_credential_name(k) else v) for k, v in pairs]
            query = urlencode(masked, safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def without_query(value: str) -> str:
    """`value` without its query string and fragment (for access logs)."""
    return value.split("?", 1)[0].split("#", 1)[0]

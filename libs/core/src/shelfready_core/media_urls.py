"""How image URLs appear in the workflow JSON: a URL any client can open, never a server path.

Storage returns file:// URLs for the local folder and presigned URLs (which expire) for a
private bucket; both are replaced by the API route that serves the object to its owner.
A public bucket's URL is kept, since anyone can fetch it directly.
"""

from __future__ import annotations

API_PREFIX = "/api/workflows"


def image_route(workflow_id: str, index: int, *, thumbnail: bool = False) -> str:
    path = f"{API_PREFIX}/{workflow_id}/images/{index}"
    return path + "/thumbnail" if thumbnail else path


def photo_route(workflow_id: str) -> str:
    return f"{API_PREFIX}/{workflow_id}/photo"


def is_public(url: str | None) -> bool:
    return (
        bool(url)
        and str(url).startswith(("http://", "https://"))
        and ("X-Amz-Signature" not in str(url))
    )


def shown_url(stored: str | None, route: str) -> str | None:
    """The stored URL when it is public, else the API route; None when nothing is stored."""
    if stored is None:
        return None
    return stored if is_public(stored) else route

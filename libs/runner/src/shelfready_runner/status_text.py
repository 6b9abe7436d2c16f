"""`shelfready status` for people: the whole listing, its score and findings, and the images
with their verdicts (the same data as `--json`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from shelfready_core.models import ListingVersion

Echo = Callable[[str], None]


def latest_findings(session: Session, workflow_id: str) -> list[dict[str, Any]] | None:
    """The rule findings saved with the newest edit; None when the listing was never edited
    (the generated listing's broken rules are then among the score's reasons)."""
    row = session.exec(
        select(ListingVersion)
        .where(ListingVersion.workflow_id == workflow_id)
        .order_by(col(ListingVersion.version).desc())
    ).first()
    return None if row is None else list(row.findings or [])


def render_status(data: dict[str, Any], findings: list[dict[str, Any]] | None, echo: Echo) -> None:
    echo(f"{data['id']}  {data['status']}  {data['current_step']}  {data['progress']}%")
    request = data.get("request") or {}
    facts = [
        f"{k}: {request[k]}" for k in ("sku", "brand", "marketplace", "market") if request.get(k)
    ]
    echo(f"photo: {data['source_name']}  version {data['version']}  " + "  ".join(facts))
    if data["error"]:
        echo(f"error ({data['failed_step']}): {data['error']}")
    listing = data.get("listing")
    if listing:
        quality = listing["quality"]
        approved = "approved by the seller" if listing.get("approved_at") else "not approved yet"
        echo("")
        echo(f"title: {listing['title']}")
        version = listing.get("version", 1)
        echo(f"  ({len(listing['title'])} characters; listing version {version}, {approved})")
        echo("bullet points:")
        for n, bullet in enumerate(listing["bullet_points"] or [], start=1):
            echo(f"  {n}. {bullet}")
        echo("description:")
        for paragraph in (listing["description"] or "").split("\n"):
            if paragraph.strip():
                echo(f"  {paragraph.strip()}")
        terms = listing["search_terms"] or ""
        echo(f"search terms ({len(terms.encode())} bytes): {terms}")
        echo(f"keywords: {', '.join(listing['keywords'] or [])}")
        verdict = "meets the quality bar" if quality["approved"] else "needs review"
        echo(f"quality score: {quality['score']}/100 ({verdict})")
        for reason in quality["reasons"] or []:
            echo(f"  {reason}")
        if findings is not None:
            echo(f"rule findings: {len(findings) or 'none'}")
            for finding in findings:
                echo(f"  [{finding['field']}] {finding['message']}")
    images = data.get("images")
    if images:
        echo("")
        echo(f"images ({images['status']}):")
        for item in images["items"]:
            compliance = item.get("compliance") or {}
            if item["error"]:
                verdict = f"FAILED: {item['error']}"
            else:
                verdict = "passes" if compliance.get("passed") else "fails its checks"
            size = f"{item['width']}x{item['height']}" if item["width"] else ""
            echo(f"  {item['index']}. {item['kind']:<15} {size:<10} {verdict}  {item['url'] or ''}")
            for reason in compliance.get("reasons") or []:
                echo(f"       - {reason}")
    echo(f"cost: ${data['usage']['total_cost_usd']:.4f}")
    for item in data.get("events", []):
        echo(f"  {item['at']} [{item['stage']}] {item['kind']}: {item['message']}")

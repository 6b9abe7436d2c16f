"""Finished workflows written straight into the database and storage (no workers), so the
workspace routes can be tested in milliseconds. The real pipeline is covered end to end by the
integration and browser tests."""

from __future__ import annotations

import io
import uuid

from PIL import Image

from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.models import (
    ImageSet,
    ImageSetStatus,
    Listing,
    ListingImage,
    Product,
    Workflow,
    WorkflowStatus,
)
from shelfready_core.schemas import ListingRequest
from shelfready_core.storage import get_storage, workflow_key
from tests.listing.samples import BRAND, GOOD_EN, bottle

KINDS = ["main", "scene", "detail", "dimensions", "selling_points"]


def jpeg(color: tuple[int, int, int] = (255, 255, 255), size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="JPEG")
    return buffer.getvalue()


def seed_completed(
    settings: Settings,
    *,
    sku: str | None = None,
    source_name: str = "bottle.jpg",
    main_passes: bool = True,
    status: WorkflowStatus = WorkflowStatus.COMPLETED,
) -> str:
    storage = get_storage(settings)
    workflow_id = str(uuid.uuid4())
    request = ListingRequest(brand=BRAND, sku=sku, category="Sports & Outdoors > Water Bottles")
    draft = GOOD_EN
    with session_scope(settings) as session:
        session.add(
            Workflow(
                id=workflow_id,
                status=status,
                current_step="IMAGE_SET_GENERATION",
                progress=100 if status == WorkflowStatus.COMPLETED else 60,
                source="storage:x",
                source_name=source_name,
                brand=BRAND,
                category=request.category,
                request=request.model_dump(),
            )
        )
        session.flush()
        photo_key = workflow_key(workflow_id, 1, "original.jpg")
        storage.put(photo_key, jpeg((200, 80, 40)), "image/jpeg")
        session.add(
            Product(
                workflow_id=workflow_id,
                product_type="water bottle",
                product_name="bottle",
                category="x",
                attributes=bottle().model_dump(),
                original_key=photo_key,
                original_url=storage.url(photo_key),
                width=64,
                height=64,
            )
        )
        session.add(
            Listing(
                workflow_id=workflow_id,
                title=draft.title,
                bullet_points=list(draft.bullet_points),
                description=draft.description,
                keywords=list(draft.keywords),
                search_terms=draft.search_terms,
                image_prompts=list(draft.image_prompts),
                quality_score=90,
                quality_reasons=[],
                approved=True,
            )
        )
        image_set = ImageSet(workflow_id=workflow_id, status=ImageSetStatus.COMPLETED)
        session.add(image_set)
        session.flush()
        for index, kind in enumerate(KINDS, start=1):
            key = workflow_key(workflow_id, 1, f"images/{index}-{kind}.jpg")
            thumb = workflow_key(workflow_id, 1, f"thumbs/{index}-{kind}.jpg")
            data = jpeg((255, 255, 255) if index == 1 else (30 * index, 90, 160))
            passed = main_passes or index != 1
            session.add(
                ListingImage(
                    image_set_id=image_set.id,
                    index=index,
                    kind=kind,
                    key=key,
                    url=storage.put(key, data, "image/jpeg"),
                    thumbnail_key=thumb,
                    thumbnail_url=storage.put(thumb, jpeg(size=16), "image/jpeg"),
                    content_type="image/jpeg",
                    width=64,
                    height=64,
                    file_bytes=len(data),
                    compliance={
                        "passed": passed,
                        "reasons": [] if passed else ["background is not pure white"],
                    },
                )
            )
    return workflow_id

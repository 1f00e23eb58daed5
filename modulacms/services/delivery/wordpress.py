"""``wordpress``: the root node as a WordPress REST API post.

``title.rendered`` comes from a ``title`` field (else the route title), ``content`` and
``excerpt`` from fields of those names; every other field goes to ``acf`` (camelCase
keys), and so do the children, grouped as in ``clean``. ``link`` is the route's slug,
since the public host of the front end is not known here. ``featured_media`` is the id in
a ``featured_media`` field or ``0`` (WordPress's "none").
"""

from __future__ import annotations

from typing import Any

from modulacms.core.models import RouteTree
from modulacms.services.delivery import clean
from modulacms.services.delivery.common import grouped, typed_fields

_LIFTED = {"title", "content", "excerpt", "featuredMedia"}


def render(tree: RouteTree) -> dict[str, Any] | None:
    root = tree.root
    if root is None:
        return None
    values = {key: value for key, _, value in typed_fields(root)}
    acf = {key: value for key, value in values.items() if key not in _LIFTED}
    children = grouped(root, clean.node)
    if children is not None:
        acf[children[0]] = children[1]
    node = root.node
    return {
        "id": root.id,
        "date": node.date_created,
        "date_gmt": node.date_created,
        "modified": node.date_modified,
        "modified_gmt": node.date_modified,
        "slug": tree.route.slug,
        "status": "publish" if node.published_at else node.status.value,
        "type": root.datatype.name,
        "link": tree.route.slug,
        "title": {"rendered": _text(values.get("title")) or tree.route.title},
        "content": {"rendered": _text(values.get("content")), "protected": False},
        "excerpt": {"rendered": _text(values.get("excerpt")), "protected": False},
        "author": node.author_id,
        "featured_media": values.get("featuredMedia") or 0,
        "comment_status": "closed",
        "ping_status": "closed",
        "meta": {},
        "acf": acf,
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)

"""Sites and routes."""

from __future__ import annotations

from typing import Any

from modulacms.core.models import Route, Site
from modulacms.db.connection import Database, Row

_SITE = "site_id, name, label, hostname, is_default, date_created, date_modified"
_ROUTE = (
    "route_id, site_id, slug, title, published_version_id, author_id, date_created, date_modified"
)


def _site(row: Row) -> Site:
    return Site(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])


def _route(row: Row) -> Route:
    return Route(*row)


class RouteRepository:
    """SQL for ``sites`` and ``routes``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def sites(self) -> list[Site]:
        return [_site(r) for r in self.db.execute(f"SELECT {_SITE} FROM sites ORDER BY name")]

    def site(self, site_id: str) -> Site | None:
        row = self.db.one(f"SELECT {_SITE} FROM sites WHERE site_id = ?", (site_id,))
        return None if row is None else _site(row)

    def site_by_name(self, name: str) -> Site | None:
        row = self.db.one(f"SELECT {_SITE} FROM sites WHERE name = ?", (name,))
        return None if row is None else _site(row)

    def default_site(self) -> Site | None:
        row = self.db.one(f"SELECT {_SITE} FROM sites WHERE is_default = 1")
        return None if row is None else _site(row)

    def insert_site(self, site: Site) -> None:
        self.db.connection().execute(
            f"INSERT INTO sites ({_SITE}) VALUES (?,?,?,?,?,?,?)",
            (
                site.site_id,
                site.name,
                site.label,
                site.hostname,
                int(site.is_default),
                site.date_created,
                site.date_modified,
            ),
        )

    def routes(self, site_id: str | None = None) -> list[Route]:
        if site_id is None:
            rows = self.db.execute(f"SELECT {_ROUTE} FROM routes ORDER BY slug")
        else:
            rows = self.db.execute(
                f"SELECT {_ROUTE} FROM routes WHERE site_id = ? ORDER BY slug", (site_id,)
            )
        return [_route(r) for r in rows]

    def route(self, route_id: str) -> Route | None:
        row = self.db.one(f"SELECT {_ROUTE} FROM routes WHERE route_id = ?", (route_id,))
        return None if row is None else _route(row)

    def route_by_slug(self, site_id: str, slug: str) -> Route | None:
        row = self.db.one(
            f"SELECT {_ROUTE} FROM routes WHERE site_id = ? AND slug = ?", (site_id, slug)
        )
        return None if row is None else _route(row)

    def insert_route(self, route: Route) -> None:
        self.db.connection().execute(
            f"INSERT INTO routes ({_ROUTE}) VALUES (?,?,?,?,?,?,?,?)",
            (
                route.route_id,
                route.site_id,
                route.slug,
                route.title,
                route.published_version_id,
                route.author_id,
                route.date_created,
                route.date_modified,
            ),
        )

    def update_route(self, route: Route) -> None:
        self.db.connection().execute(
            "UPDATE routes SET slug = ?, title = ?, published_version_id = ?, date_modified = ? "
            "WHERE route_id = ?",
            (
                route.slug,
                route.title,
                route.published_version_id,
                route.date_modified,
                route.route_id,
            ),
        )

    def delete_route(self, route_id: str) -> None:
        self.db.connection().execute("DELETE FROM routes WHERE route_id = ?", (route_id,))

    def node_count(self, route_id: str) -> int:
        return int(
            self.db.scalar(
                "SELECT count(*) FROM content_data WHERE route_id = ? AND trashed_at IS NULL",
                (route_id,),
            )
        )


def route_row(route: Route) -> dict[str, Any]:
    """The audit/hook representation of a route."""
    return {
        "route_id": route.route_id,
        "site_id": route.site_id,
        "slug": route.slug,
        "title": route.title,
        "published_version_id": route.published_version_id,
    }

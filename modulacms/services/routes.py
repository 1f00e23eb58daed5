"""Sites and routes: the slugs that own content trees."""

from __future__ import annotations

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.core.models import Actor, Route, Site
from modulacms.core.validation import InvalidValue, normalise_slug
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.routes import RouteRepository, route_row
from modulacms.errors import Conflict, FieldError, NotFound, ValidationFailed

DEFAULT_SITE = "default"


class RouteService:
    """Routes of the default site (and of named sites for multi-site setups).

    Slugs are ``/`` or ``/``-separated segments of ``a-z0-9-``, unique per site. A route is
    addressed by slug (in the default site) or by id.
    """

    def __init__(self, db: Database, audit: AuditRepository) -> None:
        self.db = db
        self.repo = RouteRepository(db)
        self.audit = audit

    def ensure_default_site(self) -> Site:
        """The default site, created on first use."""
        site = self.repo.default_site()
        if site is not None:
            return site
        with self.db.transaction():
            site = self.repo.default_site()
            if site is None:
                moment = now()
                site = Site(new_id(), DEFAULT_SITE, "Default site", None, True, moment, moment)
                self.repo.insert_site(site)
                self.audit.record(
                    Actor.system(), "sites", site.site_id, "create", None, {"name": site.name}
                )
        return site

    def sites(self) -> list[Site]:
        return self.repo.sites()

    def list(self, site: str | None = None) -> list[Route]:
        return self.repo.routes(self._site(site).site_id)

    def get(self, slug_or_id: str, site: str | None = None) -> Route:
        """The route with this slug (or id); raises ``NotFound``."""
        found = None
        if slug_or_id.startswith("/"):
            try:
                slug = normalise_slug(slug_or_id)
            except InvalidValue:
                raise NotFound("route", slug_or_id) from None
            found = self.repo.route_by_slug(self._site(site).site_id, slug)
        else:
            found = self.repo.route(slug_or_id)
        if found is None:
            raise NotFound("route", slug_or_id)
        return found

    def create(self, slug: str, actor: Actor, *, title: str = "", site: str | None = None) -> Route:
        actor.require("routes:create")
        clean = _slug(slug)
        target = self._site(site)
        moment = now()
        route = Route(new_id(), target.site_id, clean, title, None, actor.user_id, moment, moment)
        with self.db.transaction():
            if self.repo.route_by_slug(target.site_id, clean) is not None:
                raise Conflict(f"route {clean} already exists")
            self.repo.insert_route(route)
            self.audit.record(actor, "routes", route.route_id, "create", None, route_row(route))
        return route

    def update(
        self, slug_or_id: str, actor: Actor, *, slug: str | None = None, title: str | None = None
    ) -> Route:
        """Rename a route's slug and/or change its title."""
        actor.require("routes:update")
        with self.db.transaction():
            old = self.get(slug_or_id)
            new_slug = old.slug if slug is None else _slug(slug)
            if new_slug != old.slug and self.repo.route_by_slug(old.site_id, new_slug):
                raise Conflict(f"route {new_slug} already exists")
            new = Route(
                old.route_id,
                old.site_id,
                new_slug,
                old.title if title is None else title,
                old.published_version_id,
                old.author_id,
                old.date_created,
                now(),
            )
            self.repo.update_route(new)
            self.audit.record(
                actor, "routes", new.route_id, "update", route_row(old), route_row(new)
            )
        return new

    def delete(self, slug_or_id: str, actor: Actor, *, force: bool = False) -> None:
        """Delete a route; refuses while it has content unless ``force`` (content goes too)."""
        actor.require("routes:delete")
        with self.db.transaction():
            route = self.get(slug_or_id)
            count = self.repo.node_count(route.route_id)
            if count and not force:
                raise Conflict(
                    f"route {route.slug} holds {count} content node(s); delete them first "
                    "or force the deletion"
                )
            self.repo.delete_route(route.route_id)
            self.audit.record(actor, "routes", route.route_id, "delete", route_row(route), None)

    def _site(self, name: str | None) -> Site:
        if name is None:
            return self.ensure_default_site()
        site = self.repo.site_by_name(name)
        if site is None:
            raise NotFound("site", name)
        return site


def _slug(slug: str) -> str:
    try:
        return normalise_slug(slug)
    except InvalidValue as exc:
        raise ValidationFailed("invalid route", [FieldError("slug", str(exc))]) from None

"""Datatypes and fields: the content types defined at run time."""

from __future__ import annotations

from typing import Any

from modulacms.core.clock import now
from modulacms.core.ids import new_id
from modulacms.core.models import Actor, Datatype, DatatypeField, Field, FieldType
from modulacms.core.validation import check_name, check_rules
from modulacms.db.connection import Database
from modulacms.db.repositories.audit import AuditRepository
from modulacms.db.repositories.schema import SchemaRepository, datatype_row, field_row
from modulacms.errors import Conflict, ErrorCollector, FieldError, NotFound, ValidationFailed


class SchemaService:
    """Create, change and connect datatypes and fields.

    Datatypes and fields are addressed by name or id. Every mutation checks the actor's
    ``datatypes:*`` / ``fields:*`` permission and writes an audit row in its transaction.
    """

    def __init__(self, db: Database, audit: AuditRepository) -> None:
        self.db = db
        self.repo = SchemaRepository(db)
        self.audit = audit

    # datatypes --------------------------------------------------------------------------

    def datatypes(self) -> list[Datatype]:
        return self.repo.datatypes()

    def datatype(self, name_or_id: str) -> Datatype:
        """The datatype with this name or id; raises ``NotFound``."""
        found = self.repo.datatype_by_name(name_or_id) or self.repo.datatype(name_or_id)
        if found is None:
            raise NotFound("datatype", name_or_id)
        return found

    def fields_of(self, name_or_id: str) -> list[DatatypeField]:
        """The datatype's fields in order."""
        datatype = self.datatype(name_or_id)
        return self.repo.attached([datatype.datatype_id])[datatype.datatype_id]

    def create_datatype(
        self, name: str, actor: Actor, *, label: str = "", description: str = ""
    ) -> Datatype:
        actor.require("datatypes:create")
        errors = ErrorCollector()
        problem = check_name(name)
        if problem:
            errors.add("name", problem)
        errors.raise_if_any("cannot create datatype")
        moment = now()
        datatype = Datatype(
            new_id(),
            name,
            label or name.replace("_", " ").title(),
            description,
            actor.user_id,
            moment,
            moment,
        )
        with self.db.transaction():
            if self.repo.datatype_by_name(name) is not None:
                raise Conflict(f"a datatype named {name} already exists")
            self.repo.insert_datatype(datatype)
            self.audit.record(
                actor, "datatypes", datatype.datatype_id, "create", None, datatype_row(datatype)
            )
        return datatype

    def update_datatype(
        self,
        name_or_id: str,
        actor: Actor,
        *,
        name: str | None = None,
        label: str | None = None,
        description: str | None = None,
    ) -> Datatype:
        actor.require("datatypes:update")
        if name is not None and (problem := check_name(name)):
            raise ValidationFailed("cannot update datatype", [FieldError("name", problem)])
        with self.db.transaction():
            old = self.datatype(name_or_id)
            if name and name != old.name and self.repo.datatype_by_name(name):
                raise Conflict(f"a datatype named {name} already exists")
            new = Datatype(
                old.datatype_id,
                name or old.name,
                old.label if label is None else label,
                old.description if description is None else description,
                old.author_id,
                old.date_created,
                now(),
            )
            self.repo.update_datatype(new)
            self.audit.record(
                actor, "datatypes", new.datatype_id, "update", datatype_row(old), datatype_row(new)
            )
        return new

    def delete_datatype(self, name_or_id: str, actor: Actor) -> None:
        """Delete an unused datatype; raises ``Conflict`` while content uses it."""
        actor.require("datatypes:delete")
        with self.db.transaction():
            datatype = self.datatype(name_or_id)
            used = self.repo.datatype_in_use(datatype.datatype_id)
            if used:
                raise Conflict(
                    f"datatype {datatype.name} is used by {used} content node(s); "
                    "delete or purge that content first"
                )
            self.repo.delete_datatype(datatype.datatype_id)
            self.audit.record(
                actor, "datatypes", datatype.datatype_id, "delete", datatype_row(datatype), None
            )

    # fields -----------------------------------------------------------------------------

    def fields(self) -> list[Field]:
        return self.repo.fields()

    def field(self, name_or_id: str) -> Field:
        found = self.repo.field_by_name(name_or_id) or self.repo.field(name_or_id)
        if found is None:
            raise NotFound("field", name_or_id)
        return found

    def create_field(
        self,
        name: str,
        field_type: str,
        actor: Actor,
        *,
        label: str = "",
        validation: dict[str, Any] | None = None,
        ui_config: dict[str, Any] | None = None,
        translatable: bool = False,
    ) -> Field:
        actor.require("fields:create")
        kind, rules = self._check_field(name, field_type, validation or {})
        moment = now()
        field = Field(
            new_id(),
            name,
            label or name.replace("_", " ").title(),
            kind,
            rules,
            ui_config or {},
            translatable,
            actor.user_id,
            moment,
            moment,
        )
        with self.db.transaction():
            if self.repo.field_by_name(name) is not None:
                raise Conflict(f"a field named {name} already exists")
            self.repo.insert_field(field)
            self.audit.record(actor, "fields", field.field_id, "create", None, field_row(field))
        return field

    def update_field(
        self,
        name_or_id: str,
        actor: Actor,
        *,
        name: str | None = None,
        label: str | None = None,
        validation: dict[str, Any] | None = None,
        ui_config: dict[str, Any] | None = None,
        translatable: bool | None = None,
    ) -> Field:
        """Change a field; its type is fixed once created (stored values depend on it)."""
        actor.require("fields:update")
        with self.db.transaction():
            old = self.field(name_or_id)
            _, rules = self._check_field(
                name or old.name,
                old.type.value,
                old.validation if validation is None else validation,
            )
            if name and name != old.name and self.repo.field_by_name(name):
                raise Conflict(f"a field named {name} already exists")
            new = Field(
                old.field_id,
                name or old.name,
                old.label if label is None else label,
                old.type,
                rules,
                old.ui_config if ui_config is None else ui_config,
                old.translatable if translatable is None else translatable,
                old.author_id,
                old.date_created,
                now(),
            )
            self.repo.update_field(new)
            self.audit.record(
                actor, "fields", new.field_id, "update", field_row(old), field_row(new)
            )
        return new

    def delete_field(self, name_or_id: str, actor: Actor) -> None:
        """Delete a field that no datatype uses; raises ``Conflict`` otherwise."""
        actor.require("fields:delete")
        with self.db.transaction():
            field = self.field(name_or_id)
            users = self.repo.field_in_use(field.field_id)
            if users:
                raise Conflict(
                    f"field {field.name} is attached to {', '.join(users)}; detach it first"
                )
            self.repo.delete_field(field.field_id)
            self.audit.record(actor, "fields", field.field_id, "delete", field_row(field), None)

    def _check_field(
        self, name: str, field_type: str, rules: dict[str, Any]
    ) -> tuple[FieldType, dict[str, Any]]:
        errors = ErrorCollector()
        if problem := check_name(name):
            errors.add("name", problem)
        try:
            kind = FieldType(field_type)
        except ValueError:
            errors.add(
                "type",
                f"unknown type {field_type!r}; one of {', '.join(t.value for t in FieldType)}",
            )
            errors.raise_if_any("invalid field")
            raise AssertionError("unreachable") from None
        for problem in check_rules(kind, rules):
            errors.add("validation", problem)
        errors.raise_if_any("invalid field")
        return kind, dict(rules)

    # attaching --------------------------------------------------------------------------

    def attach(
        self, datatype: str, field: str, actor: Actor, *, required: bool = False
    ) -> DatatypeField:
        """Attach a field at the end of a datatype's list (or change its required flag)."""
        actor.require("datatypes:update")
        with self.db.transaction():
            dt, f = self.datatype(datatype), self.field(field)
            current = {
                df.field.field_id: df for df in self.repo.attached([dt.datatype_id])[dt.datatype_id]
            }
            if f.field_id in current:
                raise Conflict(f"field {f.name} is already attached to {dt.name}")
            order = self.repo.next_sort_order(dt.datatype_id)
            self.repo.attach(dt.datatype_id, f.field_id, order, required)
            self.audit.record(
                actor,
                "datatypes_fields",
                dt.datatype_id,
                "attach",
                None,
                {"field": f.name, "sort_order": order, "required": required},
            )
        return DatatypeField(dt.datatype_id, f, order, required)

    def set_required(self, datatype: str, field: str, required: bool, actor: Actor) -> None:
        actor.require("datatypes:update")
        with self.db.transaction():
            dt, f = self.datatype(datatype), self.field(field)
            self._attached_or_404(dt, f)
            self.repo.set_required(dt.datatype_id, f.field_id, required)
            self.audit.record(
                actor,
                "datatypes_fields",
                dt.datatype_id,
                "update",
                None,
                {"field": f.name, "required": required},
            )

    def detach(self, datatype: str, field: str, actor: Actor) -> None:
        """Detach a field; stored values stay in the database but are no longer shown."""
        actor.require("datatypes:update")
        with self.db.transaction():
            dt, f = self.datatype(datatype), self.field(field)
            self._attached_or_404(dt, f)
            self.repo.detach(dt.datatype_id, f.field_id)
            self.repo.set_order(
                dt.datatype_id, [df.field.field_id for df in self.fields_of(dt.datatype_id)]
            )
            self.audit.record(
                actor, "datatypes_fields", dt.datatype_id, "detach", {"field": f.name}, None
            )

    def reorder(self, datatype: str, field_names: list[str], actor: Actor) -> list[DatatypeField]:
        """Put a datatype's fields in the given order; every attached field must be named once."""
        actor.require("datatypes:update")
        with self.db.transaction():
            dt = self.datatype(datatype)
            current = self.fields_of(dt.datatype_id)
            by_name = {df.field.name: df for df in current}
            if sorted(field_names) != sorted(by_name):
                raise ValidationFailed(
                    "cannot reorder fields",
                    [
                        FieldError(
                            "fields", f"name each attached field once: {', '.join(sorted(by_name))}"
                        )
                    ],
                )
            self.repo.set_order(dt.datatype_id, [by_name[n].field.field_id for n in field_names])
            self.audit.record(
                actor,
                "datatypes_fields",
                dt.datatype_id,
                "reorder",
                {"order": [df.field.name for df in current]},
                {"order": field_names},
            )
            return self.fields_of(dt.datatype_id)

    def _attached_or_404(self, dt: Datatype, f: Field) -> None:
        if all(df.field.field_id != f.field_id for df in self.fields_of(dt.datatype_id)):
            raise NotFound("field", f.name, f"field {f.name} is not attached to {dt.name}")

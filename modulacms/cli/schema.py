"""``modulacms datatype ...`` and ``modulacms field ...``: the content schema."""

from __future__ import annotations

import json
from typing import Any

import click

from modulacms.cli.output import done, emit, json_option, print_fields, print_table
from modulacms.cli.state import CliState, pass_state
from modulacms.cli.views import attached_json, datatype_json, field_json
from modulacms.core.models import FieldType
from modulacms.errors import BadRequest

# -- datatypes ---------------------------------------------------------------------------


@click.group()
def datatype() -> None:
    """Datatypes (page, hero, blog post, ...) and the fields attached to them."""


@datatype.command("list")
@json_option
@pass_state
def datatype_list(state: CliState, as_json: bool) -> None:
    """List the datatypes."""
    schema = state.services.schema
    found = [(d, schema.fields_of(d.datatype_id)) for d in schema.datatypes()]
    rows = [(d.name, d.label, ", ".join(f.field.name for f in fs)) for d, fs in found]
    emit(
        as_json,
        [datatype_json(d, fs) for d, fs in found],
        lambda: print_table(("name", "label", "fields"), rows, title="datatypes"),
    )


@datatype.command("show")
@click.argument("name")
@json_option
@pass_state
def datatype_show(state: CliState, name: str, as_json: bool) -> None:
    """Show datatype NAME with its fields in order."""
    schema = state.services.schema
    found = schema.datatype(name)
    fields = schema.fields_of(found.datatype_id)

    def human() -> None:
        print_fields([("name", found.name), ("label", found.label), ("id", found.datatype_id)])
        if found.description:
            print_fields([("description", found.description)])
        rows = [(f.field.name, f.field.type.value, f.field.label, f.required) for f in fields]
        print_table(("field", "type", "label", "required"), rows, title="fields")

    emit(as_json, datatype_json(found, fields), human)


@datatype.command("create")
@click.argument("name")
@click.option("--label", default="", help="Human name (default: from NAME).")
@click.option("--description", default="", help="What the datatype is for.")
@json_option
@pass_state
def datatype_create(
    state: CliState, name: str, label: str, description: str, as_json: bool
) -> None:
    """Create datatype NAME (lowercase letters, digits and _)."""
    created = state.services.schema.create_datatype(
        name, state.actor, label=label, description=description
    )
    done(as_json, f"created datatype {created.name}", datatype_json(created, []))


@datatype.command("update")
@click.argument("name")
@click.option("--name", "new_name", metavar="NEW", help="Rename the datatype.")
@click.option("--label", default=None, help="New human name.")
@click.option("--description", default=None, help="New description.")
@json_option
@pass_state
def datatype_update(
    state: CliState,
    name: str,
    new_name: str | None,
    label: str | None,
    description: str | None,
    as_json: bool,
) -> None:
    """Rename or relabel datatype NAME."""
    if new_name is None and label is None and description is None:
        raise click.UsageError("nothing to change: give --name, --label or --description")
    changed = state.services.schema.update_datatype(
        name, state.actor, name=new_name, label=label, description=description
    )
    done(as_json, f"updated datatype {changed.name}", datatype_json(changed))


@datatype.command("delete")
@click.argument("name")
@json_option
@pass_state
def datatype_delete(state: CliState, name: str, as_json: bool) -> None:
    """Delete datatype NAME (refused while content uses it)."""
    found = state.services.schema.datatype(name)
    state.services.schema.delete_datatype(found.datatype_id, state.actor)
    done(as_json, f"deleted datatype {found.name}", {"deleted": datatype_json(found)})


@datatype.command("attach")
@click.argument("name")
@click.argument("field")
@click.option("--required", is_flag=True, help="Content of this datatype must set the field.")
@json_option
@pass_state
def datatype_attach(state: CliState, name: str, field: str, required: bool, as_json: bool) -> None:
    """Attach FIELD at the end of datatype NAME's fields."""
    attached = state.services.schema.attach(name, field, state.actor, required=required)
    done(as_json, f"attached {attached.field.name} to {name}", attached_json(attached))


@datatype.command("detach")
@click.argument("name")
@click.argument("field")
@json_option
@pass_state
def datatype_detach(state: CliState, name: str, field: str, as_json: bool) -> None:
    """Detach FIELD from datatype NAME (stored values are kept but no longer shown)."""
    state.services.schema.detach(name, field, state.actor)
    done(as_json, f"detached {field} from {name}", {"datatype": name, "field": field})


@datatype.command("require")
@click.argument("name")
@click.argument("field")
@click.option("--off", is_flag=True, help="Make the field optional instead.")
@json_option
@pass_state
def datatype_require(state: CliState, name: str, field: str, off: bool, as_json: bool) -> None:
    """Make FIELD of datatype NAME required (or optional with --off)."""
    state.services.schema.set_required(name, field, not off, state.actor)
    word = "optional" if off else "required"
    done(
        as_json,
        f"{field} is now {word} in {name}",
        {"datatype": name, "field": field, "required": not off},
    )


@datatype.command("reorder")
@click.argument("name")
@click.argument("fields", nargs=-1, required=True)
@json_option
@pass_state
def datatype_reorder(state: CliState, name: str, fields: tuple[str, ...], as_json: bool) -> None:
    """Put the fields of datatype NAME in the order given (name every attached field)."""
    ordered = state.services.schema.reorder(name, list(fields), state.actor)
    done(
        as_json,
        f"{name}: {', '.join(f.field.name for f in ordered)}",
        [attached_json(f) for f in ordered],
    )


# -- fields ------------------------------------------------------------------------------


@click.group()
def field() -> None:
    """Reusable field definitions, attached to datatypes with `datatype attach`."""


def _rules(validation: str | None, options: str | None) -> dict[str, Any] | None:
    rules: dict[str, Any] | None = None
    if validation is not None:
        try:
            rules = json.loads(validation)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"--validation is not valid JSON: {exc.msg} at {exc.pos}") from None
        if not isinstance(rules, dict):
            raise BadRequest('--validation must be a JSON object like {"max_length": 80}')
    if options is not None:
        rules = dict(rules or {})
        rules["options"] = [o.strip() for o in options.split(",") if o.strip()]
    return rules


_TYPES = click.Choice([t.value for t in FieldType])
_VALIDATION = click.option(
    "--validation", metavar="JSON", help='Rules as a JSON object, e.g. {"max_length": 80}.'
)
_OPTIONS = click.option("--options", metavar="A,B,C", help="Choices of a select field.")


@field.command("list")
@json_option
@pass_state
def field_list(state: CliState, as_json: bool) -> None:
    """List the field definitions."""
    fields = state.services.schema.fields()
    rows = [(f.name, f.type.value, f.label, json.dumps(f.validation)) for f in fields]
    emit(
        as_json,
        [field_json(f) for f in fields],
        lambda: print_table(("name", "type", "label", "validation"), rows, title="fields"),
    )


@field.command("show")
@click.argument("name")
@json_option
@pass_state
def field_show(state: CliState, name: str, as_json: bool) -> None:
    """Show field NAME."""
    data = field_json(state.services.schema.field(name))
    emit(as_json, data, lambda: print_fields(list(data.items())))


@field.command("create")
@click.argument("name")
@click.option("--type", "field_type", type=_TYPES, required=True, help="The field's type.")
@click.option("--label", default="", help="Human name (default: from NAME).")
@_VALIDATION
@_OPTIONS
@click.option("--translatable", is_flag=True, help="Values may differ per locale.")
@json_option
@pass_state
def field_create(
    state: CliState,
    name: str,
    field_type: str,
    label: str,
    validation: str | None,
    options: str | None,
    translatable: bool,
    as_json: bool,
) -> None:
    """Create field NAME of --type."""
    created = state.services.schema.create_field(
        name,
        field_type,
        state.actor,
        label=label,
        validation=_rules(validation, options),
        translatable=translatable,
    )
    done(as_json, f"created field {created.name} ({created.type.value})", field_json(created))


@field.command("update")
@click.argument("name")
@click.option("--name", "new_name", metavar="NEW", help="Rename the field.")
@click.option("--label", default=None, help="New human name.")
@_VALIDATION
@_OPTIONS
@click.option("--translatable/--not-translatable", default=None, help="Per-locale values.")
@json_option
@pass_state
def field_update(
    state: CliState,
    name: str,
    new_name: str | None,
    label: str | None,
    validation: str | None,
    options: str | None,
    translatable: bool | None,
    as_json: bool,
) -> None:
    """Change field NAME (its type is fixed once created)."""
    rules = _rules(validation, options)
    if rules is not None and validation is None:
        # --options alone keeps the other rules
        rules = state.services.schema.field(name).validation | rules
    if (new_name, label, rules, translatable) == (None, None, None, None):
        raise click.UsageError("nothing to change: give --name, --label, --validation, ...")
    changed = state.services.schema.update_field(
        name, state.actor, name=new_name, label=label, validation=rules, translatable=translatable
    )
    done(as_json, f"updated field {changed.name}", field_json(changed))


@field.command("delete")
@click.argument("name")
@json_option
@pass_state
def field_delete(state: CliState, name: str, as_json: bool) -> None:
    """Delete field NAME (refused while a datatype uses it)."""
    found = state.services.schema.field(name)
    state.services.schema.delete_field(found.field_id, state.actor)
    done(as_json, f"deleted field {found.name}", {"deleted": field_json(found)})

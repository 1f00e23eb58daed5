"""Admin API for datatypes and reusable fields."""

from __future__ import annotations

from modulacms.http.api import ANY_OBJECT, BOOLEAN, LIMIT, OFFSET, STRING, Api, listing_of, obj, ref
from modulacms.http.auth import require
from modulacms.http.body import Body
from modulacms.http.context import Context
from modulacms.http.handlers.common import ok, page
from modulacms.http.request import Request
from modulacms.http.responses import Response, no_content

api = Api("schema")
P = "/api/v1/admin"
W = (401, 403)


@api.get(
    f"{P}/datatypes",
    "List datatypes",
    permission="datatypes:read",
    response=listing_of("Datatype"),
    query=(LIMIT, OFFSET),
    errors=(400, *W),
)
def list_datatypes(request: Request, ctx: Context) -> Response:
    require(request, ctx, "datatypes:read")
    return page(ctx.services.schema.datatypes(), request)


@api.post(
    f"{P}/datatypes",
    "Create a datatype",
    permission="datatypes:create",
    status=201,
    body=obj(("name",), name=STRING, label=STRING, description=STRING),
    response=ref("Datatype"),
    errors=(400, 409, 415, 422, *W),
)
def create_datatype(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "datatypes:create")
    body = Body(request)
    name = body.text("name", required=True)
    label = body.text("label", default="")
    description = body.text("description", default="")
    body.done()
    return ok(
        ctx.services.schema.create_datatype(name, actor, label=label, description=description), 201
    )


@api.get(
    f"{P}/datatypes/{{name}}",
    "A datatype with its fields in order",
    permission="datatypes:read",
    response=obj(
        ("datatype", "fields"),
        datatype=ref("Datatype"),
        fields={"type": "array", "items": ref("DatatypeField")},
    ),
    errors=(404, *W),
)
def get_datatype(request: Request, ctx: Context) -> Response:
    require(request, ctx, "datatypes:read")
    schema = ctx.services.schema
    datatype = schema.datatype(request.params["name"])
    return ok({"datatype": datatype, "fields": schema.fields_of(datatype.datatype_id)})


@api.patch(
    f"{P}/datatypes/{{name}}",
    "Rename or relabel a datatype",
    permission="datatypes:update",
    body=obj(name=STRING, label=STRING, description=STRING),
    response=ref("Datatype"),
    errors=(400, 404, 409, 415, 422, *W),
)
def update_datatype(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "datatypes:update")
    body = Body(request)
    changes = {k: body.text(k) for k in ("name", "label", "description")}
    body.done()
    return ok(ctx.services.schema.update_datatype(request.params["name"], actor, **changes))


@api.delete(
    f"{P}/datatypes/{{name}}",
    "Delete an unused datatype",
    permission="datatypes:delete",
    status=204,
    errors=(404, 409, *W),
)
def delete_datatype(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "datatypes:delete")
    ctx.services.schema.delete_datatype(request.params["name"], actor)
    return no_content()


@api.post(
    f"{P}/datatypes/{{name}}/fields",
    "Attach a field to a datatype (or set required)",
    permission="datatypes:update",
    status=201,
    body=obj(("field",), field=STRING, required=BOOLEAN),
    response=ref("DatatypeField"),
    errors=(400, 404, 409, 415, 422, *W),
)
def attach_field(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "datatypes:update")
    body = Body(request)
    field = body.text("field", required=True)
    required = body.boolean("required", default=False)
    body.done()
    attached = ctx.services.schema.attach(request.params["name"], field, actor, required=required)
    return ok(attached, 201)


@api.put(
    f"{P}/datatypes/{{name}}/fields",
    "Reorder a datatype's fields",
    permission="datatypes:update",
    body=obj(("fields",), fields={"type": "array", "items": STRING}),
    response={"type": "array", "items": ref("DatatypeField")},
    errors=(400, 404, 409, 415, 422, *W),
)
def reorder_fields(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "datatypes:update")
    body = Body(request)
    names = body.strings("fields", required=True)
    body.done()
    return ok(ctx.services.schema.reorder(request.params["name"], names, actor))


@api.delete(
    f"{P}/datatypes/{{name}}/fields/{{field}}",
    "Detach a field from a datatype",
    permission="datatypes:update",
    status=204,
    errors=(404, 409, *W),
)
def detach_field(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "datatypes:update")
    ctx.services.schema.detach(request.params["name"], request.params["field"], actor)
    return no_content()


@api.get(
    f"{P}/fields",
    "List field definitions",
    permission="fields:read",
    response=listing_of("Field"),
    query=(LIMIT, OFFSET),
    errors=(400, *W),
)
def list_fields(request: Request, ctx: Context) -> Response:
    require(request, ctx, "fields:read")
    return page(ctx.services.schema.fields(), request)


FIELD_BODY = obj(
    name=STRING,
    type=STRING,
    label=STRING,
    validation=ANY_OBJECT,
    ui_config=ANY_OBJECT,
    translatable=BOOLEAN,
)


@api.post(
    f"{P}/fields",
    "Create a field definition",
    permission="fields:create",
    status=201,
    body={**FIELD_BODY, "required": ["name", "type"]},
    response=ref("Field"),
    errors=(400, 409, 415, 422, *W),
)
def create_field(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "fields:create")
    body = Body(request)
    name = body.text("name", required=True)
    field_type = body.text("type", required=True)
    label = body.text("label", default="")
    validation = body.mapping("validation")
    ui_config = body.mapping("ui_config")
    translatable = body.boolean("translatable", default=False)
    body.done()
    created = ctx.services.schema.create_field(
        name,
        field_type,
        actor,
        label=label,
        validation=validation,
        ui_config=ui_config,
        translatable=translatable,
    )
    return ok(created, 201)


@api.get(
    f"{P}/fields/{{name}}",
    "One field definition",
    permission="fields:read",
    response=ref("Field"),
    errors=(404, *W),
)
def get_field(request: Request, ctx: Context) -> Response:
    require(request, ctx, "fields:read")
    return ok(ctx.services.schema.field(request.params["name"]))


@api.patch(
    f"{P}/fields/{{name}}",
    "Change a field definition",
    permission="fields:update",
    body=FIELD_BODY,
    response=ref("Field"),
    errors=(400, 404, 409, 415, 422, *W),
)
def update_field(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "fields:update")
    body = Body(request)
    name, label = body.text("name"), body.text("label")
    validation, ui_config = body.mapping("validation"), body.mapping("ui_config")
    translatable = body.boolean("translatable")
    body.done()
    return ok(
        ctx.services.schema.update_field(
            request.params["name"],
            actor,
            name=name,
            label=label,
            validation=validation,
            ui_config=ui_config,
            translatable=translatable,
        )
    )


@api.delete(
    f"{P}/fields/{{name}}",
    "Delete an unused field definition",
    permission="fields:delete",
    status=204,
    errors=(404, 409, *W),
)
def delete_field(request: Request, ctx: Context) -> Response:
    actor = require(request, ctx, "fields:delete")
    ctx.services.schema.delete_field(request.params["name"], actor)
    return no_content()

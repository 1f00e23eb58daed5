"""The Schema area: datatypes, and the fields each one uses in order.

Left, the datatypes; right, the fields attached to the highlighted one. Fields are
reusable definitions: creating one here attaches it at once; ``a`` attaches an existing
one; detaching keeps the definition (and the stored values) for later.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static

from modulacms.core.models import Datatype, DatatypeField, Field
from modulacms.errors import FieldError, ValidationFailed
from modulacms.tui.base import AreaScreen
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.modals.field_form import FieldFormModal
from modulacms.tui.modals.form import FormField, FormModal
from modulacms.tui.modals.pick import PickModal
from modulacms.tui.text import plain
from modulacms.tui.widgets.area_bar import AreaBar
from modulacms.tui.widgets.content.field_inputs import describe_rules
from modulacms.tui.widgets.table import PlainTable


class DatatypesTable(PlainTable[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "screen.new_datatype", "New datatype"),
        Binding("e", "screen.edit_datatype", "Edit"),
        Binding("d,delete", "screen.delete_datatype", "Delete"),
        Binding("enter,right", "screen.focus_fields", "Fields", show=False),
    ]


class AttachedTable(PlainTable[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "screen.new_field", "New field"),
        Binding("a", "screen.attach_field", "Attach"),
        Binding("e", "screen.edit_field", "Edit"),
        Binding("space", "screen.toggle_required", "Required"),
        Binding("x", "screen.detach_field", "Detach"),
        Binding("shift+up,K", "screen.move_field(-1)", "Move up", show=False),
        Binding("shift+down,J", "screen.move_field(1)", "Move down", show=False),
        Binding("escape,left", "screen.focus_datatypes", "Datatypes", show=False),
    ]


class SchemaScreen(AreaScreen):
    AREA = "schema"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("D", "delete_field", "Delete a field definition", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.datatypes: list[Datatype] = []
        self.attached: list[DatatypeField] = []
        self.counts: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield AreaBar(self.AREA, self.modula.project_name)
        with Horizontal(classes="area-body"):
            with Vertical(classes="area-list pane"):
                yield Static("Datatypes", classes="pane-title")
                yield DatatypesTable(cursor_type="row", id="datatypes-table")
            with Vertical(classes="area-detail pane"):
                yield Static("Fields", id="fields-title", classes="pane-title")
                yield AttachedTable(cursor_type="row", id="attached-table")
                yield Static("", id="field-detail", classes="hint")
        yield Footer()

    @property
    def dt_table(self) -> DatatypesTable:
        return self.query_one(DatatypesTable)

    @property
    def f_table(self) -> AttachedTable:
        return self.query_one(AttachedTable)

    def on_mount(self) -> None:
        self.dt_table.add_columns("name", "label", "fields")
        self.f_table.add_columns("#", "field", "type", "req")
        self.dt_table.focus()
        self.refresh_area()

    # loading ----------------------------------------------------------------------------

    def refresh_area(self, select: str | None = None) -> None:
        schema = self.services.schema
        keep = select or self._dt_id()

        def job() -> tuple[list[Datatype], dict[str, int]]:
            datatypes = schema.datatypes()
            return datatypes, {
                d.datatype_id: len(schema.fields_of(d.datatype_id)) for d in datatypes
            }

        def loaded(result: tuple[list[Datatype], dict[str, int]]) -> None:
            self.datatypes, self.counts = result
            table = self.dt_table
            table.clear()
            for d in self.datatypes:
                table.add_row(
                    d.name, d.label, str(self.counts.get(d.datatype_id, 0)), key=d.datatype_id
                )
            for index, d in enumerate(self.datatypes):
                if d.datatype_id == keep:
                    table.move_cursor(row=index)
            self.load_fields()

        self.call("datatypes", job, loaded)

    def load_fields(self, select: str | None = None) -> None:
        datatype = self.current_datatype()
        if datatype is None:
            self.attached = []
            self.f_table.clear()
            self.query_one("#fields-title", Static).update("Fields (create a datatype first: n)")
            self.refresh_bindings()
            return
        keep = select or self._field_id()
        datatype_id = datatype.datatype_id

        def loaded(fields: list[DatatypeField]) -> None:
            current = self.current_datatype()
            if current is None or current.datatype_id != datatype_id:
                return
            self.attached = fields
            self.counts[datatype_id] = len(fields)
            table = self.f_table
            table.clear()
            for index, df in enumerate(fields, start=1):
                table.add_row(
                    str(index),
                    df.field.name,
                    df.field.type.value,
                    "yes" if df.required else "",
                    key=df.field.field_id,
                )
            for index, df in enumerate(fields):
                if df.field.field_id == keep:
                    table.move_cursor(row=index)
            self.query_one("#fields-title", Static).update(plain(f"Fields of {current.label}"))
            self._detail()
            self.refresh_bindings()

        self.call("fields", lambda: self.services.schema.fields_of(datatype_id), loaded)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.dt_table:
            self.load_fields()
        else:
            self._detail()

    def _detail(self) -> None:
        df = self.current_field()
        text = ""
        if df is not None:
            text = f"{df.field.label}: {describe_rules(df)}"
            if df.field.translatable:
                text += ", translatable"
        self.query_one("#field-detail", Static).update(plain(text))

    # selection --------------------------------------------------------------------------

    def current_datatype(self) -> Datatype | None:
        row = self.dt_table.cursor_row
        return self.datatypes[row] if 0 <= row < len(self.datatypes) else None

    def current_field(self) -> DatatypeField | None:
        row = self.f_table.cursor_row
        return self.attached[row] if 0 <= row < len(self.attached) else None

    def _dt_id(self) -> str | None:
        d = self.current_datatype()
        return d.datatype_id if d else None

    def _field_id(self) -> str | None:
        df = self.current_field()
        return df.field.field_id if df else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs_dt = {"edit_datatype", "delete_datatype", "new_field", "attach_field", "focus_fields"}
        needs_field = {
            "edit_field",
            "toggle_required",
            "detach_field",
            "move_field",
            "delete_field",
        }
        if action in needs_dt and self.current_datatype() is None:
            return None
        if action in needs_field and self.current_field() is None:
            return None
        return True

    def action_focus_fields(self) -> None:
        self.f_table.focus()

    def action_focus_datatypes(self) -> None:
        self.dt_table.focus()

    # datatypes --------------------------------------------------------------------------

    def action_new_datatype(self) -> None:
        schema, actor = self.services.schema, self.actor

        def submit(values: dict[str, Any]) -> Datatype:
            return schema.create_datatype(
                str(values["name"]).strip(),
                actor,
                label=str(values["label"]).strip(),
                description=str(values["description"]),
            )

        self._datatype_form("New datatype", None, submit)

    def action_edit_datatype(self) -> None:
        datatype = self.current_datatype()
        if datatype is None:
            return
        schema, actor = self.services.schema, self.actor

        def submit(values: dict[str, Any]) -> Datatype:
            return schema.update_datatype(
                datatype.datatype_id,
                actor,
                name=str(values["name"]).strip(),
                label=str(values["label"]).strip(),
                description=str(values["description"]),
            )

        self._datatype_form(f"Edit {datatype.name}", datatype, submit)

    def _datatype_form(self, title: str, datatype: Datatype | None, submit: Any) -> None:
        def done(saved: Datatype | None) -> None:
            if saved is not None:
                self.notify(f"Saved datatype {saved.name}")
                self.refresh_area(select=saved.datatype_id)

        fields = [
            FormField(
                "name", "Name (lowercase, a-z 0-9 _)", value=datatype.name if datatype else ""
            ),
            FormField("label", "Label", value=datatype.label if datatype else ""),
            FormField("description", "Description", value=datatype.description if datatype else ""),
        ]
        self.app.push_screen(FormModal(title, fields, submit), done)

    def action_delete_datatype(self) -> None:
        datatype = self.current_datatype()
        if datatype is None:
            return
        schema, actor = self.services.schema, self.actor

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "delete datatype",
                    lambda: schema.delete_datatype(datatype.datatype_id, actor),
                    lambda _: self._after(f"Deleted datatype {datatype.name}"),
                    write=True,
                )

        self.app.push_screen(
            ConfirmModal(
                "Delete datatype",
                f"Delete the datatype {datatype.name}? Its field definitions stay.",
                yes="Delete",
                danger=True,
            ),
            answered,
        )

    def _after(self, message: str) -> None:
        self.notify(message)
        self.refresh_area()

    # fields -----------------------------------------------------------------------------

    def _datatype_names(self) -> list[str]:
        return [d.name for d in self.datatypes]

    def action_new_field(self) -> None:
        datatype = self.current_datatype()
        if datatype is None:
            return
        schema, actor = self.services.schema, self.actor

        def submit(values: dict[str, Any]) -> Field:
            field = schema.create_field(
                values["name"],
                values["type"],
                actor,
                label=values["label"],
                validation=values["validation"],
                translatable=values["translatable"],
            )
            schema.attach(datatype.datatype_id, field.field_id, actor, required=values["required"])
            return field

        def done(field: Field | None) -> None:
            if field is not None:
                self.notify(f"Created {field.name} and attached it to {datatype.name}")
                self.load_fields(select=field.field_id)

        modal = FieldFormModal(
            f"New field for {datatype.label}",
            submit,
            datatypes=self._datatype_names(),
            ask_required=True,
        )
        self.app.push_screen(modal, done)

    def action_edit_field(self) -> None:
        df = self.current_field()
        if df is None:
            return
        schema, actor = self.services.schema, self.actor

        def submit(values: dict[str, Any]) -> Field:
            return schema.update_field(
                df.field.field_id,
                actor,
                name=values["name"],
                label=values["label"],
                validation=values["validation"],
                translatable=values["translatable"],
            )

        def done(field: Field | None) -> None:
            if field is not None:
                self.notify(f"Saved field {field.name}")
                self.load_fields(select=field.field_id)

        modal = FieldFormModal(
            f"Edit field {df.field.name}", submit, field=df.field, datatypes=self._datatype_names()
        )
        self.app.push_screen(modal, done)

    def action_attach_field(self) -> None:
        datatype = self.current_datatype()
        if datatype is None:
            return
        schema, actor = self.services.schema, self.actor
        have = {df.field.field_id for df in self.attached}

        def offer(fields: list[Field]) -> None:
            free = [f for f in fields if f.field_id not in have]
            if not free:
                self.notify("Every field is attached already: create one with n")
                return

            def submit(values: dict[str, Any]) -> DatatypeField:
                if not values["field"]:
                    raise ValidationFailed("pick a field", [FieldError("field", "pick a field")])
                return schema.attach(
                    datatype.datatype_id, values["field"], actor, required=values["required"]
                )

            def done(df: DatatypeField | None) -> None:
                if df is not None:
                    self.notify(f"Attached {df.field.name} to {datatype.name}")
                    self.load_fields(select=df.field.field_id)

            options = tuple((f"{f.name} ({f.type.value})", f.field_id) for f in free)
            form = FormModal(
                f"Attach a field to {datatype.label}",
                [
                    FormField("field", "Field", kind="select", options=options),
                    FormField("required", "Required", kind="switch", value=False),
                ],
                submit,
                submit_label="Attach",
            )
            self.app.push_screen(form, done)

        self.call("all fields", schema.fields, offer)

    def action_toggle_required(self) -> None:
        datatype, df = self.current_datatype(), self.current_field()
        if datatype is None or df is None:
            return
        schema, actor = self.services.schema, self.actor
        self.call(
            "required",
            lambda: schema.set_required(
                datatype.datatype_id, df.field.field_id, not df.required, actor
            ),
            lambda _: self.load_fields(),
            write=True,
        )

    def action_detach_field(self) -> None:
        datatype, df = self.current_datatype(), self.current_field()
        if datatype is None or df is None:
            return
        schema, actor = self.services.schema, self.actor

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "detach",
                    lambda: schema.detach(datatype.datatype_id, df.field.field_id, actor),
                    lambda _: self._detached(df.field.name),
                    write=True,
                )

        self.app.push_screen(
            ConfirmModal(
                "Detach field",
                f"Detach {df.field.name} from {datatype.name}? Stored values stay in the "
                "database and come back if you attach it again.",
                yes="Detach",
            ),
            answered,
        )

    def _detached(self, name: str) -> None:
        self.notify(f"Detached {name}")
        self.load_fields()

    def action_move_field(self, delta: int) -> None:
        datatype, df = self.current_datatype(), self.current_field()
        if datatype is None or df is None:
            return
        names = [a.field.name for a in self.attached]
        index = names.index(df.field.name)
        target = index + delta
        if not 0 <= target < len(names):
            self.app.bell()
            return
        names[index], names[target] = names[target], names[index]
        schema, actor = self.services.schema, self.actor
        self.call(
            "reorder fields",
            lambda: schema.reorder(datatype.datatype_id, names, actor),
            lambda _: self.load_fields(select=df.field.field_id),
            write=True,
        )

    def action_delete_field(self) -> None:
        schema = self.services.schema

        def offer(fields: list[Field]) -> None:
            if not fields:
                self.notify("There are no field definitions yet")
                return
            items = [(f.field_id, f"{f.name} ({f.type.value})") for f in fields]
            self.app.push_screen(
                PickModal(
                    "Delete which field definition?",
                    items,
                    hint="Only fields that no datatype uses can be deleted.",
                ),
                lambda field_id: self._confirm_delete_field(fields, field_id),
            )

        self.call("all fields", schema.fields, offer)

    def _confirm_delete_field(self, fields: list[Field], field_id: str | None) -> None:
        field = next((f for f in fields if f.field_id == field_id), None)
        if field is None:
            return
        schema, actor = self.services.schema, self.actor

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "delete field",
                    lambda: schema.delete_field(field.field_id, actor),
                    lambda _: self._after(f"Deleted field {field.name}"),
                    write=True,
                )

        self.app.push_screen(
            ConfirmModal(
                "Delete field definition",
                f"Delete the field {field.name} for good?",
                yes="Delete",
                danger=True,
            ),
            answered,
        )

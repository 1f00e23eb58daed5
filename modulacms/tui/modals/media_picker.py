"""Pick a media file for a media field, or add one from a path on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from modulacms.core.models import Media
from modulacms.errors import FieldError, ValidationFailed
from modulacms.tui.base import ServiceModal
from modulacms.tui.modals.form import FormField, FormModal
from modulacms.tui.text import plain


def _label(media: Media) -> Text:
    text = Text(media.name, style="bold")
    text.append(f"  {media.mime_type} · {media.size:,} bytes", style="dim")
    return text


class MediaPicker(ServiceModal[str | None]):
    """Dismisses with the chosen media id, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+n", "add_file", "Add a file"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.media: list[Media] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title")
            yield Static("enter picks · ctrl+n adds a file from disk", classes="dialog-body")
            yield Input(placeholder="type to search", compact=True, id="media-search")
            yield OptionList(id="media-options")

    def on_mount(self) -> None:
        self.load("")
        self.query_one(Input).focus()

    def load(self, search: str) -> None:
        media, actor = self.services.media, self.actor
        needle = search.strip() or None
        self.call("media", lambda: media.list(actor, search=needle, limit=200)[0], self._show)

    def _show(self, found: list[Media]) -> None:
        self.media = found
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(_label(m), id=m.media_id) for m in found)
        options.highlighted = 0 if found else None

    def on_input_changed(self, event: Input.Changed) -> None:
        self.load(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_add_file(self) -> None:
        media, actor = self.services.media, self.actor

        def submit(values: dict[str, Any]) -> Media:
            path = Path(str(values["path"])).expanduser()
            if not path.is_file():
                raise ValidationFailed(
                    "cannot add media", [FieldError("path", f"no file at {path}")]
                )
            return media.add(
                path.read_bytes(),
                path.name,
                actor,
                name=str(values["name"]),
                alt=str(values["alt"]),
            )

        def added(item: Media | None) -> None:
            if item is not None:
                self.dismiss(item.media_id)

        form = FormModal(
            "Add a media file",
            [
                FormField("path", "File on this machine", placeholder="~/Pictures/team.jpg"),
                FormField("name", "Name (default: the file name)"),
                FormField("alt", "Alternative text"),
            ],
            submit,
            submit_label="Add",
        )
        self.app.push_screen(form, added)

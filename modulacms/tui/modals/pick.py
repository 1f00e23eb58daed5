"""Pick one item from a filterable list (datatypes, a new parent, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from modulacms.tui.text import plain


class PickModal(ModalScreen[str | None]):
    """Dismisses with the chosen item's key, or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, items: Sequence[tuple[str, str | Text]], *, hint: str = ""):
        super().__init__(classes="dialog")
        self.title_text, self.items, self.hint = title, items, hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box tall"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title")
            if self.hint:
                yield Static(plain(self.hint), classes="dialog-body")
            yield Input(placeholder="type to filter", compact=True, id="pick-filter")
            yield OptionList(id="pick-options")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#pick-filter", Input).focus()

    def _fill(self, needle: str) -> None:
        options = self.query_one("#pick-options", OptionList)
        options.clear_options()
        needle = needle.strip().lower()
        options.add_options(
            Option(Text(label) if isinstance(label, str) else label, id=key)
            for key, label in self.items
            if needle in str(label).lower() or needle in key.lower()
        )
        options.highlighted = 0 if options.option_count else None

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#pick-options", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.dismiss(option.id)

    def on_key(self, event: events.Key) -> None:
        # arrow keys typed in the filter move the list's highlight
        options = self.query_one("#pick-options", OptionList)
        if event.key in ("down", "up") and not options.has_focus:
            if event.key == "down":
                options.action_cursor_down()
            else:
                options.action_cursor_up()
            event.stop()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

"""The Users & tokens area: people, their roles, and their API tokens.

Left, the users; right, the tokens of the highlighted user. A new token's secret is
shown once. ``R`` lists the roles with their permissions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static

from modulacms.core.people import Role, Token, TokenCreated, User
from modulacms.tui.base import AreaScreen
from modulacms.tui.modals.confirm import ConfirmModal
from modulacms.tui.modals.form import FormField, FormModal
from modulacms.tui.modals.roles import RolesModal
from modulacms.tui.modals.secret import SecretModal
from modulacms.tui.text import plain
from modulacms.tui.widgets.area_bar import AreaBar
from modulacms.tui.widgets.table import PlainTable


class UsersTable(PlainTable[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "screen.new_user", "New user"),
        Binding("e", "screen.edit_user", "Edit"),
        Binding("p", "screen.password", "Password", show=False),
        Binding("d,delete", "screen.delete_user", "Delete"),
        Binding("enter,right", "screen.focus_tokens", "Tokens", show=False),
    ]


class TokensTable(PlainTable[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "screen.new_token", "New token"),
        Binding("x", "screen.revoke_token", "Revoke"),
        Binding("escape,left", "screen.focus_users", "Users", show=False),
    ]


class UsersScreen(AreaScreen):
    AREA = "users"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R", "roles", "Roles", tooltip="List roles and their permissions"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.users: list[User] = []
        self.tokens: list[Token] = []
        self.roles: list[Role] = []

    def compose(self) -> ComposeResult:
        yield AreaBar(self.AREA, self.modula.project_name)
        with Horizontal(classes="area-body"):
            with Vertical(classes="area-list pane"):
                yield Static("Users", id="users-title", classes="pane-title")
                yield UsersTable(cursor_type="row", id="users-table")
            with Vertical(classes="area-detail pane"):
                yield Static("Tokens", id="tokens-title", classes="pane-title")
                yield TokensTable(cursor_type="row", id="tokens-table")
        yield Footer()

    @property
    def u_table(self) -> UsersTable:
        return self.query_one(UsersTable)

    @property
    def t_table(self) -> TokensTable:
        return self.query_one(TokensTable)

    def on_mount(self) -> None:
        self.u_table.add_columns("email", "name", "role", "active")
        self.t_table.add_columns("name", "prefix", "expires", "state")
        self.u_table.focus()
        self.refresh_area()

    # loading ----------------------------------------------------------------------------

    def refresh_area(self, select: str | None = None) -> None:
        users, actor = self.services.users, self.actor
        keep = select or self._user_id()

        def job() -> tuple[list[User], int, list[Role]]:
            found, total = users.list(actor, limit=500)
            return found, total, users.roles(actor)

        def loaded(result: tuple[list[User], int, list[Role]]) -> None:
            self.users, total, self.roles = result
            table = self.u_table
            table.clear()
            for u in self.users:
                table.add_row(
                    u.email, u.name, u.role_name, "yes" if u.is_active else "no", key=u.user_id
                )
            for index, u in enumerate(self.users):
                if u.user_id == keep:
                    table.move_cursor(row=index)
            self.query_one("#users-title", Static).update(f"Users ({total})")
            self.load_tokens()

        self.call("users", job, loaded)

    def load_tokens(self) -> None:
        user = self.current_user()
        if user is None:
            self.tokens = []
            self.t_table.clear()
            self.query_one("#tokens-title", Static).update("Tokens")
            self.refresh_bindings()
            return
        auth, actor, user_id = self.services.auth, self.actor, user.user_id

        def loaded(tokens: list[Token]) -> None:
            current = self.current_user()
            if current is None or current.user_id != user_id:
                return
            self.tokens = tokens
            table = self.t_table
            table.clear()
            for t in tokens:
                state = "revoked" if t.revoked_at else "active"
                expires = (t.expires_at or "never")[:16].replace("T", " ")
                table.add_row(t.name, t.prefix + "…", expires, state, key=t.token_id)
            self.query_one("#tokens-title", Static).update(plain(f"Tokens of {current.email}"))
            self.refresh_bindings()

        self.call("tokens", lambda: auth.tokens(actor, user_id=user_id), loaded)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.u_table:
            self.load_tokens()

    def current_user(self) -> User | None:
        row = self.u_table.cursor_row
        return self.users[row] if 0 <= row < len(self.users) else None

    def current_token(self) -> Token | None:
        row = self.t_table.cursor_row
        return self.tokens[row] if 0 <= row < len(self.tokens) else None

    def _user_id(self) -> str | None:
        user = self.current_user()
        return user.user_id if user else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs_user = {"edit_user", "password", "delete_user", "new_token", "focus_tokens"}
        if action in needs_user and self.current_user() is None:
            return None
        if action == "revoke_token" and self.current_token() is None:
            return None
        return True

    def action_focus_tokens(self) -> None:
        self.t_table.focus()

    def action_focus_users(self) -> None:
        self.u_table.focus()

    # users ------------------------------------------------------------------------------

    def _role_options(self) -> tuple[tuple[str, str], ...]:
        return tuple((f"{r.label} ({r.name})", r.name) for r in self.roles)

    def action_new_user(self) -> None:
        users, actor = self.services.users, self.actor

        def submit(values: dict[str, Any]) -> User:
            return users.create(
                str(values["email"]),
                str(values["password"]),
                actor,
                name=str(values["name"]),
                role=str(values["role"] or "viewer"),
            )

        fields = [
            FormField("email", "Email", placeholder="name@example.com"),
            FormField("name", "Name"),
            FormField("password", "Password (at least 8 characters)", kind="password"),
            FormField("role", "Role", kind="select", value="editor", options=self._role_options()),
        ]
        self.app.push_screen(
            FormModal("New user", fields, submit, submit_label="Create"), self._saved
        )

    def _saved(self, user: User | None) -> None:
        if user is not None:
            self.notify(f"Saved {user.email}")
            self.refresh_area(select=user.user_id)

    def action_edit_user(self) -> None:
        user = self.current_user()
        if user is None:
            return
        users, actor = self.services.users, self.actor

        def submit(values: dict[str, Any]) -> User:
            return users.update(
                user.user_id,
                actor,
                email=str(values["email"]),
                name=str(values["name"]),
                role=values["role"] or None,
                is_active=bool(values["active"]),
            )

        fields = [
            FormField("email", "Email", value=user.email),
            FormField("name", "Name", value=user.name),
            FormField(
                "role", "Role", kind="select", value=user.role_name, options=self._role_options()
            ),
            FormField("active", "Active (may sign in)", kind="switch", value=user.is_active),
        ]
        self.app.push_screen(FormModal(f"Edit {user.email}", fields, submit), self._saved)

    def action_password(self) -> None:
        user = self.current_user()
        if user is None:
            return
        users, actor = self.services.users, self.actor

        def submit(values: dict[str, Any]) -> User:
            users.set_password(user.user_id, str(values["password"]), actor)
            return user

        def done(result: User | None) -> None:
            if result is not None:
                self.notify(f"Password of {user.email} changed; their sessions were ended")

        fields = [FormField("password", "New password (at least 8 characters)", kind="password")]
        self.app.push_screen(FormModal(f"Password of {user.email}", fields, submit), done)

    def action_delete_user(self) -> None:
        user = self.current_user()
        if user is None:
            return
        users, actor = self.services.users, self.actor

        def deleted(_: None) -> None:
            self.notify(f"Deleted {user.email}")
            self.refresh_area()

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "delete user", lambda: users.delete(user.user_id, actor), deleted, write=True
                )

        self.app.push_screen(
            ConfirmModal(
                "Delete user",
                f"Delete {user.email} with their sessions and tokens?",
                yes="Delete",
                danger=True,
            ),
            answered,
        )

    def action_roles(self) -> None:
        self.app.push_screen(RolesModal())

    # tokens -----------------------------------------------------------------------------

    def action_new_token(self) -> None:
        user = self.current_user()
        if user is None:
            return
        auth, actor = self.services.auth, self.actor

        def submit(values: dict[str, Any]) -> TokenCreated:
            expires = str(values["expires_at"]).strip() or None
            return auth.create_token(
                str(values["name"]), actor, user_id=user.user_id, expires_at=expires
            )

        def created(result: TokenCreated | None) -> None:
            if result is None:
                return
            self.load_tokens()
            self.app.push_screen(
                SecretModal(f"Token {result.token.name} for {user.email}", result.secret)
            )

        fields = [
            FormField("name", "Name", placeholder="e.g. website build"),
            FormField(
                "expires_at", "Expires at (empty: never)", placeholder="2027-01-31T00:00:00Z"
            ),
        ]
        self.app.push_screen(
            FormModal(f"New token for {user.email}", fields, submit, submit_label="Create"), created
        )

    def action_revoke_token(self) -> None:
        token = self.current_token()
        if token is None:
            return
        if token.revoked_at is not None:
            self.notify("That token is revoked already")
            return
        auth, actor = self.services.auth, self.actor

        def revoked(_: Token) -> None:
            self.notify(f"Revoked token {token.name}")
            self.load_tokens()

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    "revoke token",
                    lambda: auth.revoke_token(token.token_id, actor),
                    revoked,
                    write=True,
                )

        self.app.push_screen(
            ConfirmModal(
                "Revoke token",
                f"Revoke {token.name} ({token.prefix}…)? Clients using it are refused at once.",
                yes="Revoke",
                danger=True,
            ),
            answered,
        )

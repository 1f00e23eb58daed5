"""The bundled plugins: their own *.test.lua suites pass, and the shop's stock hook
follows product content edited in the CMS."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from modulacms.app import build_app
from modulacms.core.models import Actor
from modulacms.plugin_runtime.bridge import BridgeRequest
from modulacms.plugin_runtime.harness import run_plugin_tests
from modulacms.plugin_runtime.options import RuntimeOptions
from modulacms.plugin_runtime.runtime import PluginRuntime

BUNDLED = Path(__file__).resolve().parents[3] / "plugins"


@pytest.mark.parametrize("name", ["hello", "shop"])
def test_bundled_plugin_suites_pass(name: str) -> None:
    lines: list[str] = []
    assert run_plugin_tests(BUNDLED / name, out=lines.append) == 0, "\n".join(lines)
    assert lines[-1].split(" passed")[0] != "0"


def test_shop_stock_follows_product_content(tmp_path: Path) -> None:
    app = build_app(tmp_path / "site.db")
    system = Actor.system()
    schema = app.services.schema
    schema.create_datatype("product", system, label="Product")
    schema.create_field("sku", "text", system, label="SKU")
    schema.create_field("stock", "number", system, label="Stock")
    schema.attach("product", "sku", system)
    schema.attach("product", "stock", system)
    app.services.routes.create("/catalog", system, title="Catalog")
    runtime = PluginRuntime(app.db, app.services, BUNDLED, RuntimeOptions(max_vms=2)).start()
    try:
        store = runtime.approvals
        store.set_all_hooks("shop", True, "test")
        store.set_all_routes("shop", True, "test")
        runtime.manager.refresh_approvals(force=True)
        created = runtime.bridge.handle(
            BridgeRequest(
                "POST",
                "/api/v1/plugins/shop/products",
                headers=[("Content-Type", "application/json")],
                body=b'{"name":"Hammer","sku":"HAM-1","price":12.5,"stock":0}',
                client_ip="127.0.0.1",
                authenticated=True,
            )
        )
        assert created.status == 201
        node = app.services.content.create(
            "/catalog", "product", {"sku": "HAM-1", "stock": 7}, system
        )
        assert runtime.manager.hooks.wait_idle(5)
        row = app.db.one("SELECT stock, in_stock FROM plugin_shop_products WHERE sku = 'HAM-1'")
        assert row == (7, 1)
        current = app.services.content.node(node.content_data_id)
        app.services.content.update(node.content_data_id, {"stock": 0}, current.revision, system)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            runtime.manager.hooks.wait_idle(5)
            row = app.db.one("SELECT stock, in_stock FROM plugin_shop_products WHERE sku = 'HAM-1'")
            if row == (0, 0):
                break
            time.sleep(0.05)
        assert row == (0, 0)
    finally:
        runtime.close()
        app.close()

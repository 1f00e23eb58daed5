"""``scripts/bench plugins``: the cost of running CMS features as sandboxed Lua.

Three figures, measured in one run against baselines doing the same work without Lua:

* ``route_vs_core``: the bundled shop plugin's ``GET /products?limit=100`` (100 products
  as JSON) against a Python handler mounted in the same server that runs the same query
  through the same store and writes the same JSON; both over one keep-alive HTTP
  connection on 127.0.0.1, measured alternately after a warm-up. Target ≤ 1.3×. Both
  routes are public (no credential check on either side) and the bodies are checked to be
  byte-identical: the plugin must write Go's JSON (sorted keys, ``1`` for ``1.0``), so the
  baseline uses the same Go-compatible encoder (``gojson.encode``) rather than the core's
  plain ``json.dumps``, which would write different bytes.
* ``hooks_vs_none``: creating content through the admin API (``POST
  /api/v1/admin/content``, as clients do) with one approved before-hook and one after-hook
  installed against no dispatcher, in 50 alternating pairs of batches of 20 creates
  (the median of each side); a batch ends when its after-hooks have run, so their cost
  counts. Target ≤ 1.3×. The same comparison one layer down (the content service called
  directly) is printed for information.
* ``checkout_p99``: the 99th percentile of the time a request waits for a VM while 16
  clients hammer the plugin route (4 VMs, 100 ms checkout timeout). Target ≤ 100 ms.
"""

from __future__ import annotations

import http.client
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import info, paired_medians, result

SUITE = "plugins"
ROOT = Path(__file__).resolve().parent.parent
HOOKS_PLUGIN = """
plugin_info = { name = "bench_hooks", version = "1.0.0", description = "bench hooks" }

hooks.on("before_create", "content_data", function(data)
  if data._table ~= "content_data" then error("unexpected table") end
end)

hooks.on("after_create", "content_data", function(data)
  if data.content_data_id == nil then error("no id") end
end)
"""


def _get(conn: http.client.HTTPConnection, path: str, token: str) -> bytes:
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    reply = conn.getresponse()
    body = reply.read()
    if reply.status != 200:
        raise RuntimeError(f"GET {path} -> {reply.status}: {body[:200]!r}")
    return body


def run(quick: bool = False) -> None:
    from modulacms.app import build_app
    from modulacms.core.events import NullDispatcher
    from modulacms.core.models import Actor
    from modulacms.db.plugin_store import PluginStore
    from modulacms.http.api import Api
    from modulacms.http.handlers.plugins import plugin_api
    from modulacms.http.options import ServerOptions
    from modulacms.http.responses import Response
    from modulacms.http.runner import build_server
    from modulacms.http.testing import build_sample_site, make_people, wait_until_up
    from modulacms.plugin_runtime import gojson
    from modulacms.plugin_runtime.options import RuntimeOptions
    from modulacms.plugin_runtime.runtime import PluginRuntime

    runs = 41 if quick else 201
    tmp = Path(tempfile.mkdtemp(prefix="modulacms-bench-plugins-"))
    app = build_app(tmp / "site.db")
    build_sample_site(app.services, tree_nodes=3)
    token = make_people(app.services)["admin"]
    plugins = tmp / "plugins"
    plugins.mkdir()
    shutil.copytree(ROOT / "plugins" / "shop", plugins / "shop")
    (plugins / "bench_hooks").mkdir()
    (plugins / "bench_hooks" / "init.lua").write_text(HOOKS_PLUGIN)
    # the per-address rate limit would turn the 16-client run into 429s: lift it here
    options = RuntimeOptions(rate_limit=1_000_000)
    runtime = PluginRuntime(app.db, app.services, plugins, options).start()
    app.plugins = runtime
    store = runtime.approvals
    store.set_all_routes("shop", True, "bench")
    store.set_all_hooks("bench_hooks", True, "bench")  # exactly one before- and one after-hook
    runtime.manager.refresh_approvals(force=True)

    plugin_store = PluginStore(app.db)
    columns = ["name", "sku", "price", "stock", "in_stock", "category", "description"]
    rows = [
        [
            f"Product {i:03d}",
            f"SKU-{i:04d}",
            round(1 + i * 0.37, 2),
            i % 7,
            1 if i % 7 else 0,
            ("tools", "garden", "kitchen")[i % 3],
            "A sturdy, well made thing for everyday use.",
        ]
        for i in range(300)
    ]
    for start in range(0, len(rows), 100):
        plugin_store.insert_many("shop", "products", columns, rows[start : start + 100])
    core = Api("bench")

    @core.get("/api/v1/bench/products", "The same listing in Python", permission=None)
    def products(request: Any, ctx: Any) -> Response:
        rows = plugin_store.query("shop", "products", {"order_by": "name", "limit": 100})
        body = {"data": rows, "limit": 100, "offset": 0}
        return Response(200, gojson.encode(body).encode())

    server = build_server(
        app.services,
        replace(ServerOptions(access_log=None), host="127.0.0.1", port=0),
        apis=[plugin_api(runtime), core],
    )
    server.start()
    wait_until_up("127.0.0.1", server.port)
    try:
        plugin_path = "/api/v1/plugins/shop/products?limit=100&sort=name"
        core_path = "/api/v1/bench/products"
        # One connection for both: the same server thread answers both routes, so how the
        # OS places threads on cores (waking an idle virtual CPU costs far more than a
        # switch on a busy one) cannot favour one side for a whole run.
        conn_a = http.client.HTTPConnection("127.0.0.1", server.port)
        # the same serialisation: byte for byte the same body, not merely equal JSON
        a = _get(conn_a, plugin_path, token)
        b = _get(conn_a, core_path, token)
        assert a == b, "plugin and core responses differ"
        assert len(json.loads(a)["data"]) == 100
        t_plugin, t_core = paired_medians(
            lambda: _get(conn_a, plugin_path, token),
            lambda: _get(conn_a, core_path, token),
            runs=runs,
        )
        info(SUITE, "route_plugin_ms", t_plugin * 1000, "ms")
        info(SUITE, "route_core_ms", t_core * 1000, "ms")
        result(SUITE, "route_vs_core", t_plugin / t_core, "ratio", "<=", 1.3)

        content = app.services.content
        engine = runtime.manager.hooks
        system = Actor.system()
        counter = iter(range(10**9))
        batch = 20

        def service_batch(hooks: Any) -> Callable[[], None]:
            def run_batch() -> None:
                app.services.set_hooks(hooks)
                for _ in range(batch):
                    content.create("/tree", "card", {"heading": f"h{next(counter)}"}, system)
                engine.wait_idle(5)  # the after-hooks' work is part of the cost

            return run_batch

        # 50 pairs of 20-create batches (10 in --quick): a median steady enough to judge
        batches = max(10, runs // 4)
        t_hooks, t_none = paired_medians(
            service_batch(engine), service_batch(NullDispatcher()), runs=batches
        )
        info(SUITE, "service_create_with_hooks_ms", t_hooks / batch * 1000, "ms")
        info(SUITE, "service_create_without_hooks_ms", t_none / batch * 1000, "ms")
        info(SUITE, "service_hooks_vs_none", t_hooks / t_none, "ratio")

        conn_c = http.client.HTTPConnection("127.0.0.1", server.port)

        def api_batch(hooks: Any) -> Callable[[], None]:
            def run_batch() -> None:
                app.services.set_hooks(hooks)
                for _ in range(batch):
                    body = json.dumps(
                        {
                            "route": "/tree",
                            "datatype": "card",
                            "values": {"heading": f"a{next(counter)}"},
                        }
                    )
                    conn_c.request(
                        "POST",
                        "/api/v1/admin/content",
                        body=body,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    )
                    reply = conn_c.getresponse()
                    reply.read()
                    assert reply.status == 201, reply.status
                engine.wait_idle(5)

            return run_batch

        t_hooks, t_none = paired_medians(
            api_batch(engine), api_batch(NullDispatcher()), runs=batches
        )
        app.services.set_hooks(engine)
        fired = runtime.metrics.counter_total("plugin.hook.after", plugin="bench_hooks")
        assert fired >= 2 * batches * batch, "after-hooks did not run"
        info(SUITE, "create_with_hooks_ms", t_hooks / batch * 1000, "ms")
        info(SUITE, "create_without_hooks_ms", t_none / batch * 1000, "ms")
        result(SUITE, "hooks_vs_none", t_hooks / t_none, "ratio", "<=", 1.3)

        waits = _concurrent(server.port, token, plugin_path, 16, 1.0 if quick else 3.0, runtime)
        info(SUITE, "concurrent_requests", waits["requests"], "requests")
        info(SUITE, "concurrent_exhausted", waits["exhausted"], "responses")
        info(SUITE, "checkout_p50", waits["p50"], "ms")
        result(SUITE, "checkout_p99", waits["p99"], "ms", "<=", 100.0)
    finally:
        server.stop(grace=5.0)
        app.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _concurrent(
    port: int, token: str, path: str, clients: int, seconds: float, runtime: Any
) -> dict[str, float]:
    """Hammer ``path`` from ``clients`` threads; checkout waits (failed ones included)."""
    metrics = runtime.metrics
    labels = {"plugin": "shop"}
    seen = len(metrics.samples("plugin.vm.checkout_wait_ms", labels))
    before = metrics.counter_total("plugin.http.requests", plugin="shop")
    stop = time.monotonic() + seconds
    exhausted = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.monotonic() < stop:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            reply = conn.getresponse()
            reply.read()
            if reply.status == 503:
                with lock:
                    exhausted[0] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples = sorted(metrics.samples("plugin.vm.checkout_wait_ms", labels)[seen:])
    done = metrics.counter_total("plugin.http.requests", plugin="shop") - before

    def pct(q: float) -> float:
        return samples[min(len(samples) - 1, int(q * len(samples)))] if samples else 0.0

    return {"requests": done, "exhausted": exhausted[0], "p50": pct(0.5), "p99": pct(0.99)}

"""HTTP routers, one per domain; `api.app.ROUTERS` lists and mounts them."""

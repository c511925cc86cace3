"""HTTP edge: FastAPI app, routers, web UI and widget."""

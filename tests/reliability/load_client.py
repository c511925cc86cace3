"""A writer or reader process for the concurrency test; prints one JSON line of results.

usage: load_client.py writer|reader BASE_URL KEY COUNT SEED
"""

from __future__ import annotations

import json
import random
import sys
import time

import httpx


def writer(client: httpx.Client, count: int, seed: int, paths: set[str]) -> dict:  # type: ignore[type-arg]
    acked: list[dict] = []  # type: ignore[type-arg]
    errors: list[str] = []
    tickets: list[str] = []
    publish = "/api/v1/entries/{entry_id}/publish" in paths
    for i in range(count):
        title = f"并发写入{seed}-{i} 护士站打印机无法打印"
        r = client.post(
            "/api/v1/entries",
            json={
                "title": title,
                "symptom": f"现象{seed}-{i}",
                "solution": "重装驱动",
                "system": "打印机",
            },
        )
        if r.status_code != 201:
            errors.append(f"create {r.status_code} {r.text[:200]}")
            continue
        entry = r.json()
        if publish:  # draft → in_review → published, as the lifecycle requires
            failed = False
            for step in ("submit", "publish"):
                p = client.post(f"/api/v1/entries/{entry['id']}/{step}", json={})
                if p.status_code >= 300:
                    errors.append(f"{step} {p.status_code} {p.text[:200]}")
                    failed = True
                    break
            if failed:
                continue
        acked.append({"id": entry["id"], "title": title})
        ext = f"W{seed}-{i}"
        t = client.post(
            "/api/v1/tickets",
            json={"source": "load", "external_id": ext, "title": title, "symptom": "无法打印"},
        )
        if t.status_code != 200:
            errors.append(f"ticket {t.status_code} {t.text[:200]}")
        else:
            tickets.append(ext)
    return {"acked": acked, "tickets": tickets, "errors": errors, "published": publish}


def reader(client: httpx.Client, count: int, seed: int, paths: set[str]) -> dict:  # type: ignore[type-arg]
    rnd = random.Random(seed)
    errors: list[str] = []
    search = "/api/v1/search" in paths
    for _ in range(count):
        r = client.get("/api/v1/entries", params={"limit": 20})
        if r.status_code != 200:
            errors.append(f"list {r.status_code} {r.text[:200]}")
            continue
        data = r.json()["data"]
        if data:
            one = client.get(f"/api/v1/entries/{rnd.choice(data)['id']}")
            if one.status_code not in (200, 404):  # 404: deleted between list and get is fine
                errors.append(f"get {one.status_code} {one.text[:200]}")
        if search:
            s = client.get("/api/v1/search", params={"q": "打印机无法打印"})
            if s.status_code != 200:
                errors.append(f"search {s.status_code} {s.text[:200]}")
    return {"errors": errors}


def main() -> None:
    role, base, key, count, seed = sys.argv[1:6]
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
        paths = set(client.get("/openapi.json").json()["paths"])
        started = time.monotonic()
        fn = writer if role == "writer" else reader
        try:
            out = fn(client, int(count), int(seed), paths)
        except httpx.HTTPError as exc:  # a dropped connection is an error, not a crash
            out = {"errors": [f"transport {type(exc).__name__}: {exc}"]}
        out["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()

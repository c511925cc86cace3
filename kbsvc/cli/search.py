"""`kbsvc search`, `kbsvc suggest`, `kbsvc reindex` and `kbsvc eval`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from kbsvc.cli._common import console, fail, handle_errors, is_tty, search_engine


def _print_hits(resp: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(resp.model_dump(), ensure_ascii=False, indent=2))
        return
    if not resp.data:
        typer.echo("没有找到相似的处理记录")
        return
    if not resp.confident:
        typer.echo("没有找到高度相似的处理记录，以下结果仅供参考：")
    for i, hit in enumerate(resp.data, 1):
        e = hit.entry
        terms = "、".join(next((r.terms for r in hit.reasons if r.terms), []))
        typer.echo(f"{i}. [#{e.id}] {e.title}  ({hit.confidence}, {hit.score:.3f})")
        if e.solution:
            typer.echo(f"   解决办法：{e.solution[:120]}")
        if terms:
            typer.echo(f"   匹配：{terms}")
    typer.echo(f"({resp.took_ms:.1f} ms)")


@handle_errors
def search(
    query: str = typer.Argument(..., help="Query text."),
    k: int = typer.Option(10, "--k", "-k", min=1, max=50, help="How many results."),
    system: str = typer.Option("", help="Only entries of this system."),
    department: str = typer.Option("", help="Only entries of this department."),
    tag: str = typer.Option("", help="Only entries with this tag."),
    as_json: bool = typer.Option(False, "--json", help="Print the API response as JSON."),
) -> None:
    """Search published entries."""
    from sqlmodel import Session

    from kbsvc.auth.models import SYSTEM
    from kbsvc.cli._common import open_db_engine, settings
    from kbsvc.search import service

    db_engine = open_db_engine()
    # The operator at the server's shell reads the whole KB (published entries of every dept).
    with Session(db_engine) as session:
        resp = service.search(
            session,
            search_engine(db_engine),
            settings=settings().search,
            q=query,
            k=k,
            system=system,
            department=department,
            tag=tag,
            principal=SYSTEM,
            search_log=None,  # the operator's own queries are not the users' questions
        )
    _print_hits(resp, as_json)


@handle_errors
def suggest(
    text: str = typer.Argument(..., help="The ticket text being written."),
    title: str = typer.Option("", help="Ticket title."),
    system: str = typer.Option("", help="System the ticket is about (a soft preference)."),
    department: str = typer.Option("", help="Reporting department (a soft preference)."),
    k: int = typer.Option(5, "--k", "-k", min=1, max=50),
    as_json: bool = typer.Option(False, "--json", help="Print the API response as JSON."),
) -> None:
    """Suggest past fixes for a new ticket."""
    from sqlmodel import Session

    from kbsvc.auth.models import SYSTEM
    from kbsvc.cli._common import open_db_engine, settings
    from kbsvc.search import service
    from kbsvc.search.models import SuggestRequest

    db_engine = open_db_engine()
    # One question from a terminal, not keystrokes: every channel answers it.
    req = SuggestRequest(
        text=text, title=title, system=system, department=department, k=k, settled=True
    )
    with Session(db_engine) as session:
        resp = service.suggest(
            session,
            search_engine(db_engine),
            req,
            principal=SYSTEM,
            settings=settings().search,
            search_log=None,  # the operator's own queries are not the users' questions
        )
    _print_hits(resp, as_json)


@handle_errors
def reindex() -> None:
    """Rebuild the search indexes from the database (`auto`: choosing channels first)."""
    typer.echo(rebuild_index(choose=True, embed_slow=True))


def rebuild_index(*, choose: bool, embed_slow: bool) -> str:
    """Rebuild every index with a process per core analysing entries; returns what was done.

    `choose`: re-choose `auto`'s channels first (judging e5 takes minutes). `embed_slow`: embed
    a slow model's vectors here; otherwise they are left to the server's background work and
    the entries are searchable on the other channels meanwhile.
    """
    from indexer.pool import cores
    from kbsvc.cli._common import open_db_engine, settings
    from kbsvc.search import choice

    if choose and settings().embedding.backend == "auto":
        typer.echo("auto: " + choice.choose(settings(), open_db_engine())["why"])
    built = search_engine(start=False)
    if is_tty():
        from rich.progress import Progress

        with Progress(console=console) as bar:
            task = bar.add_task("indexing entries", total=None)
            n = built.rebuild(
                lambda done, total: bar.update(task, completed=done, total=total),
                workers=cores(),
            )
    else:
        n = built.rebuild(workers=cores())
    pending = ""
    if built.slow_dense and embed_slow:  # a slow model's vectors: embedded here, not by the server
        if is_tty():
            from rich.progress import Progress

            with Progress(console=console) as bar:
                task = bar.add_task("embedding entries (e5)", total=None)
                built.embed_pending(lambda d, t: bar.update(task, completed=d, total=t))
        else:
            built.embed_pending()
    elif built.slow_dense:
        pending = f"; {len(built.retriever.pending)} passages left to the server to embed"
    dense = built.status()["dense"]
    return f"indexed {n} entries (dense channel: {dense}) into {built.index_dir}{pending}"


@handle_errors
def eval_cmd(
    judgments: Path = typer.Argument(None, help='JSONL: {"query", "relevant": [ids]}.'),
    compare: bool = typer.Option(False, "--compare", help="Lexical, dense and fused side by side."),
    from_links: bool = typer.Option(
        False, "--from-links", help="Judge with tickets linked to entries (leave-one-out)."
    ),
    as_json: bool = typer.Option(False, "--json"),
    choose: bool = typer.Option(
        False, "--choose", help="With --from-links: pick the channels `auto` will use here."
    ),
) -> None:
    """Evaluate ranking quality: MRR@10, nDCG@10, Recall@5/10, P@5."""
    from kbsvc.search.evalcli import run

    if judgments is None and not from_links:
        raise fail("give a JUDGMENTS.jsonl file or --from-links")
    if choose:
        from kbsvc.cli._common import open_db_engine, settings
        from kbsvc.search import choice

        if not from_links:
            raise fail("--choose judges with the KB's own evidence: add --from-links")
        out = choice.choose(settings(), open_db_engine())
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2) if as_json else out["why"])
        return
    from kbsvc.cli._common import settings
    from kbsvc.search import choice

    rows = run(judgments, compare=compare, from_links=from_links)
    auto = choice.describe(settings())
    if as_json:
        typer.echo(json.dumps({"rows": rows, "auto": auto}, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="retrieval quality")
    for col in ("configuration", "queries", "mrr@10", "ndcg@10", "recall@5", "recall@10", "p@5"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row["name"],
            str(row["queries"]),
            *(f"{row[m]:.3f}" for m in ("mrr@10", "ndcg@10", "recall@5", "recall@10", "p@5")),
        )
    Console().print(table)
    for row in rows:
        c = row["confidence"]
        line = (
            f"{row['name']}: confidence {c['source']}, high ≥ {c['high']:.3f}, "
            f"medium ≥ {c['medium']:.3f}"
        )
        if "right_top" in c:
            line += (
                f"; here {c['right_top_confident']:.0%} of right top hits confident, "
                f"{c['no_answer_high']:.0%} of no-answer queries high"
            )
        typer.echo(line)
    typer.echo(f"channels: {auto['backend']} ({'auto' if auto['auto'] else 'set'}): {auto['why']}")


def register(app: typer.Typer) -> None:
    app.command("search")(search)
    app.command("suggest")(suggest)
    app.command("reindex")(reindex)
    app.command("eval")(eval_cmd)

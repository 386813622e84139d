"""Help-center search quality: is the right article in the top 3 for queries written the way
people write (colloquial, typos, traditional characters, pinyin, English)?

    .venv/bin/python bench/helpsearch.py
    .venv/bin/python bench/helpsearch.py --queries bench/helpsearch_dev.tsv --misses

Queries are ``lang<TAB>slug<TAB>query`` lines. The default set,
``tests/fixtures/helpsearch_holdout.tsv``, was written before the search was built and is
never tuned on; ``bench/helpsearch_dev.tsv`` is the set the weights were chosen with. Each
run scores the plain text index (the baseline) and the help center's search (the text
index with the assistant's understanding) on a throwaway SQLite database holding the
shipped articles. Some held-out queries are phrasings the assistant was trained on, so the
figures are also printed for the others alone.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from kefu import migrate
from kefu.bot import service as bot_service
from kefu.bot.nlu.data import load_examples
from kefu.bot.nlu.normalise import normalise
from kefu.db import make_engine
from kefu.kb import service as kb_service

HOLDOUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "helpsearch_holdout.tsv"
TOP = 3


@dataclass(frozen=True)
class Query:
    lang: str
    slug: str
    text: str


def load_queries(path: Path) -> list[Query]:
    with path.open(encoding="utf-8") as handle:
        return [
            Query(lang=row["lang"], slug=row["slug"], text=row["query"])
            for row in csv.DictReader(handle, delimiter="\t")
        ]


Finder = Callable[[Session, Query], list[str]]


def text_only(db: Session, query: Query) -> list[str]:
    found = kb_service.search(db, query=query.text, lang=query.lang, limit=TOP)
    return [article.slug for article in found]


def with_understanding(db: Session, query: Query) -> list[str]:
    found = kb_service.search(
        db,
        query=query.text,
        lang=query.lang,
        limit=TOP,
        intents=bot_service.guess_intents(query.text),
    )
    return [article.slug for article in found]


def _score(
    db: Session, finder: Finder, queries: Sequence[Query]
) -> tuple[list[bool], list[float], list[tuple[Query, list[str]]]]:
    results, timings, misses = [], [], []
    for query in queries:
        started = time.perf_counter()
        found = finder(db, query)
        timings.append((time.perf_counter() - started) * 1000)
        results.append(query.slug in found)
        if query.slug not in found:
            misses.append((query, found))
    return results, timings, misses


def _share(results: Sequence[bool]) -> str:
    return f"{100 * sum(results) / len(results):5.1f} % ({sum(results)}/{len(results)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=HOLDOUT)
    parser.add_argument("--misses", action="store_true", help="list the queries each missed")
    args = parser.parse_args()
    queries = load_queries(args.queries)
    trained = {normalise(example.text) for example in load_examples()}
    unseen = [normalise(query.text) not in trained for query in queries]
    bot_service.guess_intents("warm up")  # trains the model once, outside the timings

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/helpsearch.db")
        migrate.upgrade(engine)
        with Session(engine) as db:
            kb_service.load_shipped_articles(db)
            db.commit()
            print(
                f"{len(queries)} queries from {args.queries.name}, {sum(unseen)} of them "
                f"not among the assistant's training phrasings; right article in the top {TOP}:"
            )
            for name, finder in (
                ("text index alone", text_only),
                ("text + assistant", with_understanding),
            ):
                results, timings, misses = _score(db, finder, queries)
                on_unseen = [ok for ok, fresh in zip(results, unseen, strict=True) if fresh]
                print(
                    f"  {name:17} all {_share(results)}   unseen {_share(on_unseen)}   "
                    f"median {statistics.median(timings):.1f} ms"
                )
                if args.misses:
                    for query, found in misses:
                        print(f"      miss {query.slug:25} {query.text!r} -> {found}")
        engine.dispose()


if __name__ == "__main__":
    main()

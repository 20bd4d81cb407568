#!/usr/bin/env python3
"""Vigie's schema and documented queries on a current ClickHouse, in-process (chdb).

The local stack and the end-to-end test run ClickHouse 18.16 (Debian's package); analysts run
current releases. This applies every migration the way `vigie migrate` does (the files listed in
`MIGRATIONS` of core/src/clickhouse/mod.rs, in order, split into statements as `split_statements`
splits them, recorded in schema_migrations, in a database of their own), inserts a few mentions
(twice, as a redelivery would), alerts and watches, and runs every ```sql block of
docs/clickhouse.md for tenant 'acme', as the end-to-end test does. Any error stops it with the
statement and the error (exit 1); so does a documented query answering no row, or the query
"with watch names" not answering what the end-to-end test expects of 18.16.

    deploy/clickhouse/check_current.py                             # chdb (current ClickHouse)
    deploy/clickhouse/check_current.py --http http://127.0.0.1:8123  # a server, e.g. the local 18.16

With --http, it works in a database of its own, scratch_chcheck (refusing to start if it already
exists) and drops it at the end. chdb comes from deploy/local/install.sh (pinned, into
.local/python) or any installed chdb.
"""

import argparse
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TENANT = "acme"
SCRATCH = "scratch_chcheck"


class Failed(Exception):
    """A statement the server refused, or an answer that is not the expected one."""

    def __init__(self, what, statement, error):
        super().__init__(f"{what}:\n{statement}\n--> {error}")


class Chdb:
    """ClickHouse in-process, in a temporary directory."""

    def __init__(self):
        local = os.path.join(os.environ.get("VIGIE_LOCAL_DIR", os.path.join(ROOT, ".local")), "python")
        if os.path.isdir(local):
            sys.path.insert(0, local)
        import chdb

        self.dir = tempfile.TemporaryDirectory(prefix="vigie-chdb-")
        self.conn = chdb.connect(self.dir.name)
        self.name = f"ClickHouse {chdb.engine_version} (chdb {chdb.__version__})"

    def query(self, statement):
        return str(self.conn.query(statement, "TSV"))

    def use(self, database):
        self.query(f"CREATE DATABASE `{database}`")
        self.query(f"USE `{database}`")

    def close(self):
        self.conn.close()
        self.dir.cleanup()


class Http:
    """A ClickHouse server over its HTTP interface, in a scratch database dropped at the end."""

    def __init__(self, url):
        self.url, self.database = url.rstrip("/"), None
        self.name = f"ClickHouse {self.query('SELECT version()').strip()} at {self.url}"

    def query(self, statement):
        params = {"database": self.database} if self.database else {}
        request = urllib.request.Request(
            f"{self.url}/?{urllib.parse.urlencode(params)}", data=statement.encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.read().decode()
        except urllib.error.HTTPError as e:
            raise RuntimeError(e.read().decode().strip()) from None

    def use(self, database):
        self.query(f"CREATE DATABASE `{database}`")  # fails if it exists: never touch another
        self.database = database

    def close(self):
        if self.database:
            self.database, database = None, self.database
            self.query(f"DROP DATABASE `{database}`")


def run(server, what, statement):
    try:
        return server.query(statement)
    except Exception as e:  # chdb's ChdbError, or the server's answer: ClickHouse's message
        raise Failed(what, statement, e) from None


def rows(answer):
    return [line.split("\t") for line in answer.splitlines() if line]


def migrations():
    """(version, name, SQL) as core/src/clickhouse/mod.rs embeds them, checked against the files."""
    with open(os.path.join(ROOT, "core", "src", "clickhouse", "mod.rs"), encoding="utf-8") as f:
        source = f.read()
    listed = re.findall(
        r'\(\s*(\d+),\s*"([^"]+)",\s*include_str!\("\.\./\.\./\.\./deploy/clickhouse/([^"]+)"\),?\s*\)', source
    )
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "deploy", "clickhouse")) if f.endswith(".sql"))
    if not listed or [f for _, _, f in listed] != files:
        raise Failed("reading MIGRATIONS in core/src/clickhouse/mod.rs", f"listed: {listed}", f"files: {files}")
    out = []
    for version, name, file in listed:
        with open(os.path.join(ROOT, "deploy", "clickhouse", file), encoding="utf-8") as f:
            out.append((int(version), name, f.read()))
    return out


def split_statements(sql):
    """As `split_statements` in core/src/clickhouse/mod.rs: `;` at line ends, `--` comments dropped."""
    out, current = [], ""
    for line in sql.splitlines():
        line = line.split("--")[0].rstrip()
        if not line.strip():
            continue
        current += line + "\n"
        if line.endswith(";"):
            out.append(current.strip().rstrip(";"))
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def documented_queries():
    """(title, query) of every ```sql block of docs/clickhouse.md, for tenant 'acme' (the
    end-to-end test substitutes its own tenant the same way)."""
    with open(os.path.join(ROOT, "docs", "clickhouse.md"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    out, title, block = [], "", None
    for line in lines:
        if block is None and line.startswith("### "):
            title = line[4:]
        elif block is None and line == "```sql":
            block = []
        elif block is not None and line == "```":
            query = "\n".join(block)
            query = query.replace("'acme/outage'", f"'{TENANT}/outage'").replace("'acme'", f"'{TENANT}'")
            out.append((title, query))
            block = None
        elif block is not None:
            block.append(line)
    if not out:
        raise Failed("reading docs/clickhouse.md", "", "no ```sql block")
    return out


def insert_sample(server):
    """A few rows as enrich and alerting write them: 6 mentions (4 matched by <tenant>/outage, over
    the last three hours) inserted twice, a live and a deleted watch, an alert and its resolution."""
    now = int(time.time())
    hour = now - now % 3600
    mentions = []
    for i in range(6):
        at = hour - 3600 * (i % 3) + 60 * i
        watches = f"['{TENANT}/outage']" if i < 4 else "[]"
        sentiment = "negative" if i % 2 == 0 else "neutral"
        mentions.append(
            f"('{TENANT}', '{TENANT}:x:{i}', {at}, {at * 1000}, {at}, {at}, 'x', 'public', 'post', '{i}', "
            f"'a{i % 3}', 'author{i % 3}', 'Author {i % 3}', {100 * i}, 0, 'panne {i} #outage', '', '', "
            f"'', 'FR', 0, 0, 0, 0, 0, '', '', 'fr', 0.9, -0.5, '{sentiment}', 0.1, 0.5, 0.2, [], "
            f"['outage'], [], [], {watches}, 1.0, 7, 'check', 1, 'Lyon, France', '', 'FR', 'Lyon', 0.95, "
            f"'profile')"
        )
    for _ in range(2):
        run(server, "insert into mentions", "INSERT INTO mentions VALUES " + ", ".join(mentions))
    run(
        server,
        "insert into watches",
        "INSERT INTO watches VALUES "
        f"('{TENANT}', 'outage', '{TENANT}/outage', 'outage', 'panne OR outage', ['burst'], 0, {now}, 1, 'vigie'), "
        f"('{TENANT}', 'old', '{TENANT}/old', 'old', 'old', [], 1, {now}, 2, 'meltwater')",
    )
    # A row written without the column (as before migration 0004) reads the default syntax.
    run(
        server,
        "insert into watches without syntax",
        "INSERT INTO watches (tenant, id, watch, name, query, rules, deleted, updated_at, version) VALUES "
        f"('{TENANT}', 'legacy', '{TENANT}/legacy', 'legacy', 'legacy', [], 1, {now}, 3)",
    )
    statement = f"SELECT id, syntax FROM watches FINAL WHERE tenant = '{TENANT}' ORDER BY id"
    got = rows(run(server, "read watches' syntax", statement))
    want = [["legacy", "vigie"], ["old", "meltwater"], ["outage", "vigie"]]
    if got != want:
        raise Failed("read watches' syntax", statement, f"{got} instead of {want}")
    columns = (
        "tenant, id, watch_id, watch_name, rule, rule_type, severity, state, window_start, window_end, "
        "count, baseline, negative_count, sample_mention_ids, summary, raised_at, version, fired_at_ms, "
        "updated_at_ms, group_key, silenced_by, actor, score, neutral_count, positive_count, top_terms, path"
    )
    alerts = [
        f"('{TENANT}', '{TENANT}:outage:burst:1', 'outage', 'outage', 'burst', 'threshold', 'critical', "
        f"'{state}', {now - 600}, {now}, 3, 0, 3, ['{TENANT}:x:0'], '3 matching mentions in 10 min', {now}, "
        f"{version}, {now * 1000}, {(now + version) * 1000}, '', '', 'alerting', 0, 0, 0, ['panne:3'], [])"
        for version, state in [(1, "firing"), (2, "resolved")]
    ]
    run(server, "insert into alerts", f"INSERT INTO alerts ({columns}) VALUES " + ", ".join(alerts))


def check(server, database):
    """Migrations, sample rows, documented queries; returns what was applied and run."""
    try:
        server.use(database)
    except Exception as e:
        raise Failed("create database", database, e) from None
    run(
        server,
        "create schema_migrations",
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version",
    )
    applied = []
    for version, name, sql in migrations():
        for statement in split_statements(sql):
            run(server, f"migration {name}", statement)
        run(server, "record the migration", f"INSERT INTO schema_migrations VALUES ({version}, '{name}', now())")
        applied.append(name)
    insert_sample(server)
    queries = documented_queries()
    for title, query in queries:
        got = rows(run(server, f"documented query {title!r}", query))
        if not got:
            raise Failed(f"documented query {title!r}", query, "no row (the sample rows match every query)")
        # The end-to-end test asserts this shape on 18.16: one row, the watch's name and its count.
        if "with watch names" in title and got != [["outage", "4"]]:
            raise Failed(f"documented query {title!r}", query, f"{got} instead of [['outage', '4']]")
    return applied, queries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http", metavar="URL", help="a ClickHouse server's HTTP interface instead of chdb")
    args = parser.parse_args()
    try:
        server = Http(args.http) if args.http else Chdb()
    except Exception as e:  # no chdb, or no server there
        hint = f"no ClickHouse at {args.http}" if args.http else "no chdb: run deploy/local/install.sh"
        print(f"check_current: FAILED: {hint}: {e}", file=sys.stderr)
        return 1
    try:
        applied, queries = check(server, SCRATCH if args.http else "vigie_check")
    except Failed as e:
        print(f"check_current: FAILED on {server.name}: {e}", file=sys.stderr)
        return 1
    finally:
        server.close()
    print(f"check_current: {server.name}: applied {', '.join(applied)}; {len(queries)} documented queries answered")
    return 0


if __name__ == "__main__":
    sys.exit(main())

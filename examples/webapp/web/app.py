"""Berth's example web app: a visit counter in redis and notes in PostgreSQL.

GET  /          {"notes": N, "visits": V}   (each call counts a visit in redis)
POST /notes     body: the note's text        -> 201 {"id": ID}
GET  /notes     [{"id": ID, "text": "..."}]
GET  /health    200 when both postgres and redis answer

Standard library http.server plus Debian's python3-psycopg2 and python3-redis: no downloads.
"""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import redis

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://app:secret@db:5432/app")
REDIS_HOST = os.environ.get("REDIS_HOST", "cache")
PORT = int(os.environ.get("PORT", "8000"))

cache = redis.Redis(host=REDIS_HOST, port=6379, socket_timeout=5)


def db():
    return psycopg2.connect(DATABASE_URL, connect_timeout=5)


def migrate():
    with db() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (id SERIAL PRIMARY KEY, text TEXT NOT NULL)")


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        try:
            if self.path == "/health":
                cache.ping()
                with db() as conn, conn.cursor() as cur:
                    cur.execute("SELECT 1")
                return self.reply(200, {"status": "ok"})
            if self.path == "/notes":
                with db() as conn, conn.cursor() as cur:
                    cur.execute("SELECT id, text FROM notes ORDER BY id")
                    return self.reply(200, [{"id": i, "text": t} for i, t in cur.fetchall()])
            if self.path == "/":
                visits = cache.incr("visits")
                with db() as conn, conn.cursor() as cur:
                    cur.execute("SELECT count(*) FROM notes")
                    (n,) = cur.fetchone()
                return self.reply(200, {"notes": n, "visits": visits, "host": os.uname().nodename})
            return self.reply(404, {"error": "not found"})
        except Exception as e:  # the error, not a stack trace, to the client
            return self.reply(503, {"error": str(e)})

    def do_POST(self):
        if self.path != "/notes":
            return self.reply(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length", "0"))
        text = self.rfile.read(length).decode("utf-8", "replace")
        try:
            with db() as conn, conn.cursor() as cur:
                cur.execute("INSERT INTO notes (text) VALUES (%s) RETURNING id", (text,))
                (note_id,) = cur.fetchone()
            return self.reply(201, {"id": note_id})
        except Exception as e:
            return self.reply(503, {"error": str(e)})

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


if __name__ == "__main__":
    # As PID 1 the process gets no default SIGTERM action: without a handler `stop` waits its
    # whole timeout and then kills.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    migrate()
    print(f"listening on :{PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()

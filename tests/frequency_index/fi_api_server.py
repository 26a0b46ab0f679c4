"""A local HTTP endpoint answering the public infini-gram API's JSON shape from a local index.

POST / with {"index", "query_type": "count", "query": "A OR A2 AND B"} -> {"count", "approx", ...},
computed by the real infini-gram engine over an index that freq-unlearn built. ``fail_first``
answers the first N requests with HTTP 503, to exercise the client's retries.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from freq_unlearn.frequency_index.infinigram_local import LocalIndex


class LocalInfiniGramAPI:
    def __init__(self, index_dir, index_name: str = "v4_local_u8", fail_first: int = 0):
        self.index = LocalIndex(index_dir)
        self.index_name = index_name
        self.fail_first = fail_first
        self.requests = 0
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with api.lock:
                    api.requests += 1
                    failing = api.requests <= api.fail_first
                    if failing:
                        self._send(503, {"error": "busy"})
                        return
                    if body.get("index") != api.index_name:
                        self._send(200, {"error": f"Invalid index: {body.get('index')}"})
                        return
                    if body.get("query_type") != "count":
                        self._send(200, {"error": "only count is served here"})
                        return
                    clauses = [c.split(" OR ") for c in body["query"].split(" AND ")]
                    count, approx = api.index.count_cnf(clauses)
                self._send(200, {"count": count, "approx": approx, "latency": 0.0})

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

"""A loopback stand-in for the part of GitHub's REST API that `annotate --post github` uses,
answering with GitHub's documented response shapes (docs.github.com/en/rest/pulls/reviews,
/rest/pulls/pulls#list-pull-requests-files, /rest/using-the-rest-api/rate-limits-for-the-rest-api)
and recording every request, for tests/test_annotate.rs. GitHub itself cannot run here.

Usage: stub.py STATE_DIR
STATE_DIR holds:
  port     written once it listens
  files    the JSON the test gives for GET /repos/{o}/{r}/pulls/{n}/files
  script   a JSON list of scripted answers, taken in order by the requests they match:
           {"method": "POST", "path_end": "/reviews", "status": 422, "body": {...},
            "headers": {...}, "reset_in": SECONDS}  (reset_in sets X-RateLimit-Reset)
  log      one JSON line per request: {"method", "path", "authorization", "body"}
Reviews posted with 200/201 are kept and listed by GET .../reviews, as GitHub does.
"""

import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = sys.argv[1]
LOCK = threading.Lock()
REVIEWS = []

UNPROCESSABLE = {
    "message": "Unprocessable Entity",
    "errors": ["Pull request review thread line must be part of the diff"],
    "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
    "status": "422",
}


def take(method, path):
    with LOCK:
        try:
            with open(os.path.join(STATE, "script"), encoding="utf-8") as f:
                script = json.load(f)
        except (OSError, ValueError):
            return None
        for i, entry in enumerate(script):
            if entry.get("method", method) == method and path.split("?")[0].endswith(
                entry.get("path_end", "")
            ):
                del script[i]
                with open(os.path.join(STATE, "script"), "w", encoding="utf-8") as f:
                    json.dump(script, f)
                return entry
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with LOCK:
            with open(os.path.join(STATE, "log"), "a", encoding="utf-8") as f:
                f.write(
                    json.dumps(
                        {
                            "method": method,
                            "path": self.path,
                            "authorization": self.headers.get("Authorization"),
                            "body": body,
                        }
                    )
                    + "\n"
                )
        scripted = take(method, self.path)
        if scripted is not None:
            headers = dict(scripted.get("headers", {}))
            if "reset_in" in scripted:
                headers["X-RateLimit-Remaining"] = "0"
                headers["X-RateLimit-Reset"] = str(int(time.time()) + scripted["reset_in"])
            status = scripted["status"]
            if status not in (200, 201):
                default = UNPROCESSABLE if status == 422 else {"message": "error"}
                return self.answer(status, scripted.get("body", default), headers)
        path = self.path.split("?")[0]
        if method == "GET" and path.endswith("/files"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            page = int(query.get("page", ["1"])[0])
            with open(os.path.join(STATE, "files"), encoding="utf-8") as f:
                files = json.load(f)
            return self.answer(200, files[(page - 1) * 100 : page * 100])
        if method == "GET" and path.endswith("/reviews"):
            return self.answer(200, REVIEWS)
        if method == "POST" and path.endswith("/reviews"):
            review = {
                "id": 80 + len(REVIEWS),
                "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=",
                "user": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
                "body": body.get("body", ""),
                "state": "CHANGES_REQUESTED"
                if body.get("event") == "REQUEST_CHANGES"
                else "COMMENTED",
                "html_url": "https://github.com/octo/repo/pull/7#pullrequestreview-80",
                "pull_request_url": "https://api.github.com/repos/octo/repo/pulls/7",
                "commit_id": "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
            }
            REVIEWS.append(review)
            return self.answer(200, review)
        return self.answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(os.path.join(STATE, "port.tmp"), "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.replace(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()

import http.server
import os

from app import GREETING


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = GREETING.encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    http.server.HTTPServer(("", port), Handler).serve_forever()

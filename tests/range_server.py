"""HTTP servers on 127.0.0.1 for the download tests and the fault campaign (packs, models): GET with Range
support, a log of the requests, and the faults a download must survive or refuse."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable


class RangeServer:
    """Serves `route(path)` (the bytes at a path, or None for 404). Faults, by file name (the path's last
    part): `drop`, the first transfer of the file closes the connection halfway; `corrupt`, a byte of
    what is sent is flipped. `ignore_range` answers every request with the whole file, as some servers do."""

    def __init__(self, route: Callable[[str], bytes | None]):
        self.route = route
        self.drop: set[str] = set()
        self.corrupt: set[str] = set()
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                asked = self.headers.get("Range")
                first = all(path != self.path for path, _ in server.requests)
                server.requests.append((self.path, asked))
                body = server.route(self.path)
                if body is None:
                    self.send_error(404)
                    return
                name = self.path.rsplit("/", 1)[-1]
                data = bytearray(body)
                if name in server.corrupt:
                    data[len(data) // 2] ^= 0xFF
                asked = None if server.ignore_range else asked
                start = int(asked.split("=")[1].rstrip("-")) if asked else 0
                self.send_response(206 if asked else 200)
                if asked:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                sent = bytes(data[start:])
                if name in server.drop and first:
                    self.wfile.write(sent[: len(sent) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(sent)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def transfers(self, name: str) -> list[str | None]:
        """The Range header of each request for a file name (None: the whole file was asked for)."""
        return [asked for path, asked in self.requests if path.rsplit("/", 1)[-1] == name]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def trickling_server(delay_s: float, count: int) -> http.server.ThreadingHTTPServer:
    """A server that promises 1 MiB and sends `count` bytes, one every `delay_s` seconds: no single read
    ever waits long enough to time out, so only a deadline or a minimum rate stops the download."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 20))
            self.end_headers()
            try:
                for _ in range(count):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(delay_s)
            except OSError:
                pass
            self.close_connection = True

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server

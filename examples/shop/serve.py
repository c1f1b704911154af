"""Serves app.py on a unix socket with Python's standard library alone, for
servers without gunicorn: `python3 serve.py {socket}` in the Deployfile's
command. Each request gets a thread; SIGTERM (a slot's stop) ends it."""
import os
import socket
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from app import app


class Handler(WSGIRequestHandler):
    def setup(self):
        super().setup()
        self.client_address = ("local", 0)  # a unix socket's peer has no address

    def log_message(self, format, *args):
        sys.stderr.write("%s\n" % (format % args))


class Server(socketserver.ThreadingMixIn, WSGIServer):
    address_family = socket.AF_UNIX
    daemon_threads = True

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", 80
        self.setup_environ()


if __name__ == "__main__":
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    server = Server(path, Handler)
    server.set_app(app)
    server.serve_forever()

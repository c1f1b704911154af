"""The example app swiftfab deploys: a tiny WSGI app.

/healthz answers 200 when the release is healthy (a release holding a file
named BROKEN is not: that is how the tests ship a bad release), /version
answers the release's version, /greeting the GREETING variable (set from the
shared env file), / greets.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name, default=""):
    try:
        with open(os.path.join(HERE, name)) as f:
            return f.read().strip()
    except OSError:
        return default


VERSION = read("VERSION", "unknown")
BROKEN = os.path.exists(os.path.join(HERE, "BROKEN"))


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/healthz":
        status = "500 Internal Server Error" if BROKEN else "200 OK"
        body = b"broken\n" if BROKEN else b"ok\n"
    elif path == "/version":
        status, body = "200 OK", (VERSION + "\n").encode()
    elif path == "/greeting":
        status, body = "200 OK", (os.environ.get("GREETING", "hello") + "\n").encode()
    else:
        status, body = "200 OK", ("hello from shop " + VERSION + "\n").encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

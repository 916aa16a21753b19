"""A small Flask app for the proxy tests: the reference app's routes, without any login of its own.

appidgate proxy stands in front of it and does the login; the app only reads who the proxy says the user is.
It listens on 127.0.0.1:$PORT and exits 0 on SIGTERM.
"""
import hashlib
import json
import os
import signal
import sys
import time

from flask import Flask, Response, request

app = Flask(__name__)


@app.route("/")
def index():
    return "index"


@app.route("/auth_route")
def auth_route():
    return "This route requires authentication and authorization - Powered by IBM Cloud App ID!"


@app.route("/noauth_route")
def noauth_route():
    return "This route is open to all!"


@app.route("/whoami", methods=["GET", "POST"])
@app.route("/public/whoami")
@app.route("/api/whoami")
def whoami():
    # Every header as the app sees it, and WSGI's environ keys, where X_Forwarded_User and X-Forwarded-User meet.
    headers = {k: v for k, v in request.headers.items()}
    environ = {k: v for k, v in request.environ.items() if k.startswith("HTTP_")}
    return Response(json.dumps({"headers": headers, "environ": environ, "cookies": request.cookies,
                                "path": request.path}), mimetype="application/json")


@app.route("/upload", methods=["POST"])
def upload():
    digest, size = hashlib.sha256(), 0
    while True:
        chunk = request.stream.read(1 << 16)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


@app.route("/events")
def events():
    def stream():
        for i in range(3):
            yield f"data: event {i}\n\n"
            time.sleep(0.2)
    return Response(stream(), mimetype="text/event-stream")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), threaded=True)


if __name__ == "__main__":
    main()

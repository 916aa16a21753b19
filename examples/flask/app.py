"""The routes of IBM's python-appid-auth sample (github.com/IBM/python-appid-auth), with no login code: appidgate
proxy does the login in front of it.

Run it behind the proxy (from the repository's root):

    go run ./cmd/appidgate proxy --upstream http://127.0.0.1:8000 --public /noauth_route -- python3 examples/flask/app.py

The proxy starts it with PORT=8000 and passes on only the requests its rules admit, with the user's
identity in X-Appidgate-* headers (percent-encoded UTF-8).
"""
import os
from urllib.parse import unquote

from flask import Flask, request

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


@app.route("/whoami")
def whoami():
    # The proxy removes any X-Appidgate-* header the client sent and sets its own.
    return {
        "user": unquote(request.headers.get("X-Appidgate-User", "")),
        "email": unquote(request.headers.get("X-Appidgate-Email", "")),
        "name": unquote(request.headers.get("X-Appidgate-Name", "")),
        "roles": [unquote(r) for r in request.headers.get("X-Appidgate-Roles", "").split(",") if r],
    }


if __name__ == "__main__":
    # Listen on loopback only: every request must come through the proxy.
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))

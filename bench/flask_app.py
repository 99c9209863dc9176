# The challenge's app as its README describes it: Flask, a token read from
# ICLINIC_PASS, Flask-HTTPAuth's HTTPTokenAuth("Token") comparing with ==,
# served by Flask's development server. npm run bench measures it as the
# baseline the service replaces. Reads PORT (default 5000).
import os

from flask import Flask, jsonify
from flask_httpauth import HTTPTokenAuth

app = Flask(__name__)
auth = HTTPTokenAuth("Token")


@auth.verify_token
def verify_token(token):
    return token == os.environ["ICLINIC_PASS"]


@app.route("/")
@auth.login_required
def index():
    return jsonify(message="Hello from iclinic-deploy")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))

"""Liveness with the database: 200 when it answers, 503 when it does not."""

from flask import Blueprint, jsonify

from app.db import database_reachable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if database_reachable():
        return jsonify(status="ok", database="ok")
    return jsonify(status="unavailable", database="unreachable"), 503

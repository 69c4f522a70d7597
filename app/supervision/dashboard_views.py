"""The supervisor's dashboard and the director's city view."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

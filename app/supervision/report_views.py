"""Periodic reports (monthly, quarterly, yearly) and personal-data exports."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

"""Clover (三叶草): field follow-up for a psychological-support studio."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import assets, cli, crypto, db, errors, i18n, policy, reminders, security
from app.config import load_config
from app.extensions import csrf, limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(load_config(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    if hops := app.config["CLOVER_PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    crypto.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    policy.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    reminders.init_app(app)

    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.audit_views import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.checkin import bp as checkin_bp
    from app.groups import bp as groups_bp
    from app.health import bp as health_bp
    from app.offline import bp as offline_bp
    from app.offline.device_keys import bp as device_keys_bp
    from app.people import bp as people_bp
    from app.release import bp as release_bp
    from app.scales import bp as scales_bp
    from app.settings import bp as settings_bp
    from app.supervision.dashboard_views import bp as dashboard_bp
    from app.supervision.report_views import bp as reports_bp
    from app.sync.views import bp as sync_bp
    from app.today import bp as today_bp
    from app.visits import bp as visits_bp

    app.register_blueprint(today_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(people_bp, url_prefix="/people")
    app.register_blueprint(visits_bp)
    app.register_blueprint(scales_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(release_bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(settings_bp, url_prefix="/settings")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(health_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(device_keys_bp, url_prefix="/api/v1")
    app.register_blueprint(sync_bp, url_prefix="/sync")
    app.register_blueprint(reminders.bp)
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(dashboard_bp, url_prefix="/supervision")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    return app

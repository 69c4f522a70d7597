"""Extensions, created here and bound to the app in create_app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# no default limits: only the views that check a secret are limited (app/auth/throttle.py);
# storage from RATELIMIT_STORAGE_URI
limiter = Limiter(get_remote_address, key_prefix="clover")

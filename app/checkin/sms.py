"""Her check-in link by text message, through the reminders' SMS channel.

The text carries the link and nothing else of her: no name, no officer, no diagnosis.
"""

from flask_babel import force_locale
from flask_babel import gettext as _

from app.reminders.channels import Attempt, Message, Target, http_session, mask_phone, sms_channel

# the message kind: a template code for it in CLOVER_SMS_TEMPLATES, with one parameter `link`
SMS_KIND = "check_in_link"


def sms_ready(config) -> bool:
    """Is an SMS provider configured on this server?"""
    return bool(config.get("CLOVER_SMS_URL"))


def send_link(config, *, person_id, phone: str, url: str, path: str) -> Attempt:
    """One attempt to text her the link (`url`, absolute; `path`, the same within the app)."""
    with force_locale("zh_Hans"):  # the women read Chinese, whatever the officer's language
        text = _("Your check-in link (do not forward it):")
    # a relay adds CLOVER_BASE_URL and the path itself; without a base URL, the link goes whole
    relay_adds_link = bool(config.get("CLOVER_BASE_URL"))
    message = Message(
        kind=SMS_KIND,
        title="",
        body=text if relay_adds_link else f"{text} {url}",
        url=path if relay_adds_link else "",
        tag=SMS_KIND,
        ttl=0,
        params={"link": url},
    )
    target = Target(person_id, phone, mask_phone(phone))
    with http_session(1) as http:
        return sms_channel(config, http).attempt(target, message)

"""Events other features react to, so the write path stays one function.

`visit_recorded` is sent by the visit write path after a visit is committed, with the
visit as sender and keyword arguments `session` and `user`; reminders use it to alert a
supervisor at once when a visit records a self-harm risk.
"""

from blinker import Namespace

_signals = Namespace()

visit_recorded = _signals.signal("visit-recorded")

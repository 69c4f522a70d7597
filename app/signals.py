"""Events other features react to, so the write path stays one function.

`visit_recorded` is sent by the visit write path (`app.visits.service`) after a visit is
committed, with the visit as sender and keyword arguments `session` and `user`: once when
it is recorded (`visit.version == 1`) and again after each correction (version > 1); a
duplicate, conflict or refusal sends nothing. Reminders use it to alert a supervisor at
once when a visit records a self-harm risk.

`scale_recorded` is sent by the scale write path (`app.scales.service`) after a new scale
result is committed, with the result as sender and the same keyword arguments: its
answers may raise a self-harm flag (PHQ-9 item 9), which alerts as a visit's does.
"""

from blinker import Namespace

_signals = Namespace()

visit_recorded = _signals.signal("visit-recorded")
scale_recorded = _signals.signal("scale-recorded")

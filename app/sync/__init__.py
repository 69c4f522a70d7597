"""Offline sync: pushing outbox items and pulling changes (app.sync.api, under /api/v1/),
and the pages where an officer resolves the conflicts her phone's changes met
(app.sync.views, under /sync/)."""

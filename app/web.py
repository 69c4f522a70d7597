"""What the JSON views share: reading a request's body."""

from flask import request


def json_body():
    """The request's JSON body, or None when it is not JSON the server can read.

    Nesting deep enough to exhaust the parser's recursion counts as unreadable, not as a
    server error.
    """
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None

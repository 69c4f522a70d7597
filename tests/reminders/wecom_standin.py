"""A stand-in on 127.0.0.1 for WeCom's server API, as its documentation describes it.

GET /cgi-bin/gettoken?corpid=&corpsecret= issues an access token with an expiry;
POST /cgi-bin/message/send?access_token= takes a `textcard` for the app's agent id and
a known member, and answers 42001 for an expired token. WeCom answers HTTP 200 with an
`errcode` whatever happens; the stand-in can be told which to answer next.
"""

import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CORP_ID = "ww0123456789abcdef"
AGENT_ID = 1000002
TEXTCARD_FIELDS = {"title", "description", "url", "btntxt"}


@dataclass
class Sent:
    token: str
    body: dict

    @property
    def card(self) -> dict:
        return self.body["textcard"]


class WeComStandIn:
    def __init__(self, *, members: set[str], expires_in: int = 7200):
        # an app of its own each time: a token Clover keeps for one is no good for the next
        self.secret = secrets.token_urlsafe(32)
        self.members = members
        self.expires_in = expires_in
        self.tokens: dict[str, bool] = {}  # token -> still good
        self.token_fetches = 0
        self.sent: list[Sent] = []
        self.refused: list[tuple[str, int]] = []  # (path, errcode) answered other than 0
        self.errors: list[str] = []  # what no real client should send
        self.next_errcodes: list[int] = []  # answered to the next sends, in turn
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self._answer(stand_in.get_token)

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer(lambda query: stand_in.send(query, body))

            def _answer(self, handle):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                expected = "/cgi-bin/gettoken" if self.command == "GET" else "/cgi-bin/message/send"
                if url.path != expected:
                    answer = {"errcode": 404, "errmsg": "no such API"}
                else:
                    answer = handle(query)
                if answer["errcode"] != 0:
                    with stand_in._lock:
                        stand_in.refused.append((url.path, answer["errcode"]))
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def get_token(self, query: dict) -> dict:
        if query.get("corpid") != CORP_ID:
            return {"errcode": 40013, "errmsg": "invalid corpid"}
        if query.get("corpsecret") != self.secret:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        token = secrets.token_urlsafe(48)
        with self._lock:
            self.token_fetches += 1
            self.tokens[token] = True
        return {
            "errcode": 0,
            "errmsg": "ok",
            "access_token": token,
            "expires_in": self.expires_in,
        }

    def expire_tokens(self) -> None:
        """Every token issued so far has expired, as after two hours."""
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, False)

    def send(self, query: dict, raw: bytes) -> dict:
        token = query.get("access_token", "")
        with self._lock:
            good = self.tokens.get(token)
        if good is None:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if not good:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        try:
            body = json.loads(raw)
            self.check(body)
        except (ValueError, AssertionError, KeyError, TypeError) as error:
            with self._lock:
                self.errors.append(repr(error))
            return {"errcode": 40008, "errmsg": "invalid message"}
        if body["agentid"] != AGENT_ID:
            return {"errcode": 301002, "errmsg": "not allow operate another agent with this secret"}
        with self._lock:
            errcode = self.next_errcodes.pop(0) if self.next_errcodes else None
        if errcode is not None:
            return {"errcode": errcode, "errmsg": "as told"}
        if body["touser"] not in self.members:
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        with self._lock:
            self.sent.append(Sent(token, body))
        return {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": secrets.token_hex(8)}

    @staticmethod
    def check(body: dict) -> None:
        """What the documentation asks of a textcard application message."""
        assert body["msgtype"] == "textcard", body["msgtype"]
        assert isinstance(body["agentid"], int), body["agentid"]
        assert body["touser"] and "|" not in body["touser"], body["touser"]
        card = body["textcard"]
        assert set(card) == TEXTCARD_FIELDS, card
        assert 0 < len(card["title"].encode()) <= 128, card["title"]
        assert 0 < len(card["description"].encode()) <= 512, card["description"]
        assert card["url"].startswith(("https://", "http://")), card["url"]
        assert 0 < len(card["btntxt"]) <= 4, card["btntxt"]
        if body.get("enable_duplicate_check"):
            assert 0 < body["duplicate_check_interval"] <= 4 * 3600

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

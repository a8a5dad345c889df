"""mupdateclient.py: a small blocking MUPDATE client (RFC 3656 as Cyrus
speaks it, shared/docs/MUPDATE.md) for the e2e tests.

    c = MupdateClient(port)              # reads the banner
    c.authenticate("cyrus", "cyrus-pw")  # PLAIN; returns (status, text)
    st, text, data = c.cmd("FIND", "user.alice")
    # data: [("MAILBOX", name, location, acl) | ("RESERVE", name, location)]
"""
import base64
import re

import harness

_TOKEN = re.compile(rb'\s*(?:"((?:[^"\\]|\\.)*)"|\{(\d+)\+?\}$|([^\s"{]+))')


class MupdateClient(harness.SocketClient):
    def __init__(self, addr, timeout=15):
        super().__init__(addr, timeout)
        self.ntag = 0
        self.caps = []
        self.banner = None
        while True:
            words = self.read_words()
            if words is None:
                raise EOFError("connection closed during banner")
            if words[:3] == [b"*", b"OK", b"MUPDATE"]:
                self.banner = [w.decode() for w in words[3:]]
                break
            self.caps.append([w.decode() for w in words[1:]])

    def readline(self):
        line = self.file.readline()
        if not line:
            return None
        return line.rstrip(b"\r\n")

    def read_words(self):
        """One response unit as a list of byte strings (literals
        resolved); None at EOF."""
        line = self.readline()
        if line is None:
            return None
        words = []
        while True:
            pos = 0
            lit = None
            while pos < len(line):
                m = _TOKEN.match(line, pos)
                if not m or m.end() == pos:
                    if line[pos:].strip() == b"":
                        break
                    raise ValueError("bad line %r" % line)
                pos = m.end()
                if m.group(1) is not None:
                    words.append(re.sub(rb"\\(.)", rb"\1", m.group(1)))
                elif m.group(2) is not None:
                    lit = int(m.group(2))
                else:
                    words.append(m.group(3))
            if lit is None:
                return words
            words.append(self.file.read(lit))
            line = self.readline() or b""

    @staticmethod
    def quote(s):
        if isinstance(s, str):
            s = s.encode()
        return b"{%d+}\r\n" % len(s) + s

    def send_cmd(self, word, *args):
        self.ntag += 1
        tag = "T%d" % self.ntag
        out = tag.encode() + b" " + word.encode()
        for a in args:
            out += b" " + self.quote(a)
        self.sock.sendall(out + b"\r\n")
        return tag

    def read_response(self, tag, data=None):
        """Read until tag's OK/NO/BAD; data lines are appended to data.
        Returns (status, text)."""
        if data is None:
            data = []
        while True:
            words = self.read_words()
            if words is None:
                raise EOFError("connection closed waiting for %s" % tag)
            w = [x.decode("utf-8", "replace") for x in words]
            if len(w) >= 2 and w[1] in ("MAILBOX", "RESERVE", "DELETE"):
                data.append(tuple(w[1:]))
                continue
            if w[0] == "*" and len(w) >= 2 and w[1] == "BYE":
                raise EOFError("BYE %s" % " ".join(w[2:]))
            if w[0] == tag and len(w) >= 2 and w[1] in ("OK", "NO", "BAD"):
                return w[1], " ".join(w[2:])

    def cmd(self, word, *args):
        data = []
        tag = self.send_cmd(word, *args)
        st, text = self.read_response(tag, data)
        return st, text, data

    def authenticate(self, user, password, authz=""):
        blob = base64.b64encode(("%s\0%s\0%s" % (authz, user, password))
                                .encode())
        st, text, _ = self.cmd("AUTHENTICATE", "PLAIN", blob)
        return st, text

    def find(self, name):
        st, text, data = self.cmd("FIND", name)
        if st != "OK":
            raise AssertionError("FIND %s: %s %s" % (name, st, text))
        return data[0] if data else None

    def list(self, prefix=None):
        st, text, data = self.cmd("LIST", *([prefix] if prefix else []))
        if st != "OK":
            raise AssertionError("LIST: %s %s" % (st, text))
        return data

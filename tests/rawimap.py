"""rawimap.py: a byte-level IMAP client for robustness tests, and a way
to find the imapd process serving a connection (for RSS and kill -9)."""
import os
import re
import socket

import harness


class Raw:
    """Tagged commands over a plain socket; reads whole responses."""

    def __init__(self, port, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.greeting = self.line()
        self.n = 0

    def line(self):
        """Next line with its CRLF stripped (bytes); b"" at EOF."""
        return self.file.readline().rstrip(b"\r\n")

    def send(self, data):
        self.sock.sendall(data)

    def tag(self):
        self.n += 1
        return b"t%d" % self.n

    def read_until_tagged(self, tag):
        """(untagged lines, tagged line); tagged is b"" at EOF."""
        lines = []
        while True:
            ln = self.line()
            if ln == b"" or ln.startswith(tag + b" "):
                return lines, ln
            lines.append(ln)
            m = re.search(rb"\{(\d+)\}$", ln)
            if m:
                lines.append(self.file.read(int(m.group(1))))

    def cmd(self, text):
        """Send "tag text" and return the tagged response line."""
        t = self.tag()
        if isinstance(text, str):
            text = text.encode()
        self.send(t + b" " + text + b"\r\n")
        return self.read_until_tagged(t)[1]

    def login(self, user, pw):
        return self.cmd('LOGIN %s "%s"' % (user, pw))

    def close(self):
        try:
            self.file.close()
        finally:
            self.sock.close()


def _socket_inode(local_port, remote_port):
    """Inode of the server-side TCP socket 127.0.0.1:local <- remote."""
    want_l = "0100007F:%04X" % local_port
    want_r = "0100007F:%04X" % remote_port
    with open("/proc/net/tcp") as f:
        for ln in f.readlines()[1:]:
            parts = ln.split()
            if parts[1] == want_l and parts[2] == want_r:
                return parts[9]
    return None


def server_pid(master, sock):
    """The pid of master's child holding the server end of sock."""
    server_port = sock.getpeername()[1]
    client_port = sock.getsockname()[1]
    inode = harness.wait_for(lambda: _socket_inode(server_port, client_port),
                             what="server socket")
    target = "socket:[%s]" % inode
    for pid in master.descendants():
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == target:
                    return pid
        except OSError:
            continue
    raise AssertionError("no process serves port %d" % client_port)


def proc_status(pid, field):
    """A /proc/pid/status field in kB (VmHWM, RssAnon, ...)."""
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(field + ":"):
                return int(ln.split()[1])
    return None

#!/usr/bin/env python3
"""A holdfast server client in plain Python (stdlib only), speaking RESP over a raw socket:
what any language without a holdfast library needs. Usage: client.py PORT [TOKEN]"""
import json
import socket
import sys


class Holdfast:
    def __init__(self, host, port, token=None):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.file = self.sock.makefile('rb')
        if token:
            self.call('AUTH', token)

    def call(self, *args):
        parts = [b'*%d\r\n' % len(args)]
        for arg in args:
            data = str(arg).encode()
            parts.append(b'$%d\r\n%s\r\n' % (len(data), data))
        self.sock.sendall(b''.join(parts))
        return self.read()

    def read(self):
        line = self.file.readline().rstrip(b'\r\n')
        kind, rest = line[:1], line[1:].decode()
        if kind == b'+':
            return rest
        if kind == b'-':
            raise RuntimeError(rest)
        if kind == b':':
            return int(rest)
        if kind == b'$':
            return None if rest == '-1' else self.file.read(int(rest) + 2)[:-2].decode()
        if kind == b'*':
            return None if rest == '-1' else [self.read() for _ in range(int(rest))]
        raise RuntimeError('unexpected reply %r' % line)


hf = Holdfast('127.0.0.1', int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
token, fence = hf.call('HOLDFAST.LOCK', 'py:job', 5000, 'WAIT', 1000)
busy = hf.call('HOLDFAST.LOCK', 'py:job', 5000)
released = hf.call('HOLDFAST.UNLOCK', 'py:job', token)
takes = [hf.call('HOLDFAST.TAKE', 'py:api', 2, 60000)[0] for _ in range(3)]
print(json.dumps({'token': token, 'fence': fence, 'busy': busy, 'released': released, 'takes': takes}))

#!/usr/bin/env python3
"""The holdfast HTTP API from plain Python (stdlib only: urllib.request and json), as the README
shows it. Usage: http-client.py BASE_URL [TOKEN], BASE_URL like http://127.0.0.1:7701/v1.
Acquires py:job waiting up to 10 s (the test releases it meanwhile), releases it, and takes
from two rate limiters; prints what it saw as one JSON line."""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1]
TOKEN = sys.argv[2] if len(sys.argv) > 2 else None


def call(method, path, body=None):
    """(status, JSON answer); error statuses (409, 429, ...) carry a JSON body too."""
    headers = {'Content-Type': 'application/json'}
    if TOKEN:
        headers['Authorization'] = 'Bearer ' + TOKEN
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # longer than any wait
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def lock(name, action=''):
    return '/locks/' + urllib.parse.quote(name, safe='') + ('/' + action if action else '')


status, grant = call('POST', lock('py:job', 'acquire'), {'ttl': 30000, 'wait': 10000, 'owner': {'lang': 'python'}})
busy, refusal = call('POST', lock('py:job', 'acquire'), {'ttl': 30000})
_, released = call('POST', lock('py:job', 'release'), {'token': grant['token']})
takes = [call('POST', '/rate/py:api/take', {'limit': 2, 'window': 60000}) for _ in range(3)]
first, _ = call('POST', '/rate/py:slot/take', {'limit': 1, 'window': 300})
waited, slot = call('POST', '/rate/py:slot/take', {'limit': 1, 'window': 300, 'wait': 5000})
print(json.dumps({
    'status': status,
    'fence': grant['fence'],
    'busy': [busy, refusal['error']['code']],
    'released': released['released'],
    'takes': [[code, answer['allowed']] for code, answer in takes],
    'slot': [first, waited, slot['allowed']],
}))

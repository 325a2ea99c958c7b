#!/usr/bin/python3
"""A test proxy in front of s3rver, which accepts any signature.

For every request it recomputes the SigV4 signature with botocore (Debian's python3-botocore, an
implementation independent of ours) from the request as it arrived, and answers 403
SignatureDoesNotMatch when ours differs; it also checks that x-amz-content-sha256 is the body's real
hash and that every x-amz-* header is signed. Each checked request is logged as one JSON line
(operation, match) so tests can assert which operations were verified.

Faults for the retry tests are set through POST /__pbtest__/control with a JSON body:
  {"fail": N, "status": 500, "ops": ["UploadPart"]}  answer `status` to the next N matching requests
  {"reset": N, "ops": [...]}                          reset the connection on the next N instead
  {"delay_ms": M, "ops": [...]}                       delay every matching request by M ms
  {"fail_forever": true, "ops": [...]}                fail every matching request with `status`
Run with /usr/bin/python3 (botocore comes from Debian, not from a pyenv python).
"""
import argparse
import hashlib
import http.client
import http.server
import json
import re
import socket
import struct
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(r'^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, '
                     r'SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$')
HOP_BY_HOP = {'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade'}


def operation(method, path, query):
    q = parse_qs(query, keep_blank_values=True)
    is_bucket = path.strip('/').count('/') == 0
    if method == 'PUT':
        return 'UploadPart' if 'partNumber' in q else ('CreateBucket' if is_bucket else 'PutObject')
    if method == 'POST':
        if 'uploads' in q:
            return 'CreateMultipartUpload'
        return 'CompleteMultipartUpload' if 'uploadId' in q else 'Post'
    if method == 'DELETE':
        return 'AbortMultipartUpload' if 'uploadId' in q else 'DeleteObject'
    if method == 'HEAD':
        return 'HeadBucket' if is_bucket else 'HeadObject'
    if method == 'GET':
        if is_bucket:
            return 'ListObjectsV2' if q.get('list-type') == ['2'] else 'ListBucket'
        return 'GetObject'
    return method


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = {}
        self.inflight = 0  # requests being handled (the control endpoints excluded)
        self.idle = threading.Condition(self.lock)

    def fault_for(self, op):
        with self.lock:
            f = self.faults
            if f.get('ops') and op not in f['ops']:
                return None, 0
            delay = f.get('delay_ms', 0)
            if f.get('fail_forever'):
                return ('status', f.get('status', 500)), delay
            if f.get('fail', 0) > 0:
                f['fail'] -= 1
                return ('status', f.get('status', 500)), delay
            if f.get('reset', 0) > 0:
                f['reset'] -= 1
                return ('reset', 0), delay
            return None, delay


def make_handler(args, state, log_file, log_lock):
    creds = Credentials(args.access_key, args.secret_key, args.session_token or None)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *a):
            pass

        def reply(self, status, body=b'', headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(body)

        def error_xml(self, status, code, message):
            body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                    f'<Message>{message}</Message></Error>').encode()
            self.reply(status, body, [('Content-Type', 'application/xml')])

        def check_signature(self, body):
            auth = self.headers.get('Authorization', '')
            m = AUTH_RE.match(auth)
            if not m:
                return False, 'malformed or missing Authorization: ' + auth[:40]
            key_id, date, region, signed, sig = m.groups()
            if key_id != args.access_key:
                return False, 'wrong access key id'
            amz_date = self.headers.get('X-Amz-Date', '')
            if not amz_date.startswith(date) or region != args.region:
                return False, 'credential scope does not match x-amz-date or region'
            names = signed.split(';')
            if names != sorted(names):
                return False, 'SignedHeaders not sorted'
            sent = {k.lower() for k in self.headers.keys()}
            for must in ['host', 'x-amz-date', 'x-amz-content-sha256']:
                if must not in names:
                    return False, f'{must} is not signed'
            for h in sent:
                if h.startswith('x-amz-') and h not in names:
                    return False, f'{h} is sent but not signed'
            if args.session_token and self.headers.get('X-Amz-Security-Token') != args.session_token:
                return False, 'x-amz-security-token missing or wrong'
            content_sha = self.headers.get('X-Amz-Content-SHA256', '')
            if content_sha != 'UNSIGNED-PAYLOAD' and content_sha != hashlib.sha256(body).hexdigest():
                return False, 'x-amz-content-sha256 is not the sha256 of the body'
            hdrs = {k: v for k, v in self.headers.items() if k.lower() in names}
            req = AWSRequest(method=self.command, url='http://' + self.headers['Host'] + self.path, headers=hdrs)
            req.context['timestamp'] = amz_date
            signer = S3SigV4Auth(creds, 's3', args.region)
            cr = signer.canonical_request(req)
            expect = signer.signature(signer.string_to_sign(req, cr), req)
            if expect != sig:
                return False, 'botocore computes a different signature; its canonical request:\n' + cr
            return True, ''

        def handle_any(self):
            parts = urlsplit(self.path)
            if parts.path == '/__pbtest__/idle':
                # Answers once no request is being handled (e.g. a killed client's last one), so a test
                # reads a complete log without sleeping.
                with state.idle:
                    done = state.idle.wait_for(lambda: state.inflight == 0, timeout=30)
                return self.reply(200 if done else 504, b'idle' if done else b'busy')
            with state.lock:
                state.inflight += 1
            try:
                self.handle_request(parts)
            finally:
                with state.idle:
                    state.inflight -= 1
                    state.idle.notify_all()

        def handle_request(self, parts):
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length) if length else b''
            if parts.path == '/__pbtest__/control':
                with state.lock:
                    state.faults = json.loads(body or b'{}')
                return self.reply(200, b'ok')
            op = operation(self.command, parts.path, parts.query)
            ok, why = self.check_signature(body)
            entry = {'op': op, 'method': self.command, 'path': parts.path, 'query': parts.query, 'match': ok,
                     'continuation': 'continuation-token' in parse_qs(parts.query),
                     'token': 'X-Amz-Security-Token' in self.headers, 'range': self.headers.get('Range', ''),
                     'time': time.time()}
            if not ok:
                entry['why'] = why
            with log_lock:
                log_file.write(json.dumps(entry) + '\n')
                log_file.flush()
            if not ok:
                return self.error_xml(403, 'SignatureDoesNotMatch', why.split('\n')[0])
            fault, delay = state.fault_for(op)
            if delay:
                time.sleep(delay / 1000)
            if fault and fault[0] == 'reset':
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if fault:
                return self.error_xml(fault[1], 'InternalError', 'injected by the test proxy')
            self.forward(body)

        def forward(self, body):
            up = urlsplit(args.upstream)
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(self.command, self.path, body=body if body or self.command in ('PUT', 'POST') else None,
                         headers=headers)
            r = conn.getresponse()
            data = r.read()
            out = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP_BY_HOP]
            conn.close()
            self.send_response(r.status)
            for k, v in out:
                self.send_header(k, v)
            length = r.getheader('Content-Length') if self.command == 'HEAD' else None
            self.send_header('Content-Length', length if length is not None else str(len(data)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--upstream', required=True)
    p.add_argument('--port-file', required=True)
    p.add_argument('--log', required=True)
    p.add_argument('--access-key', default='S3RVER')
    p.add_argument('--secret-key', default='S3RVER')
    p.add_argument('--session-token', default='')
    p.add_argument('--region', default='us-east-1')
    args = p.parse_args()
    state = State()
    log_file = open(args.log, 'a')
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), make_handler(args, state, log_file, threading.Lock()))
    server.daemon_threads = True
    with open(args.port_file + '.tmp', 'w') as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + '.tmp', args.port_file)
    server.serve_forever()


if __name__ == '__main__':
    sys.exit(main())

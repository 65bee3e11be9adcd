#!/usr/bin/env python3
"""A minimal SMTP sink for tests (stdlib only): listens on 127.0.0.1, accepts mail and writes each
message to OUT/mail-N.json (envelope, text, whether TLS and AUTH were used). It can offer STARTTLS
(--tls-cert/--tls-key), require AUTH PLAIN/LOGIN (--auth USER:PASS, --mechanisms), refuse MAIL
(--reject-mail), never greet (--silent, for timeouts) or refuse EHLO (--no-ehlo). Prints
"PORT <n>" once listening."""
import argparse, base64, json, os, signal, socket, ssl, sys, threading

# A parent that blocks signals (a test runner) passes its mask on; the sink must die on SIGTERM.
signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, signal.SIG_DFL)

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--out", required=True)
parser.add_argument("--tls-cert")
parser.add_argument("--tls-key")
parser.add_argument("--auth")
parser.add_argument("--mechanisms", default="PLAIN LOGIN")
parser.add_argument("--reject-mail", action="store_true")
parser.add_argument("--silent", action="store_true")
parser.add_argument("--no-ehlo", action="store_true")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
counter = [0]
lock = threading.Lock()


def b64(text):
    return base64.b64decode(text.strip()).decode("utf-8", "replace")


class Session:
    def __init__(self, conn):
        self.conn, self.file, self.tls, self.authed = conn, conn.makefile("rb"), False, None

    def send(self, line):
        self.conn.sendall((line + "\r\n").encode())

    def readline(self):
        line = self.file.readline()
        if not line:
            raise EOFError
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def ehlo_lines(self):
        lines = ["sink.test"]
        if args.tls_cert and not self.tls:
            lines.append("STARTTLS")
        if args.auth:
            lines.append("AUTH " + args.mechanisms)
        return lines

    def run(self):
        if args.silent:
            self.readline()
            return
        self.send("220 sink.test ESMTP test sink")
        mail_from, rcpt = None, []
        while True:
            line = self.readline()
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                if args.no_ehlo:
                    self.send("502 EHLO not implemented")
                    continue
                lines = self.ehlo_lines()
                for item in lines[:-1]:
                    self.send("250-" + item)
                self.send("250 " + lines[-1])
            elif verb == "HELO":
                self.send("250 sink.test")
            elif verb == "STARTTLS" and args.tls_cert:
                self.send("220 go ahead")
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(args.tls_cert, args.tls_key)
                self.conn = context.wrap_socket(self.conn, server_side=True)
                self.file, self.tls = self.conn.makefile("rb"), True
            elif verb == "AUTH" and args.auth:
                parts = line.split(" ")
                mechanism = parts[1].upper() if len(parts) > 1 else ""
                if mechanism == "PLAIN" and "PLAIN" in args.mechanisms:
                    token = parts[2] if len(parts) > 2 else (self.send("334 ") or self.readline())
                    _, user, password = b64(token).split("\0")
                elif mechanism == "LOGIN" and "LOGIN" in args.mechanisms:
                    self.send("334 VXNlcm5hbWU6")
                    user = b64(self.readline())
                    self.send("334 UGFzc3dvcmQ6")
                    password = b64(self.readline())
                else:
                    self.send("504 unrecognised mechanism")
                    continue
                if f"{user}:{password}" == args.auth:
                    self.authed = mechanism
                    self.send("235 authenticated")
                else:
                    self.send("535 authentication failed")
            elif verb == "MAIL":
                if args.reject_mail:
                    self.send("550 mail refused by the test")
                elif args.auth and not self.authed:
                    self.send("530 authentication required")
                else:
                    mail_from, rcpt = line[10:].strip(), []
                    self.send("250 ok")
            elif verb == "RCPT":
                rcpt.append(line[8:].strip())
                self.send("250 ok")
            elif verb == "DATA":
                self.send("354 end with .")
                data = []
                while True:
                    text = self.readline()
                    if text == ".":
                        break
                    data.append(text[1:] if text.startswith(".") else text)
                with lock:
                    counter[0] += 1
                    name = os.path.join(args.out, "mail-%d.json" % counter[0])
                with open(name + ".tmp", "w") as handle:
                    json.dump({"from": mail_from, "to": rcpt, "data": "\n".join(data), "tls": self.tls,
                               "auth": self.authed}, handle)
                os.rename(name + ".tmp", name)
                self.send("250 queued")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            elif verb == "RSET" or verb == "NOOP":
                self.send("250 ok")
            else:
                self.send("500 unknown command")


def serve(conn):
    try:
        Session(conn).run()
    except (EOFError, OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", args.port))
listener.listen(16)
print("PORT %d" % listener.getsockname()[1], flush=True)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()

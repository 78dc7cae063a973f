#!/usr/bin/python3
"""Self-test of tests/support/smsc_sim.py over raw sockets: binds (a wrong password refused), a GSM
message and a two-part UCS-2 Arabic message (16-bit UDH reference) with their resps, the reassembled
texts in the log, the receipts as deliver_sm (text and TLVs), a silent number, sar_* TLVs,
throttling by share and by --max-tps, generic_nack, unbind.

  python3 tests/scripts/smsc_sim_test.py REPO_ROOT
"""

import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

SIM = None
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def outcome(dest, shares=(0.5, 0.25, 0.0, 0.25)):
    x = int(hashlib.sha256(dest.encode()).hexdigest()[:8], 16) / 2 ** 32
    total = 0.0
    for name, s in zip(("delivered", "undelivered", "expired", "silent"), shares):
        total += s
        if x < total:
            return name
    return "delivered"


def number_for(wanted):
    for i in range(100000):
        dest = "+96650%07d" % i
        if outcome(dest) == wanted:
            return dest
    raise RuntimeError(wanted)


class Esme:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.seq = 0
        self.buf = b""

    def send(self, command_id, body=b"", status=0, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        self.sock.sendall(struct.pack(">IIII", 16 + len(body), command_id, status, seq) + body)
        return seq

    def recv(self):
        while len(self.buf) < 16 or len(self.buf) < struct.unpack(">I", self.buf[:4])[0]:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed")
            self.buf += data
        length, cid, status, seq = struct.unpack(">IIII", self.buf[:16])
        body, self.buf = self.buf[16:length], self.buf[length:]
        return cid, status, seq, body

    def bind(self, password, system_id="forewarn"):
        self.send(0x09, system_id.encode() + b"\0" + password.encode() + b"\0" + b"\0" + bytes([0x34, 0, 0]) + b"\0")
        return self.recv()

    def submit(self, dest, data, dc=0, esm=0, reg=1, tlvs=b""):
        body = (b"\0" + bytes([1, 1]) + b"FOREWARN\0" + bytes([1, 1]) + dest.encode() + b"\0"
                + bytes([esm, 0, 0]) + b"\0\0" + bytes([reg, 0, dc, 0, len(data)]) + data + tlvs)
        seq = self.send(0x04, body)
        cid, status, rseq, rbody = self.recv()
        assert cid == 0x80000004 and rseq == seq, (hex(cid), rseq, seq)
        return status, rbody.rstrip(b"\0").decode()


def read_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def start(tmp, name, *extra):
    port_file = os.path.join(tmp, name + ".port")
    log = os.path.join(tmp, name + ".jsonl")
    proc = subprocess.Popen([sys.executable, SIM, "--port-file", port_file, "--log", log, *extra])
    for _ in range(100):
        if os.path.exists(port_file):
            break
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, int(f.read()), log


def stop(proc):
    proc.terminate()
    check(proc.wait(10) == 0, "the simulator exits 0 on SIGTERM")


def parse_deliver(body):
    parts = body.split(b"\0", 3)  # service_type, (ton npi source), ...
    i = 0
    def cstring():
        nonlocal i
        end = body.index(b"\0", i)
        s = body[i:end].decode("latin-1")
        i = end + 1
        return s
    cstring(); i += 2; src = cstring(); i += 2; dst = cstring()
    esm = body[i]; i += 3; cstring(); cstring(); i += 4
    n = body[i]; i += 1
    text = body[i:i + n].decode("latin-1"); i += n
    tlvs = {}
    while i + 4 <= len(body):
        tag, ln = struct.unpack(">HH", body[i:i + 4])
        tlvs[tag] = body[i + 4:i + 4 + ln]; i += 4 + ln
    del parts
    return {"src": src, "dst": dst, "esm": esm, "text": text, "tlvs": tlvs}


def receipts_until(esme, count):
    out = []
    deadline = time.time() + 5
    while len(out) < count and time.time() < deadline:
        cid, status, seq, body = esme.recv()
        if cid == 0x05:
            out.append(parse_deliver(body))
            esme.send(0x80000005, b"\0", seq=seq)
    return out


def main_scenario(tmp):
    proc, port, log = start(tmp, "main", "--delivered", "0.5", "--undelivered", "0.25", "--expired", "0",
                            "--silent", "0.25", "--receipt-delay-ms", "100", "--dc0", "gsm",
                            "--stats", os.path.join(tmp, "stats.json"))
    try:
        bad = Esme(port)
        cid, status, _, _ = bad.bind("wrong")
        check(cid == 0x80000009 and status == 0x0E, "a wrong password gets ESME_RINVPASWD")
        esme = Esme(port)
        cid, status, _, _ = esme.bind("secret")
        check(cid == 0x80000009 and status == 0, "bind_transceiver accepted")
        esme.send(0x15)
        check(esme.recv()[0] == 0x80000015, "enquire_link answered")
        esme.send(0x00000103)  # data_sm: not supported
        cid, status, _, _ = esme.recv()
        check(cid == 0x80000000 and status == 0x03, "an unknown command gets generic_nack")

        delivered, undelivered, silent = (number_for(x) for x in ("delivered", "undelivered", "silent"))
        english = "Power cut @ 10:00 {grid}"
        gsm = english.replace("@", "\x00").replace("{", "\x1b(").replace("}", "\x1b)").encode("latin-1")
        status, id1 = esme.submit(delivered, gsm)
        check(status == 0 and id1, "GSM submit accepted with an id")

        arabic = "انقطاع الكهرباء المجدول في حي النخيل من الساعة العاشرة حتى الثانية عشرة ظهرا نعتذر"
        data = arabic.encode("utf-16-be")
        half = (len(data) // 4) * 2
        ids = []
        for seq, chunk in ((1, data[:half]), (2, data[half:])):
            udh = bytes([6, 0x08, 4, 0x12, 0x34, 2, seq])
            status, mid = esme.submit(undelivered, udh + chunk, dc=8, esm=0x40)
            check(status == 0, "UCS-2 part %d accepted" % seq)
            ids.append(mid)
        check(len(set(ids + [id1])) == 3, "every part has its own id")

        sar = lambda ref, total, seq: (struct.pack(">HHH", 0x020C, 2, ref) + struct.pack(">HHB", 0x020E, 1, total)
                                       + struct.pack(">HHB", 0x020F, 1, seq))
        esme.submit(silent, b"Hello ", tlvs=sar(7, 2, 1), reg=1)
        esme.submit(silent, b"world", tlvs=sar(7, 2, 2), reg=1)

        got = receipts_until(esme, 3)
        check(len(got) == 3, "three receipts (one GSM part, two Arabic parts), got %d" % len(got))
        by_id = {r["tlvs"].get(0x001E, b"").rstrip(b"\0").decode(): r for r in got}
        check(set(by_id) == {id1, *ids}, "receipts for the submitted ids: %s" % sorted(by_id))
        r1 = by_id.get(id1)
        if r1:
            check(r1["esm"] == 0x04 and r1["tlvs"][0x0427] == b"\x02", "DELIVRD receipt: esm_class 4, state 2")
            check(r1["text"].startswith("id:%s sub:001 dlvrd:001 submit date:" % id1), r1["text"])
            check("stat:DELIVRD err:000 text:Power cut @ 10:00 {g" in r1["text"], r1["text"])
            check(r1["dst"] == "FOREWARN" and r1["src"] == delivered, "receipt addressed back to the sender")
        for mid in ids:
            r = by_id.get(mid)
            if r:
                check("stat:UNDELIV" in r["text"] and r["tlvs"][0x0427] == b"\x05", "UNDELIV receipt " + r["text"])
        time.sleep(0.4)
        esme.sock.settimeout(0.3)
        try:
            extra = esme.recv()
            check(False, "no receipt for the silent number, got %r" % (extra,))
        except socket.timeout:
            pass
        esme.sock.settimeout(5)
        esme.send(0x06)
        check(esme.recv()[0] == 0x80000006, "unbind answered")
    finally:
        stop(proc)
    events = read_log(log)
    submits = [e for e in events if e["event"] == "submit"]
    check(len(submits) == 3, "three messages logged, got %d" % len(submits))
    if len(submits) == 3:
        check(submits[0]["text"] == english and submits[0]["outcome"] == "delivered" and submits[0]["parts"] == 1,
              "GSM text logged: %r" % submits[0])
        check(submits[1]["text"] == arabic and submits[1]["parts"] == 2 and submits[1]["message_ids"] == ids
              and submits[1]["data_coding"] == 8 and submits[1]["outcome"] == "undelivered",
              "Arabic reassembled: %r" % submits[1])
        check(submits[2]["text"] == "Hello world" and submits[2]["outcome"] == "silent", "sar_* reassembled")
    acks = [e for e in events if e["event"] == "receipt_resp"]
    check(len(acks) == 3, "three deliver_sm_resp logged")
    with open(os.path.join(tmp, "stats.json")) as f:
        stats = json.load(f)
    check(stats["messages"] == 3 and stats["delivered"] == 1 and stats["undelivered"] == 1 and stats["silent"] == 1,
          "stats %r" % stats)


def throttling(tmp):
    proc, port, log = start(tmp, "throttle", "--throttle-share", "0.5", "--seed", "3")
    try:
        esme = Esme(port)
        esme.bind("secret")
        codes = [esme.submit("+4917000000%02d" % i, b"x", reg=0)[0] for i in range(40)]
    finally:
        stop(proc)
    throttled = codes.count(0x58)
    check(0 < throttled < 40 and set(codes) == {0, 0x58}, "share throttling answers 0x58 to some: %r" % codes)
    events = read_log(log)
    check(len([e for e in events if e["event"] == "throttled"]) == throttled, "throttled events logged")
    check(len([e for e in events if e["event"] == "submit"]) == 40 - throttled, "throttled parts not submitted")

    proc, port, log = start(tmp, "tps", "--max-tps", "5")
    try:
        esme = Esme(port)
        esme.bind("secret")
        codes = [esme.submit("+4917100000%02d" % i, b"y", reg=0)[0] for i in range(8)]
        time.sleep(1.1)
        later = esme.submit("+491710000099", b"z", reg=0)[0]
    finally:
        stop(proc)
    check(codes == [0] * 5 + [0x58] * 3, "--max-tps 5: the 6th submit in a second is throttled: %r" % codes)
    check(later == 0, "a second later submits pass again")


def main():
    global SIM
    SIM = os.path.join(sys.argv[1], "tests", "support", "smsc_sim.py")
    with tempfile.TemporaryDirectory() as tmp:
        main_scenario(tmp)
        throttling(tmp)
    print("FAILED: %d" % len(FAILURES) if FAILURES else "OK")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())

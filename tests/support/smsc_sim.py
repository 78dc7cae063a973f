#!/usr/bin/python3
"""An SMPP 3.4 SMSC simulator for tests (standard library only).

  python3 tests/support/smsc_sim.py --port-file FILE --log FILE.jsonl [--system-id forewarn]
      [--password secret] [--delivered 0.90] [--undelivered 0.05] [--expired 0.0] [--silent 0.05]
      [--receipt-delay-ms 200] [--throttle-share 0.0] [--max-tps 0] [--seed 1] [--stats FILE]
      [--dc0 latin1|gsm]

Listens on 127.0.0.1, port 0, writes the port to --port-file (atomically) once it accepts
connections, and runs until SIGTERM or SIGINT (then exits 0). Any number of sessions at once.

Sessions: bind_transmitter, bind_receiver and bind_transceiver with a system_id/password check
(ESME_RINVPASWD 0x0E, ESME_RINVSYSID 0x0F); enquire_link, unbind; an unknown command gets a
generic_nack (ESME_RINVCMDID).

submit_sm: data_coding 0 (the SMSC default alphabet: decoded as latin-1, or with --dc0 gsm as the
unpacked GSM 03.38 default alphabet with its extension table, as Kannel sends it) and 8 (UCS-2,
big-endian); other codings are decoded as latin-1. The text is short_message or the
message_payload TLV. A long message arrives in parts, joined by a UDH (esm_class 0x40, IEI 0x00
with an 8-bit reference or 0x08 with a 16-bit one) or by the sar_msg_ref_num/sar_total_segments/
sar_segment_seqnum TLVs. Every part gets its own message_id (a hex counter) in its submit_sm_resp;
a message is complete when all its parts arrived, and is logged once, decoded and reassembled.

Outcome of a complete message, deterministic by its destination address as submitted:
x = int(sha256(dest_addr).hexdigest()[:8], 16) / 2**32, compared against the cumulative shares in
the order delivered, undelivered, expired, silent (an x beyond their sum: delivered). With
registered_delivery & 1, --receipt-delay-ms after the message completed each part gets a
deliver_sm (esm_class 0x04) on a session of the same system_id bound as receiver or transceiver
(queued until one is bound; requeued when the session closes before deliver_sm_resp) with
  "id:<part id> sub:001 dlvrd:001|000 submit date:YYMMDDhhmm done date:YYMMDDhhmm
   stat:DELIVRD|UNDELIV|EXPIRED err:000|001 text:<the text's first 20 characters, ASCII>"
and the TLVs receipted_message_id (0x001E) and message_state (0x0427: 2 delivered, 5
undeliverable, 3 expired). A silent message never gets a receipt.

Throttling: --throttle-share answers that share of submit_sm (drawn from random.Random(--seed))
with ESME_RTHROTTLED (0x58); --max-tps N answers 0x58 to submits beyond N in the last second. A
throttled part is not kept (the client submits it again).

Log (JSON lines, flushed per line), events:
  {"event": "bind", "system_id", "mode": "transmitter|receiver|transceiver", "status": 0|14|15, "session"}
  {"event": "unbind", "session"}            {"event": "closed", "session"}
  {"event": "submit", "message_ids": [...], "to", "from", "text", "parts", "data_coding",
   "registered_delivery", "outcome": "delivered|undelivered|expired|silent"}
  {"event": "throttled", "to", "reason": "share|tps"}
  {"event": "receipt", "message_id", "stat", "to", "session"}       (deliver_sm sent)
  {"event": "receipt_resp", "message_id", "status", "session"}      (its deliver_sm_resp)
  {"event": "generic_nack", "command_id", "session"}
--stats FILE is rewritten atomically after every change: {"messages", "parts", "delivered",
"undelivered", "expired", "silent", "throttled", "receipts_sent", "receipts_acked"}.
"""

import argparse
import asyncio
import datetime
import hashlib
import json
import os
import random
import signal
import struct
import sys
import time
from collections import deque

BIND_RECEIVER, BIND_TRANSMITTER, SUBMIT_SM, DELIVER_SM = 0x01, 0x02, 0x04, 0x05
UNBIND, BIND_TRANSCEIVER, ENQUIRE_LINK, GENERIC_NACK = 0x06, 0x09, 0x15, 0x80000000
RESP = 0x80000000
BIND_MODES = {BIND_RECEIVER: "receiver", BIND_TRANSMITTER: "transmitter", BIND_TRANSCEIVER: "transceiver"}

ESME_ROK, ESME_RINVMSGLEN, ESME_RINVCMDLEN, ESME_RINVCMDID = 0x00, 0x01, 0x02, 0x03
ESME_RINVBNDSTS, ESME_RALYBND, ESME_RSYSERR = 0x04, 0x05, 0x08
ESME_RINVPASWD, ESME_RINVSYSID, ESME_RTHROTTLED = 0x0E, 0x0F, 0x58

TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE, TLV_MESSAGE_PAYLOAD = 0x001E, 0x0427, 0x0424
TLV_SAR_MSG_REF_NUM, TLV_SAR_TOTAL_SEGMENTS, TLV_SAR_SEGMENT_SEQNUM = 0x020C, 0x020E, 0x020F

OUTCOMES = ("delivered", "undelivered", "expired", "silent")
RECEIPT = {  # outcome -> (stat, dlvrd, err, message_state)
    "delivered": ("DELIVRD", "001", "000", 2),
    "undelivered": ("UNDELIV", "000", "001", 5),
    "expired": ("EXPIRED", "000", "000", 3),
}

GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
             "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
                 0x3E: "]", 0x40: "|", 0x65: "€"}
assert len(GSM_BASIC) == 128


def decode_gsm(data):
    out, escape = [], False
    for b in data:
        if escape:
            out.append(GSM_EXTENSION.get(b, " "))
            escape = False
        elif b == 0x1B:
            escape = True
        else:
            out.append(GSM_BASIC[b & 0x7F])
    return "".join(out)


def decode_text(data, data_coding, dc0):
    if data_coding == 8:
        return data.decode("utf-16-be", "replace")
    if data_coding == 0 and dc0 == "gsm":
        return decode_gsm(data)
    return data.decode("latin-1")


def outcome_of(dest, shares):
    x = int(hashlib.sha256(dest.encode("utf-8")).hexdigest()[:8], 16) / 2 ** 32
    total = 0.0
    for name in OUTCOMES:
        total += shares[name]
        if x < total:
            return name
    return "delivered"


def smpp_date(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%y%m%d%H%M")


class Reader:
    """Reads the fields of a PDU body."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def cstring(self):
        end = self.data.index(b"\0", self.pos)
        value = self.data[self.pos:end].decode("latin-1")
        self.pos = end + 1
        return value

    def byte(self):
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short PDU")
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value

    def tlvs(self):
        out = {}
        while self.pos + 4 <= len(self.data):
            tag, length = struct.unpack(">HH", self.take(4))
            out[tag] = self.take(length)
        return out


def cstr(s):
    return s.encode("latin-1", "replace") + b"\0"


def tlv(tag, value):
    return struct.pack(">HH", tag, len(value)) + value


def parse_submit(body):
    r = Reader(body)
    sm = {"service_type": r.cstring(), "source_ton": r.byte(), "source_npi": r.byte(),
          "source": r.cstring(), "dest_ton": r.byte(), "dest_npi": r.byte(), "dest": r.cstring(),
          "esm_class": r.byte(), "protocol_id": r.byte(), "priority": r.byte(),
          "schedule": r.cstring(), "validity": r.cstring(), "registered_delivery": r.byte(),
          "replace": r.byte(), "data_coding": r.byte(), "default_msg_id": r.byte()}
    sm["short_message"] = r.take(r.byte())
    sm["tlvs"] = r.tlvs()
    return sm


def split_udh(payload):
    """(concat (ref, total, seq) or None, the payload after the UDH)."""
    udhl = payload[0]
    udh, rest = payload[1:1 + udhl], payload[1 + udhl:]
    concat, i = None, 0
    while i + 2 <= len(udh):
        iei, length = udh[i], udh[i + 1]
        value = udh[i + 2:i + 2 + length]
        if iei == 0x00 and length == 3:
            concat = (value[0], value[1], value[2])
        elif iei == 0x08 and length == 4:
            concat = ((value[0] << 8) | value[1], value[2], value[3])
        i += 2 + length
    return concat, rest


def part_of(sm):
    """(concat key part or None, payload bytes) of a submit_sm."""
    tlvs = sm["tlvs"]
    payload = tlvs.get(TLV_MESSAGE_PAYLOAD, sm["short_message"])
    concat = None
    if sm["esm_class"] & 0x40 and payload:
        concat, payload = split_udh(payload)
    if concat is None and TLV_SAR_MSG_REF_NUM in tlvs:
        ref = int.from_bytes(tlvs[TLV_SAR_MSG_REF_NUM], "big")
        total = tlvs.get(TLV_SAR_TOTAL_SEGMENTS, b"\1")[0]
        seq = tlvs.get(TLV_SAR_SEGMENT_SEQNUM, b"\1")[0]
        concat = (ref, total, seq)
    return concat, payload


class Smsc:
    def __init__(self, args):
        self.args = args
        self.shares = {name: getattr(args, name) for name in OUTCOMES}
        self.rng = random.Random(args.seed)
        self.next_id = 0
        self.next_session = 0
        self.log_file = open(args.log, "a", encoding="utf-8")
        self.partial = {}  # (system_id, from, to, ref, total) -> {seq: (id, payload, at)}
        self.pending = {}  # system_id -> deque of receipts waiting for a receiver
        self.sessions = set()  # bound ones
        self.connections = set()
        self.submits = deque()  # accepted submit times (--max-tps)
        self.stats = {k: 0 for k in ("messages", "parts") + OUTCOMES +
                      ("throttled", "receipts_sent", "receipts_acked")}

    def log(self, record):
        if self.log_file.closed:  # shutting down
            return
        self.log_file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.log_file.flush()

    def count(self, key, n=1):
        self.stats[key] += n
        if self.args.stats:
            tmp = self.args.stats + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.stats, f)
            os.rename(tmp, self.args.stats)

    def new_id(self):
        self.next_id += 1
        return "%x" % (0x10000 + self.next_id)

    def throttled(self, now):
        if self.args.throttle_share > 0 and self.rng.random() < self.args.throttle_share:
            return "share"
        if self.args.max_tps > 0:
            while self.submits and self.submits[0] <= now - 1.0:
                self.submits.popleft()
            if len(self.submits) >= self.args.max_tps:
                return "tps"
        return None

    def submit(self, session, sm):
        """Answers one submit_sm: (status, message_id)."""
        now = time.time()
        reason = self.throttled(now)
        if reason:
            self.log({"event": "throttled", "to": sm["dest"], "reason": reason, "session": session.n})
            self.count("throttled")
            return ESME_RTHROTTLED, ""
        self.submits.append(now)
        concat, payload = part_of(sm)
        message_id = self.new_id()
        self.count("parts")
        if concat is None or concat[1] <= 1:
            self.complete(session, sm, [(message_id, payload, now)])
            return ESME_ROK, message_id
        ref, total, seq = concat
        key = (session.system_id, sm["source"], sm["dest"], ref, total)
        parts = self.partial.setdefault(key, {})
        parts[seq] = (message_id, payload, now)
        if len(parts) >= total:
            del self.partial[key]
            self.complete(session, sm, [parts[s] for s in sorted(parts)])
        return ESME_ROK, message_id

    def complete(self, session, sm, parts):
        text = decode_text(b"".join(p[1] for p in parts), sm["data_coding"], self.args.dc0)
        outcome = outcome_of(sm["dest"], self.shares)
        self.log({"event": "submit", "message_ids": [p[0] for p in parts], "to": sm["dest"],
                  "from": sm["source"], "text": text, "parts": len(parts),
                  "data_coding": sm["data_coding"], "registered_delivery": sm["registered_delivery"],
                  "outcome": outcome, "session": session.n})
        self.count("messages")
        self.count(outcome)
        if not sm["registered_delivery"] & 1 or outcome == "silent":
            return
        stat, dlvrd, err, state = RECEIPT[outcome]
        snippet = "".join(c if 32 <= ord(c) < 127 else "." for c in text[:20])
        done = smpp_date(time.time())
        for message_id, _, at in parts:
            receipt = {"system_id": session.system_id, "message_id": message_id, "stat": stat,
                       "to": sm["source"], "from": sm["dest"], "state": state,
                       "text": "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:%s"
                               % (message_id, dlvrd, smpp_date(at), done, stat, err, snippet)}
            asyncio.get_running_loop().call_later(self.args.receipt_delay_ms / 1000.0, self.route, receipt)

    def route(self, receipt):
        """Sends a receipt on a bound receiver of its system_id, or queues it until one binds."""
        receivers = [s for s in self.sessions
                     if s.system_id == receipt["system_id"] and s.mode in ("receiver", "transceiver")]
        if not receivers:
            self.pending.setdefault(receipt["system_id"], deque()).append(receipt)
            return
        min(receivers, key=lambda s: len(s.outstanding)).send_receipt(receipt)

    def flush_pending(self, system_id):
        queue = self.pending.pop(system_id, deque())
        while queue:
            self.route(queue.popleft())


class Session:
    def __init__(self, smsc, reader, writer):
        self.smsc, self.reader, self.writer = smsc, reader, writer
        smsc.next_session += 1
        self.n = smsc.next_session
        self.system_id, self.mode = None, None
        self.seq = 0
        self.outstanding = {}  # sequence number -> receipt
        smsc.connections.add(self)

    def send(self, command_id, status, seq, body=b""):
        self.writer.write(struct.pack(">IIII", 16 + len(body), command_id, status, seq) + body)

    def send_receipt(self, receipt):
        self.seq = self.seq % 0x7FFFFFFF + 1
        self.outstanding[self.seq] = receipt
        text = receipt["text"].encode("latin-1")
        body = (cstr("") + bytes([1, 1]) + cstr(receipt["from"]) + bytes([1, 1]) + cstr(receipt["to"])
                + bytes([0x04, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, 0, 0, len(text)]) + text
                + tlv(TLV_RECEIPTED_MESSAGE_ID, cstr(receipt["message_id"]))
                + tlv(TLV_MESSAGE_STATE, bytes([receipt["state"]])))
        self.send(DELIVER_SM, 0, self.seq, body)
        self.smsc.log({"event": "receipt", "message_id": receipt["message_id"], "stat": receipt["stat"],
                       "to": receipt["to"], "session": self.n})
        self.smsc.count("receipts_sent")

    def bind(self, command_id, seq, body):
        r = Reader(body)
        system_id, password = r.cstring(), r.cstring()
        mode = BIND_MODES[command_id]
        if self.mode is not None:
            status = ESME_RALYBND
        elif system_id != self.smsc.args.system_id:
            status = ESME_RINVSYSID
        elif password != self.smsc.args.password:
            status = ESME_RINVPASWD
        else:
            status = ESME_ROK
        self.smsc.log({"event": "bind", "system_id": system_id, "mode": mode, "status": status,
                       "session": self.n})
        self.send(command_id | RESP, status, seq, cstr("forewarn-smsc") if status == ESME_ROK else b"")
        if status == ESME_ROK:
            self.system_id, self.mode = system_id, mode
            self.smsc.sessions.add(self)
            if mode != "transmitter":
                self.smsc.flush_pending(system_id)

    def handle(self, command_id, status, seq, body):
        if command_id in BIND_MODES:
            self.bind(command_id, seq, body)
        elif command_id == ENQUIRE_LINK:
            self.send(ENQUIRE_LINK | RESP, ESME_ROK, seq)
        elif command_id == UNBIND:
            self.smsc.log({"event": "unbind", "session": self.n})
            self.send(UNBIND | RESP, ESME_ROK, seq)
            return False
        elif command_id == SUBMIT_SM:
            if self.mode not in ("transmitter", "transceiver"):
                self.send(SUBMIT_SM | RESP, ESME_RINVBNDSTS, seq, cstr(""))
                return True
            try:
                sm = parse_submit(body)
            except (ValueError, IndexError):
                self.send(SUBMIT_SM | RESP, ESME_RINVMSGLEN, seq, cstr(""))
                return True
            code, message_id = self.smsc.submit(self, sm)
            self.send(SUBMIT_SM | RESP, code, seq, cstr(message_id))
        elif command_id == DELIVER_SM | RESP:
            receipt = self.outstanding.pop(seq, None)
            if receipt is not None:
                self.smsc.log({"event": "receipt_resp", "message_id": receipt["message_id"],
                               "status": status, "session": self.n})
                self.smsc.count("receipts_acked")
        elif command_id in (ENQUIRE_LINK | RESP, UNBIND | RESP, GENERIC_NACK):
            pass
        else:
            self.smsc.log({"event": "generic_nack", "command_id": command_id, "session": self.n})
            self.send(GENERIC_NACK, ESME_RINVCMDID, seq)
        return True

    async def run(self):
        try:
            while True:
                header = await self.reader.readexactly(16)
                length, command_id, status, seq = struct.unpack(">IIII", header)
                if length < 16 or length > 70000:
                    self.send(GENERIC_NACK, ESME_RINVCMDLEN, seq)
                    break
                body = await self.reader.readexactly(length - 16)
                if not self.handle(command_id, status, seq, body):
                    break
                await self.writer.drain()
            await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.close()

    def close(self):
        self.smsc.sessions.discard(self)
        self.smsc.connections.discard(self)
        self.smsc.log({"event": "closed", "session": self.n})
        self.writer.close()
        receipts, self.outstanding = list(self.outstanding.values()), {}
        if self.smsc.log_file.closed:
            return
        for receipt in receipts:  # never acknowledged: sent again on another (or the next) session
            self.smsc.route(receipt)


async def serve(args):
    smsc = Smsc(args)
    server = await asyncio.start_server(lambda r, w: Session(smsc, r, w).run(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
        for session in list(smsc.connections):
            session.writer.close()
        await asyncio.sleep(0.05)
    smsc.log_file.close()


def share(text):
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("expected a share between 0 and 1, got %r" % text)
    return value


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--stats")
    p.add_argument("--system-id", default="forewarn")
    p.add_argument("--password", default="secret")
    p.add_argument("--delivered", type=share, default=0.90)
    p.add_argument("--undelivered", type=share, default=0.05)
    p.add_argument("--expired", type=share, default=0.0)
    p.add_argument("--silent", type=share, default=0.05)
    p.add_argument("--receipt-delay-ms", type=int, default=200)
    p.add_argument("--throttle-share", type=share, default=0.0)
    p.add_argument("--max-tps", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dc0", choices=("latin1", "gsm"), default="latin1",
                   help="how data_coding 0 is decoded (Kannel sends the GSM default alphabet)")
    args = p.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

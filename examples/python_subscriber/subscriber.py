#!/usr/bin/python3
"""A hookstream subscriber in Python: copy it and put your handling in
handle_event().

It subscribes to hookstream.v1.EventStream with a filter, prints one JSON
line per event on stdout, keeps its position (stream epoch + sequence) in a
state file, reconnects with backoff and resumes right after that position,
reads a Gap from the rich status details (grpc-status-details-bin ->
google.rpc.Status -> hookstream.v1.Gap), and speaks TLS and sends a bearer
token when given. Same program, same flags, as examples/go_subscriber and
examples/node_subscriber.

Output, one JSON object per line, with one key:
  {"event": {...}}   an event (proto field names; 64-bit integers as strings,
                     the proto3 JSON mapping)
  {"gap": {...}}     events were missed, or the server's stream started over
  {"error": {"code": "OUT_OF_RANGE", "message": "...", "gap": {...}}}

Exit codes: 0 --max-events reached; 1 an error that retrying cannot fix;
2 usage; 3 events were evicted before they were read (--gap-policy fail).

Generate the modules first: ./generate.sh [OUT_DIR] (then point
HOOKSTREAM_PY_GEN_DIR or --gen-dir at OUT_DIR). Debian's python3-grpcio and
python3-protobuf are enough; with pip, `pip install grpcio grpcio-tools` and
generate with `python -m grpc_tools.protoc` instead of protoc (grpcio-status
also decodes the details, but the generated status_pb2 is all it takes).
"""

import argparse
import ipaddress
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GEN = os.path.join(HERE, "..", "..", "build", "examples", "python_gen")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_GAP = 0, 1, 2, 3
STATUS_DETAILS_KEY = "grpc-status-details-bin"


def env(name, default=""):
    return os.environ.get(name) or default


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Follow a hookstream server and print events as JSON.")
    p.add_argument("--target", default=env("HOOKSTREAM_TARGET", "127.0.0.1:50051"),
                   help="gRPC address (env HOOKSTREAM_TARGET)")
    p.add_argument("--tls", action="store_true",
                   default=env("HOOKSTREAM_TLS") in ("1", "true", "yes"),
                   help="speak TLS (env HOOKSTREAM_TLS=1; implied by --cacert)")
    p.add_argument("--cacert", default=env("HOOKSTREAM_CACERT"),
                   help="PEM CA the server must chain to (env HOOKSTREAM_CACERT)")
    p.add_argument("--cert", default=env("HOOKSTREAM_CERT"),
                   help="PEM client certificate for mTLS (env HOOKSTREAM_CERT)")
    p.add_argument("--key", default=env("HOOKSTREAM_KEY"),
                   help="PEM key of --cert (env HOOKSTREAM_KEY)")
    p.add_argument("--token", default=env("HOOKSTREAM_TOKEN"),
                   help="bearer token (env HOOKSTREAM_TOKEN)")
    p.add_argument("--from", dest="start", choices=["oldest", "latest"],
                   default="latest", help="where to start without a state file")
    p.add_argument("--after-event-id", metavar="EVT_ID",
                   help="start after this event id instead")
    p.add_argument("--types", default="", help="comma-separated type patterns")
    p.add_argument("--accounts", default="", help="comma-separated accounts")
    p.add_argument("--state-file",
                   help="keeps {stream_epoch, sequence}; resumed from at start")
    p.add_argument("--gap-policy", choices=["fail", "resume"], default="fail")
    p.add_argument("--heartbeat-interval", type=int, default=15,
                   metavar="SECONDS")
    p.add_argument("--max-events", type=int, default=0, metavar="N",
                   help="exit 0 after N events (0: never)")
    p.add_argument("--max-retries", type=int, default=0, metavar="N",
                   help="give up after N failed attempts in a row (0: never)")
    p.add_argument("--gen-dir", default=env("HOOKSTREAM_PY_GEN_DIR", DEFAULT_GEN),
                   help="where generate.sh put the modules")
    args = p.parse_args(argv)
    if args.cert and not args.key or args.key and not args.cert:
        p.error("--cert and --key go together")
    if args.cacert or args.cert:
        args.tls = True
    if args.token and not args.tls and not loopback_target(args.target):
        p.error(f"refusing to send the token in clear text to {args.target}: "
                "use --tls (plaintext is for loopback only)")
    return args


def loopback_target(target):
    """An IP literal in 127.0.0.0/8 or ::1. A host name never counts (DNS or
    /etc/hosts decide where it goes), as the server decides too."""
    host = target
    if target.startswith("["):
        host = target[1:target.find("]")]
    elif target.count(":") == 1:
        host = target.rsplit(":", 1)[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_modules(gen_dir):
    sys.path.insert(0, gen_dir)
    try:
        global grpc, json_format, event_stream_pb2, event_stream_pb2_grpc
        global status_pb2
        import grpc
        from google.protobuf import json_format
        from google.rpc import status_pb2
        from hookstream.v1 import event_stream_pb2, event_stream_pb2_grpc
    except ImportError as e:
        sys.exit(f"subscriber.py: {e}: run ./generate.sh and pass --gen-dir")


def to_dict(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def emit(kind, payload):
    print(json.dumps({kind: payload}, separators=(",", ":")), flush=True)


def note(text):
    print(f"subscriber.py: {text}", file=sys.stderr, flush=True)


class Position:
    """The last position delivered: the resume point, kept in a file."""

    def __init__(self, path):
        self.path, self.epoch, self.sequence = path, "", None
        if path and os.path.exists(path):
            with open(path) as f:
                state = json.load(f)
            self.epoch, self.sequence = state["stream_epoch"], int(state["sequence"])

    def set(self, epoch, sequence):
        self.epoch, self.sequence = epoch, sequence
        if self.path:  # written whole, then renamed: never half a file
            with open(self.path + ".tmp", "w") as f:
                json.dump({"stream_epoch": epoch, "sequence": sequence}, f)
            os.replace(self.path + ".tmp", self.path)


def gap_from_error(error):
    """The hookstream.v1.Gap in the rich status details, if any."""
    for key, value in error.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY:
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                gap = event_stream_pb2.Gap()
                if detail.Is(gap.DESCRIPTOR) and detail.Unpack(gap):
                    return gap
    return None


def build_request(args, position):
    request = event_stream_pb2.SubscribeRequest(
        gap_policy=(event_stream_pb2.GAP_POLICY_RESUME_FROM_OLDEST
                    if args.gap_policy == "resume"
                    else event_stream_pb2.GAP_POLICY_FAIL))
    request.filter.types.extend(t for t in args.types.split(",") if t)
    request.filter.accounts.extend(a for a in args.accounts.split(",") if a)
    request.heartbeat_interval.FromSeconds(args.heartbeat_interval)
    if position.sequence is not None:
        request.after_sequence = position.sequence
        request.stream_epoch = position.epoch
    elif args.after_event_id:
        request.after_event_id = args.after_event_id
    elif args.start == "oldest":
        request.origin = event_stream_pb2.ORIGIN_OLDEST
    else:
        request.origin = event_stream_pb2.ORIGIN_LATEST
    return request


def make_channel(args):
    # 4 MiB holds every message of a server with the default --max_event_bytes
    # (docs/clients.md, "Message size"); raise it with that flag.
    options = [("grpc.max_receive_message_length", 4 << 20)]
    if not args.tls:
        return grpc.insecure_channel(args.target, options=options)
    read = lambda path: open(path, "rb").read() if path else None  # noqa: E731
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(args.cacert), private_key=read(args.key),
        certificate_chain=read(args.cert))
    return grpc.secure_channel(args.target, credentials, options=options)


def handle_event(event):
    """Your code goes here. This one prints the event."""
    emit("event", to_dict(event))


RETRYABLE = {"OK", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED",
             "RESOURCE_EXHAUSTED", "CANCELLED"}


def main(argv):
    args = parse_args(argv)
    load_modules(args.gen_dir)
    position = Position(args.state_file)
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []
    delivered, failures, delay_cap, lost = 0, 0, 0.1, False
    with make_channel(args) as channel:
        stub = event_stream_pb2_grpc.EventStreamStub(channel)
        while True:
            got_events = False
            call = stub.Subscribe(build_request(args, position), metadata=metadata)
            try:
                for response in call:
                    kind = response.WhichOneof("message")
                    if kind == "heartbeat":
                        hb = response.heartbeat
                        if position.sequence is None or (
                                hb.stream_epoch == position.epoch and
                                hb.position > position.sequence):
                            position.set(hb.stream_epoch, hb.position)
                        if lost:
                            note(f"connected again to {args.target}")
                            lost = False
                    elif kind == "events":
                        got_events = True
                        for event in response.events.events:
                            handle_event(event)
                            position.set(event.stream_epoch, event.sequence)
                            delivered += 1
                            if args.max_events and delivered >= args.max_events:
                                call.cancel()
                                return EXIT_OK
                    elif kind == "gap":
                        got_events = True
                        emit("gap", to_dict(response.gap))
                        position.set(response.gap.stream_epoch,
                                     response.gap.oldest_sequence - 1)
                code, message, gap = "OK", "the server ended the stream", None
            except grpc.RpcError as error:
                code, message = error.code().name, error.details() or ""
                gap = gap_from_error(error)
            if gap is not None and \
                    gap.reason == event_stream_pb2.GAP_REASON_EPOCH_CHANGED:
                # The server's stream started over: positions of the old one
                # mean nothing. Go on from the new stream's oldest event.
                emit("gap", to_dict(gap))
                note(f"new stream epoch {gap.stream_epoch}; continuing from "
                     f"sequence {gap.oldest_sequence}")
                position.set(gap.stream_epoch, gap.oldest_sequence - 1)
                continue
            if gap is not None or code not in RETRYABLE:
                report = {"code": code, "message": message}
                if gap is not None:
                    report["gap"] = to_dict(gap)
                    emit("gap", report["gap"])
                emit("error", report)
                note(f"{code}: {message}")
                return EXIT_GAP if gap is not None else EXIT_ERROR
            # Transient: back off (full jitter); start over only after a
            # stream that delivered something.
            if got_events:
                failures, delay_cap = 0, 0.1
            failures += 1
            if args.max_retries and failures > args.max_retries:
                note(f"gave up after {failures - 1} retries: {code}: {message}")
                return EXIT_ERROR
            if not lost:
                note(f"connection lost ({code}: {message}); reconnecting")
                lost = True
            time.sleep(random.uniform(0, delay_cap))
            delay_cap = min(delay_cap * 2, 2.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

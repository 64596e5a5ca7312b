#!/usr/bin/python3
"""A hookstream subscriber in Python, generated from protos/.

Subscribes to hookstream.v1.EventStream and prints one JSON line per message
on stdout, each with exactly one key:

  {"event": {...}}       an event (proto field names, e.g. "stream_epoch")
  {"gap": {...}}         events were missed (a Gap message, or the Gap in
                         the rich status details when the stream ends)
  {"heartbeat": {...}}   only with --heartbeats
  {"error": {"code": "NOT_FOUND", "message": "...", "gap": {...}}}
                         the stream ended with an error ("gap" only when
                         the status details carry one)

Exit codes: 0 --max-events reached (or the server ended the stream cleanly),
1 any other error, 2 usage, 3 the stream ended with a Gap (OUT_OF_RANGE or
FAILED_PRECONDITION carrying hookstream.v1.Gap), 4 --timeout reached.

Generate the modules first: ./generate.sh (writes gen/ next to this file).
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("HOOKSTREAM_PY_GEN_DIR", os.path.join(HERE, "gen")))

import grpc  # noqa: E402
from google.protobuf import any_pb2, json_format  # noqa: E402

try:
    from hookstream.v1 import event_stream_pb2, event_stream_pb2_grpc  # noqa: E402
except ImportError:
    sys.exit("subscriber.py: generated modules not found; run ./generate.sh "
             "(or set HOOKSTREAM_PY_GEN_DIR)")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_GAP, EXIT_TIMEOUT = 0, 1, 2, 3, 4
STATUS_DETAILS_KEY = "grpc-status-details-bin"


def to_dict(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def emit(kind, payload):
    print(json.dumps({kind: payload}, separators=(",", ":")), flush=True)


def read_varint(data, pos):
    result, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def gap_from_status_details(details):
    """Returns the hookstream.v1.Gap inside a serialized google.rpc.Status.

    google.rpc.Status is {int32 code = 1; string message = 2;
    repeated google.protobuf.Any details = 3}. Debian ships neither
    status.proto nor grpcio-status, so field 3 is read from the wire format.
    """
    pos = 0
    try:
        while pos < len(details):
            tag, pos = read_varint(details, pos)
            field, wire_type = tag >> 3, tag & 7
            if wire_type == 0:
                _, pos = read_varint(details, pos)
            elif wire_type == 2:
                length, pos = read_varint(details, pos)
                value = details[pos:pos + length]
                pos += length
                if field == 3:
                    detail = any_pb2.Any.FromString(value)
                    gap = event_stream_pb2.Gap()
                    if detail.Unpack(gap):
                        return gap
            elif wire_type == 1:
                pos += 8
            elif wire_type == 5:
                pos += 4
            else:
                return None
    except (IndexError, ValueError):
        return None
    return None


def build_request(args):
    request = event_stream_pb2.SubscribeRequest(
        include_raw_json=args.raw,
        gap_policy=(event_stream_pb2.GAP_POLICY_RESUME_FROM_OLDEST
                    if args.gap_policy == "resume"
                    else event_stream_pb2.GAP_POLICY_FAIL))
    request.filter.types.extend(t for t in args.types.split(",") if t)
    request.filter.accounts.extend(a for a in args.accounts.split(",") if a)
    request.heartbeat_interval.FromSeconds(args.heartbeat_interval)
    if args.from_oldest:
        request.origin = event_stream_pb2.ORIGIN_OLDEST
    elif args.after_sequence is not None:
        request.after_sequence = args.after_sequence
    elif args.after_event_id:
        request.after_event_id = args.after_event_id
    elif args.from_time:
        request.from_time.FromJsonString(args.from_time)
    else:
        request.origin = event_stream_pb2.ORIGIN_LATEST
    if args.epoch:
        request.stream_epoch = args.epoch
    return request


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Subscribe to a hookstream server and print JSON lines.")
    parser.add_argument("--target", default="127.0.0.1:50051",
                        help="gRPC address (default %(default)s)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--from-oldest", action="store_true",
                       help="start at the oldest held event")
    start.add_argument("--from-latest", action="store_true",
                       help="only new events (the default)")
    start.add_argument("--after-sequence", type=int, metavar="N",
                       help="deliver from sequence N+1 (see --epoch)")
    start.add_argument("--after-event-id", metavar="EVT_ID",
                       help="deliver what follows this event id (evt_...)")
    start.add_argument("--from-time", metavar="RFC3339",
                       help="first event received at or after this time")
    parser.add_argument("--epoch", default="",
                        help="the stream epoch --after-sequence belongs to")
    parser.add_argument("--types", default="",
                        help="comma-separated types: exact, prefix.* or *")
    parser.add_argument("--accounts", default="",
                        help="comma-separated accounts (acm_...)")
    parser.add_argument("--gap-policy", choices=["fail", "resume"],
                        default="fail")
    parser.add_argument("--raw", action="store_true",
                        help="include raw_json (base64 in the JSON output)")
    parser.add_argument("--heartbeat-interval", type=int, default=15,
                        metavar="SECONDS")
    parser.add_argument("--heartbeats", action="store_true",
                        help="also print heartbeats")
    parser.add_argument("--max-events", type=int, default=0, metavar="N",
                        help="exit 0 after N events (0: never)")
    parser.add_argument("--timeout", type=float, default=None,
                        metavar="SECONDS",
                        help="give up after this long (exit 4)")
    args = parser.parse_args(argv)
    if args.epoch and args.after_sequence is None:
        parser.error("--epoch goes with --after-sequence")
    return args


def main(argv):
    args = parse_args(argv)
    events = 0
    with grpc.insecure_channel(args.target) as channel:
        stub = event_stream_pb2_grpc.EventStreamStub(channel)
        call = stub.Subscribe(build_request(args), timeout=args.timeout)
        try:
            for response in call:
                kind = response.WhichOneof("message")
                if kind == "events":
                    for event in response.events.events:
                        emit("event", to_dict(event))
                        events += 1
                        if args.max_events and events >= args.max_events:
                            call.cancel()
                            return EXIT_OK
                elif kind == "gap":
                    emit("gap", to_dict(response.gap))
                elif kind == "heartbeat" and args.heartbeats:
                    emit("heartbeat", to_dict(response.heartbeat))
        except grpc.RpcError as error:
            code = error.code()
            gap = None
            for key, value in error.trailing_metadata() or ():
                if key == STATUS_DETAILS_KEY:
                    gap = gap_from_status_details(value)
            report = {"code": code.name, "message": error.details() or ""}
            if gap is not None:
                report["gap"] = to_dict(gap)
                emit("gap", report["gap"])
            emit("error", report)
            print(f"subscriber.py: {code.name}: {error.details()}",
                  file=sys.stderr)
            if gap is not None:
                return EXIT_GAP
            if code == grpc.StatusCode.DEADLINE_EXCEEDED and args.timeout:
                return EXIT_TIMEOUT
            return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

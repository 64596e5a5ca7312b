"""Checks that the hookstream contract compiles for Python and is usable.

Run by ctest (tests/protos/CMakeLists.txt) with Debian's /usr/bin/python3,
which has python3-protobuf and python3-grpcio. It generates
<out-dir>/hookstream/v1/*_pb2*.py with protoc and grpc_python_plugin,
imports them (hookstream/ and hookstream/v1/ are namespace packages, no
__init__.py needed) and asserts the parts of the contract that clients
depend on.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--protoc", required=True)
    parser.add_argument("--grpc-plugin", required=True)
    parser.add_argument("--proto-root", required=True)
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args()

    shutil.rmtree(args.out_dir, ignore_errors=True)
    os.makedirs(args.out_dir)
    protos = sorted(
        os.path.relpath(p, args.proto_root)
        for p in glob.glob(os.path.join(args.proto_root, "hookstream/v1/*.proto")))
    assert len(protos) == 3, protos
    subprocess.run(
        [args.protoc,
         f"--python_out={args.out_dir}",
         f"--grpc_python_out={args.out_dir}",
         f"--plugin=protoc-gen-grpc_python={args.grpc_plugin}",
         f"-I{args.proto_root}", *protos],
        cwd=args.proto_root, check=True)

    sys.path.insert(0, args.out_dir)
    from google.protobuf import descriptor_pb2, json_format
    from hookstream.v1 import (event_pb2, event_stream_pb2,
                               event_stream_pb2_grpc, gettrx_pb2)

    # The service: four methods, only Subscribe streams.
    service = event_stream_pb2.DESCRIPTOR.services_by_name["EventStream"]
    assert service.full_name == "hookstream.v1.EventStream", service.full_name
    methods = {}
    for m in service.methods:
        proto = descriptor_pb2.MethodDescriptorProto()
        m.CopyToProto(proto)
        methods[m.name] = proto
    assert set(methods) == {"Subscribe", "GetEvent", "ListEvents",
                            "GetStreamInfo", "ListSubscribers"}, sorted(methods)
    assert methods["Subscribe"].server_streaming
    assert not methods["Subscribe"].client_streaming
    for name in ("GetEvent", "ListEvents", "GetStreamInfo", "ListSubscribers"):
        assert not methods[name].server_streaming, name
    for name in ("EventStreamStub", "EventStreamServicer",
                 "add_EventStreamServicer_to_server"):
        assert hasattr(event_stream_pb2_grpc, name), name

    # The event: raw_json is bytes and the last field number (kept stable
    # for clients), and the data oneof holds the typed payloads plus `other`.
    fields = event_pb2.Event.DESCRIPTOR.fields_by_name
    raw_json = fields["raw_json"]
    assert raw_json.number == 100 and raw_json.type == raw_json.TYPE_BYTES
    assert max(f.number for f in event_pb2.Event.DESCRIPTOR.fields) == 100
    data = event_pb2.Event.DESCRIPTOR.oneofs_by_name["data"]
    assert {f.name for f in data.fields} == {
        "customer", "refund", "payment_request", "setup_request",
        "payment_method", "application", "other"}, [f.name for f in data.fields]

    # A message built in Python survives the wire and JSON.
    event = event_pb2.Event(id="evt_1", type="refund.pending", source="gettrx",
                            raw_json=b'{"id":"evt_1"}')
    event.refund.amount.CopyFrom(
        gettrx_pb2.Amount(decimal="19.78", units=19, nanos=780000000))
    event.created.FromSeconds(1733379298)
    back = event_pb2.Event.FromString(event.SerializeToString())
    assert back == event
    assert back.WhichOneof("data") == "refund"
    assert back.refund.amount.decimal == "19.78"
    as_json = json_format.MessageToDict(back)
    assert as_json["rawJson"] == "eyJpZCI6ImV2dF8xIn0=", as_json["rawJson"]
    assert as_json["created"] == "2024-12-05T06:14:58Z", as_json["created"]
    print("python contract OK:", ", ".join(protos))
    return 0


if __name__ == "__main__":
    sys.exit(main())

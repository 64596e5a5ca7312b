#!/usr/bin/env node
// A hookstream subscriber in Node: copy it and put your handling in
// handleEvent().
//
// It subscribes to hookstream.v1.EventStream with a filter, prints one JSON
// line per event on stdout, keeps its position (stream epoch + sequence) in a
// state file, reconnects with backoff and resumes right after that position,
// reads a Gap from the rich status details (grpc-status-details-bin ->
// google.rpc.Status -> hookstream.v1.Gap, decoded with protobufjs), and
// speaks TLS and sends a bearer token when given. Same program, same flags,
// as examples/go_subscriber and examples/python_subscriber.
//
// Output, one JSON object per line with one key: {"event": {...}},
// {"gap": {...}} or {"error": {"code": ..., "message": ..., "gap": {...}}}
// (proto field names; 64-bit integers as strings). Exit codes: 0
// --max-events reached; 1 an error retrying cannot fix; 2 usage; 3 events
// were evicted before they were read (--gap-policy fail).
//
// Setup: npm ci (in this folder); run with node subscriber.js [flags].
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const { parseArgs } = require('util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTOS = process.env.HOOKSTREAM_PROTOS || path.join(__dirname, '..', '..', 'protos');
const EXIT = { OK: 0, ERROR: 1, USAGE: 2, GAP: 3 };

function note(text) {
  process.stderr.write(`node_subscriber: ${text}\n`);
}

function options() {
  const env = (name, fallback = '') => process.env[name] || fallback;
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        target: { type: 'string', default: env('HOOKSTREAM_TARGET', '127.0.0.1:50051') },
        tls: { type: 'boolean', default: ['1', 'true', 'yes'].includes(env('HOOKSTREAM_TLS')) },
        cacert: { type: 'string', default: env('HOOKSTREAM_CACERT') },
        cert: { type: 'string', default: env('HOOKSTREAM_CERT') },
        key: { type: 'string', default: env('HOOKSTREAM_KEY') },
        token: { type: 'string', default: env('HOOKSTREAM_TOKEN') },
        from: { type: 'string', default: 'latest' },
        'after-event-id': { type: 'string', default: '' },
        types: { type: 'string', default: '' },
        accounts: { type: 'string', default: '' },
        'state-file': { type: 'string', default: '' },
        'gap-policy': { type: 'string', default: 'fail' },
        'heartbeat-interval': { type: 'string', default: '15' },
        'max-events': { type: 'string', default: '0' },
        'max-retries': { type: 'string', default: '0' },
      },
    }).values;
  } catch (e) {
    note(e.message);
    process.exit(EXIT.USAGE);
  }
  if (!['oldest', 'latest'].includes(parsed.from) ||
      !['fail', 'resume'].includes(parsed['gap-policy']) ||
      !parsed.cert !== !parsed.key) {
    note('bad flags: --from oldest|latest, --gap-policy fail|resume, --cert with --key');
    process.exit(EXIT.USAGE);
  }
  if (parsed.cacert || parsed.cert) parsed.tls = true;
  if (parsed.token && !parsed.tls && !loopbackTarget(parsed.target)) {
    note(`refusing to send the token in clear text to ${parsed.target}: use --tls (plaintext is for loopback only)`);
    process.exit(EXIT.USAGE);
  }
  return parsed;
}

// An IP literal in 127.0.0.0/8 or ::1. A host name never counts (DNS or
// /etc/hosts decide where it goes), as the server decides too.
function loopbackTarget(target) {
  let host = target;
  const bracketed = /^\[([^\]]*)\](:\d+)?$/.exec(target);
  if (bracketed) {
    host = bracketed[1];
  } else if (target.split(':').length === 2) {
    host = target.split(':')[0];
  }
  if (net.isIPv4(host)) return host.split('.')[0] === '127';
  return net.isIPv6(host) && /^(0*:)*:?0*1$/.test(host);
}

// The service through @grpc/proto-loader; google.rpc.Status and the Gap
// through protobufjs, for the rich status details.
const packageDefinition = protoLoader.loadSync('hookstream/v1/event_stream.proto', {
  includeDirs: [PROTOS], keepCase: true, longs: String, enums: String,
  defaults: false, oneofs: true,
});
const hookstream = grpc.loadPackageDefinition(packageDefinition).hookstream.v1;
const root = new protobuf.Root();
root.resolvePath = (origin, target) =>
  target.startsWith('google/protobuf/') ? target : path.join(PROTOS, target);
root.loadSync(['google/rpc/status.proto', 'hookstream/v1/event_stream.proto'], { keepCase: true });
const RpcStatus = root.lookupType('google.rpc.Status');
const Gap = root.lookupType('hookstream.v1.Gap');
const GAP_TYPE_URL = 'type.googleapis.com/hookstream.v1.Gap';

function gapOf(error) {
  const details = error.metadata && error.metadata.get('grpc-status-details-bin');
  if (!details || details.length === 0) return null;
  const status = RpcStatus.decode(details[0]);
  for (const any of status.details) {
    if (any.type_url === GAP_TYPE_URL) {
      return Gap.toObject(Gap.decode(any.value), { longs: String, enums: String });
    }
  }
  return null;
}

function emit(kind, payload) {
  // Bytes (raw_json) as base64, as the proto3 JSON mapping prints them.
  const line = JSON.stringify({ [kind]: payload }, (k, v) =>
    v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('base64') : v);
  process.stdout.write(line + '\n');
}

// The last position delivered: the resume point, kept in a file.
class Position {
  constructor(file) {
    this.file = file;
    this.known = false;
    if (file && fs.existsSync(file)) {
      const state = JSON.parse(fs.readFileSync(file, 'utf8'));
      this.set(state.stream_epoch, String(state.sequence));
    }
  }
  set(epoch, sequence) {
    Object.assign(this, { known: true, epoch, sequence: BigInt(sequence) });
    if (this.file) {  // written whole, then renamed: never half a file
      fs.writeFileSync(this.file + '.tmp',
        JSON.stringify({ stream_epoch: epoch, sequence: Number(this.sequence) }));
      fs.renameSync(this.file + '.tmp', this.file);
    }
  }
}

function request(o, pos) {
  const split = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const r = {
    filter: { types: split(o.types), accounts: split(o.accounts) },
    gap_policy: o['gap-policy'] === 'resume' ? 'GAP_POLICY_RESUME_FROM_OLDEST' : 'GAP_POLICY_FAIL',
    heartbeat_interval: { seconds: o['heartbeat-interval'] },
  };
  if (pos.known) {
    r.after_sequence = pos.sequence.toString();
    r.stream_epoch = pos.epoch;
  } else if (o['after-event-id']) {
    r.after_event_id = o['after-event-id'];
  } else {
    r.origin = o.from === 'oldest' ? 'ORIGIN_OLDEST' : 'ORIGIN_LATEST';
  }
  return r;
}

function client(o) {
  let credentials = grpc.credentials.createInsecure();
  if (o.tls) {
    const read = (f) => (f ? fs.readFileSync(f) : null);
    credentials = grpc.credentials.createSsl(read(o.cacert), read(o.key), read(o.cert));
  }
  // 4 MiB holds every message of a server with the default --max_event_bytes
  // (docs/clients.md, "Message size"); raise it with that flag.
  return new hookstream.EventStream(o.target, credentials,
    { 'grpc.max_receive_message_length': 4 << 20 });
}

// Your code goes here. This one prints the event.
function handleEvent(event) {
  emit('event', event);
}

const codeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code);
const RETRYABLE = new Set(['OK', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'ABORTED',
  'RESOURCE_EXHAUSTED', 'CANCELLED']);

// One stream until it ends; resolves with what ended it.
function stream(stub, o, pos, metadata, state) {
  return new Promise((resolve) => {
    const call = stub.Subscribe(request(o, pos), metadata);
    let gotEvents = false;
    call.on('data', (m) => {
      if (m.message === 'heartbeat') {
        const hb = m.heartbeat;
        const at = BigInt(hb.position || '0');
        if (!pos.known || (hb.stream_epoch === pos.epoch && at > pos.sequence)) {
          pos.set(hb.stream_epoch, at);
        }
        if (state.lost) {
          note(`connected again to ${o.target}`);
          state.lost = false;
        }
      } else if (m.message === 'events') {
        gotEvents = true;
        for (const e of m.events.events) {
          handleEvent(e);
          pos.set(e.stream_epoch, e.sequence);
          state.delivered += 1;
          if (state.maxEvents > 0 && state.delivered >= state.maxEvents) {
            call.cancel();
            resolve({ done: true });
            return;
          }
        }
      } else if (m.message === 'gap') {
        gotEvents = true;
        emit('gap', m.gap);
        pos.set(m.gap.stream_epoch, BigInt(m.gap.oldest_sequence) - 1n);
      }
    });
    call.on('error', (error) => resolve({ gotEvents, code: codeName(error.code),
      message: error.details, gap: gapOf(error) }));
    call.on('end', () => resolve({ gotEvents, code: 'OK', message: 'the server ended the stream' }));
  });
}

async function main() {
  const o = options();
  const pos = new Position(o['state-file']);
  const metadata = new grpc.Metadata();
  if (o.token) metadata.add('authorization', `Bearer ${o.token}`);
  const stub = client(o);
  const state = { delivered: 0, maxEvents: Number(o['max-events']), lost: false };
  const maxRetries = Number(o['max-retries']);
  let failures = 0;
  let delayCap = 100;
  for (;;) {
    const end = await stream(stub, o, pos, metadata, state);
    if (end.done) return EXIT.OK;
    if (end.gap && end.gap.reason === 'GAP_REASON_EPOCH_CHANGED') {
      // The server's stream started over: positions of the old one mean
      // nothing. Go on from the new stream's oldest event.
      emit('gap', end.gap);
      note(`new stream epoch ${end.gap.stream_epoch}; continuing from sequence ${end.gap.oldest_sequence}`);
      pos.set(end.gap.stream_epoch, BigInt(end.gap.oldest_sequence) - 1n);
      continue;
    }
    if (end.gap || !RETRYABLE.has(end.code)) {
      const report = { code: end.code, message: end.message };
      if (end.gap) {
        report.gap = end.gap;
        emit('gap', end.gap);
      }
      emit('error', report);
      note(`${end.code}: ${end.message}`);
      return end.gap ? EXIT.GAP : EXIT.ERROR;
    }
    // Transient: back off (full jitter); start over only after a stream
    // that delivered something.
    if (end.gotEvents) {
      failures = 0;
      delayCap = 100;
    }
    failures += 1;
    if (maxRetries > 0 && failures > maxRetries) {
      note(`gave up after ${failures - 1} retries: ${end.code}: ${end.message}`);
      return EXIT.ERROR;
    }
    if (!state.lost) {
      note(`connection lost (${end.code}: ${end.message}); reconnecting`);
      state.lost = true;
    }
    await new Promise((r) => setTimeout(r, Math.random() * delayCap));
    delayCap = Math.min(delayCap * 2, 2000);
  }
}

main().then((code) => process.exit(code), (e) => {
  note(e.stack || String(e));
  process.exit(EXIT.ERROR);
});

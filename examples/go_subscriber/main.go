// A hookstream subscriber in Go: copy it and put your handling in
// handleEvent().
//
// It subscribes to hookstream.v1.EventStream with a filter, prints one JSON
// line per event on stdout, keeps its position (stream epoch + sequence) in a
// state file, reconnects with backoff and resumes right after that position,
// reads a Gap from the rich status details (status.FromError(err).Details()),
// and speaks TLS and sends a bearer token when given. Same program, same
// flags, as examples/python_subscriber and examples/node_subscriber.
//
// Output, one JSON object per line with one key: {"event": {...}},
// {"gap": {...}} or {"error": {"code": ..., "message": ..., "gap": {...}}}
// (proto field names; 64-bit integers as strings, the proto3 JSON mapping).
// Exit codes: 0 --max-events reached; 1 an error retrying cannot fix; 2 usage;
// 3 events were evicted before they were read (--gap-policy fail).
//
// Build: ./build.sh OUT_DIR (generates the code from protos/ and builds with
// Debian's Go packages in GOPATH mode); see README.md for module users.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"math/rand"
	"net"
	"os"
	"strings"
	"time"

	"github.com/golang/protobuf/jsonpb"
	"github.com/golang/protobuf/proto"
	"github.com/golang/protobuf/ptypes/duration"
	hookstreamv1 "github.com/hookstream/hookstream/gen/go/hookstream/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	exitGap   = 3
)

type options struct {
	target, cacert, cert, key, token string
	tls                              bool
	from, afterEventID               string
	types, accounts                  string
	stateFile, gapPolicy             string
	heartbeatSeconds                 int64
	maxEvents, maxRetries            int
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.target, "target", env("HOOKSTREAM_TARGET", "127.0.0.1:50051"), "gRPC address (env HOOKSTREAM_TARGET)")
	tlsEnv := env("HOOKSTREAM_TLS", "")
	flag.BoolVar(&o.tls, "tls", tlsEnv == "1" || tlsEnv == "true" || tlsEnv == "yes", "speak TLS (env HOOKSTREAM_TLS=1; implied by --cacert)")
	flag.StringVar(&o.cacert, "cacert", env("HOOKSTREAM_CACERT", ""), "PEM CA the server must chain to (env HOOKSTREAM_CACERT)")
	flag.StringVar(&o.cert, "cert", env("HOOKSTREAM_CERT", ""), "PEM client certificate for mTLS (env HOOKSTREAM_CERT)")
	flag.StringVar(&o.key, "key", env("HOOKSTREAM_KEY", ""), "PEM key of --cert (env HOOKSTREAM_KEY)")
	flag.StringVar(&o.token, "token", env("HOOKSTREAM_TOKEN", ""), "bearer token (env HOOKSTREAM_TOKEN)")
	flag.StringVar(&o.from, "from", "latest", "where to start without a state file: oldest or latest")
	flag.StringVar(&o.afterEventID, "after-event-id", "", "start after this event id instead")
	flag.StringVar(&o.types, "types", "", "comma-separated type patterns")
	flag.StringVar(&o.accounts, "accounts", "", "comma-separated accounts")
	flag.StringVar(&o.stateFile, "state-file", "", "keeps {stream_epoch, sequence}; resumed from at start")
	flag.StringVar(&o.gapPolicy, "gap-policy", "fail", "fail or resume")
	flag.Int64Var(&o.heartbeatSeconds, "heartbeat-interval", 15, "seconds")
	flag.IntVar(&o.maxEvents, "max-events", 0, "exit 0 after N events (0: never)")
	flag.IntVar(&o.maxRetries, "max-retries", 0, "give up after N failed attempts in a row (0: never)")
	flag.Parse()
	if flag.NArg() > 0 || (o.from != "oldest" && o.from != "latest") ||
		(o.gapPolicy != "fail" && o.gapPolicy != "resume") || (o.cert == "") != (o.key == "") {
		flag.Usage()
		os.Exit(exitUsage)
	}
	if o.cacert != "" || o.cert != "" {
		o.tls = true
	}
	if o.token != "" && !o.tls && !loopbackTarget(o.target) {
		note("refusing to send the token in clear text to %s: use --tls (plaintext is for loopback only)", o.target)
		os.Exit(exitUsage)
	}
	return o
}

// loopbackTarget: an IP literal in 127.0.0.0/8 or ::1. A host name never
// counts (DNS or /etc/hosts decide where it goes), as the server decides too.
func loopbackTarget(target string) bool {
	host := target
	if h, _, err := net.SplitHostPort(target); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func note(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go_subscriber: "+format+"\n", args...)
}

var marshaler = jsonpb.Marshaler{OrigName: true}

func emit(kind string, m proto.Message) {
	var buf bytes.Buffer
	if err := marshaler.Marshal(&buf, m); err != nil {
		note("cannot print %s: %v", kind, err)
		return
	}
	fmt.Printf("{%q:%s}\n", kind, buf.String())
}

// position is the last position delivered: the resume point, kept in a file.
type position struct {
	path     string
	known    bool
	Epoch    string `json:"stream_epoch"`
	Sequence uint64 `json:"sequence"`
}

func loadPosition(path string) (*position, error) {
	p := &position{path: path}
	if path == "" {
		return p, nil
	}
	data, err := ioutil.ReadFile(path)
	if os.IsNotExist(err) {
		return p, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	p.known = true
	return p, nil
}

func (p *position) set(epoch string, sequence uint64) {
	p.known, p.Epoch, p.Sequence = true, epoch, sequence
	if p.path == "" {
		return
	}
	data, _ := json.Marshal(p)
	// Written whole, then renamed: never half a file.
	if err := ioutil.WriteFile(p.path+".tmp", data, 0o600); err == nil {
		os.Rename(p.path+".tmp", p.path)
	}
}

func split(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func buildRequest(o options, p *position) *hookstreamv1.SubscribeRequest {
	r := &hookstreamv1.SubscribeRequest{
		Filter:            &hookstreamv1.EventFilter{Types: split(o.types), Accounts: split(o.accounts)},
		GapPolicy:         hookstreamv1.GapPolicy_GAP_POLICY_FAIL,
		HeartbeatInterval: &duration.Duration{Seconds: o.heartbeatSeconds},
	}
	if o.gapPolicy == "resume" {
		r.GapPolicy = hookstreamv1.GapPolicy_GAP_POLICY_RESUME_FROM_OLDEST
	}
	switch {
	case p.known:
		r.Start = &hookstreamv1.SubscribeRequest_AfterSequence{AfterSequence: p.Sequence}
		r.StreamEpoch = p.Epoch
	case o.afterEventID != "":
		r.Start = &hookstreamv1.SubscribeRequest_AfterEventId{AfterEventId: o.afterEventID}
	case o.from == "oldest":
		r.Start = &hookstreamv1.SubscribeRequest_Origin{Origin: hookstreamv1.Origin_ORIGIN_OLDEST}
	default:
		r.Start = &hookstreamv1.SubscribeRequest_Origin{Origin: hookstreamv1.Origin_ORIGIN_LATEST}
	}
	return r
}

func dial(o options) (*grpc.ClientConn, error) {
	// 4 MiB holds every message of a server with the default --max_event_bytes
	// (docs/clients.md, "Message size"); raise it with that flag.
	opts := []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4 << 20))}
	if !o.tls {
		return grpc.Dial(o.target, append(opts, grpc.WithInsecure())...)
	}
	config := &tls.Config{}
	if o.cacert != "" {
		pem, err := ioutil.ReadFile(o.cacert)
		if err != nil {
			return nil, err
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", o.cacert)
		}
	}
	if o.cert != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return grpc.Dial(o.target, append(opts, grpc.WithTransportCredentials(credentials.NewTLS(config)))...)
}

// gapOf returns the hookstream.v1.Gap in the rich status details, if any.
func gapOf(err error) *hookstreamv1.Gap {
	s, ok := status.FromError(err)
	if !ok {
		return nil
	}
	for _, detail := range s.Details() {
		if gap, ok := detail.(*hookstreamv1.Gap); ok {
			return gap
		}
	}
	return nil
}

// handleEvent is where your code goes. This one prints the event.
func handleEvent(e *hookstreamv1.Event) { emit("event", e) }

func retryable(c codes.Code) bool {
	switch c {
	case codes.OK, codes.Unavailable, codes.DeadlineExceeded, codes.Aborted,
		codes.ResourceExhausted, codes.Canceled:
		return true
	}
	return false
}

func run(o options) int {
	pos, err := loadPosition(o.stateFile)
	if err != nil {
		note("%v", err)
		return exitError
	}
	conn, err := dial(o)
	if err != nil {
		note("%v", err)
		return exitError
	}
	defer conn.Close()
	client := hookstreamv1.NewEventStreamClient(conn)
	ctx := context.Background()
	if o.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+o.token)
	}
	delivered, failures, lost := 0, 0, false
	delayCap := 100 * time.Millisecond
	for {
		gotEvents := false
		streamCtx, cancel := context.WithCancel(ctx)
		stream, err := client.Subscribe(streamCtx, buildRequest(o, pos))
		for err == nil {
			var m *hookstreamv1.SubscribeResponse
			if m, err = stream.Recv(); err != nil {
				break
			}
			switch msg := m.Message.(type) {
			case *hookstreamv1.SubscribeResponse_Heartbeat:
				hb := msg.Heartbeat
				if !pos.known || (hb.StreamEpoch == pos.Epoch && hb.Position > pos.Sequence) {
					pos.set(hb.StreamEpoch, hb.Position)
				}
				if lost {
					note("connected again to %s", o.target)
					lost = false
				}
			case *hookstreamv1.SubscribeResponse_Events:
				gotEvents = true
				for _, e := range msg.Events.Events {
					handleEvent(e)
					pos.set(e.StreamEpoch, e.Sequence)
					delivered++
					if o.maxEvents > 0 && delivered >= o.maxEvents {
						cancel()
						return exitOK
					}
				}
			case *hookstreamv1.SubscribeResponse_Gap:
				gotEvents = true
				emit("gap", msg.Gap)
				pos.set(msg.Gap.StreamEpoch, msg.Gap.OldestSequence-1)
			}
		}
		cancel()
		code, message := status.Code(err), status.Convert(err).Message()
		if err == io.EOF {
			code, message = codes.OK, "the server ended the stream"
		}
		gap := gapOf(err)
		if gap != nil && gap.Reason == hookstreamv1.GapReason_GAP_REASON_EPOCH_CHANGED {
			// The server's stream started over: positions of the old one mean
			// nothing. Go on from the new stream's oldest event.
			emit("gap", gap)
			note("new stream epoch %s; continuing from sequence %d", gap.StreamEpoch, gap.OldestSequence)
			pos.set(gap.StreamEpoch, gap.OldestSequence-1)
			continue
		}
		if gap != nil || !retryable(code) {
			report := map[string]interface{}{"code": strings.ToUpper(toSnake(code.String())), "message": message}
			if gap != nil {
				emit("gap", gap)
				var buf bytes.Buffer
				marshaler.Marshal(&buf, gap)
				report["gap"] = json.RawMessage(buf.Bytes())
			}
			line, _ := json.Marshal(map[string]interface{}{"error": report})
			fmt.Println(string(line))
			note("%v: %s", code, message)
			if gap != nil {
				return exitGap
			}
			return exitError
		}
		// Transient: back off (full jitter); start over only after a stream
		// that delivered something.
		if gotEvents {
			failures, delayCap = 0, 100*time.Millisecond
		}
		failures++
		if o.maxRetries > 0 && failures > o.maxRetries {
			note("gave up after %d retries: %v: %s", failures-1, code, message)
			return exitError
		}
		if !lost {
			note("connection lost (%v: %s); reconnecting", code, message)
			lost = true
		}
		time.Sleep(time.Duration(rand.Int63n(int64(delayCap) + 1)))
		if delayCap *= 2; delayCap > 2*time.Second {
			delayCap = 2 * time.Second
		}
	}
}

// toSnake turns grpc-go's code names (OutOfRange) into the canonical
// OUT_OF_RANGE the other examples print.
func toSnake(s string) string {
	if s == "Canceled" {
		return "CANCELLED"
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func main() {
	rand.Seed(time.Now().UnixNano())
	os.Exit(run(parseFlags()))
}

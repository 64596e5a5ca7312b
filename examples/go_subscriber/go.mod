// For users with a Go module proxy. The tests build this example in GOPATH
// mode against Debian's packages instead (build.sh), which have no proxy:
// keep the versions compatible with those (golang/protobuf API v1 code from
// protoc-gen-go 1.3.x, grpc-go 1.33).
//
// Generate the hookstream package into ./gen first:
//   protoc -I../../protos --go_out=plugins=grpc,paths=source_relative:gen \
//     ../../protos/hookstream/v1/*.proto
// and keep the replace directive below pointing at it (add a go.mod there
// declaring `module github.com/hookstream/hookstream/gen/go/hookstream/v1`).
module github.com/hookstream/hookstream/examples/go_subscriber

go 1.19

require (
	github.com/golang/protobuf v1.3.5
	github.com/hookstream/hookstream/gen/go/hookstream/v1 v0.0.0
	google.golang.org/grpc v1.33.3
)

replace github.com/hookstream/hookstream/gen/go/hookstream/v1 => ./gen/hookstream/v1

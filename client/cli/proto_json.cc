#include "client/cli/proto_json.h"

#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/wrappers.pb.h"

namespace hookstream::cli {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Protobuf's own printer for the leaves whose JSON form it defines: the
// well-known types (Timestamp, Struct, …) and strings, doubles and bytes
// through their wrappers (escaping, NaN, shortest round-trip digits).
std::string ProtobufJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) {
    return "null";
  }
  return out;
}

bool IsWellKnown(const google::protobuf::Descriptor* d) {
  return d->file()->name().rfind("google/protobuf/", 0) == 0;
}

class Printer {
 public:
  explicit Printer(const JsonOptions& options) : options_(options) {}

  void PrintMessage(const Message& m, int depth) {
    if (IsWellKnown(m.GetDescriptor())) {
      // On one line even when indenting: valid JSON either way.
      out_ += ProtobufJson(m);
      return;
    }
    const Reflection* r = m.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    if (options_.all_fields) {
      const auto* d = m.GetDescriptor();
      for (int i = 0; i < d->field_count(); ++i) {
        const FieldDescriptor* f = d->field(i);
        const bool set =
            f->is_repeated() ? r->FieldSize(m, f) > 0 : r->HasField(m, f);
        // Unset messages and oneof members stay out, as in proto3 JSON.
        if (set || (!f->is_repeated() && f->containing_oneof() == nullptr &&
                    f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE)) {
          fields.push_back(f);
        }
      }
    } else {
      r->ListFields(m, &fields);
    }
    out_ += "{";
    bool first = true;
    for (const FieldDescriptor* f : fields) {
      if (!first) out_ += ",";
      first = false;
      Newline(depth + 1);
      absl::StrAppend(&out_, "\"", f->name(), "\":", Space());
      if (f->is_map()) {
        PrintMap(m, f, depth + 1);
      } else if (f->is_repeated()) {
        out_ += "[";
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          if (i > 0) out_ += ",";
          Newline(depth + 2);
          PrintValue(m, f, i, depth + 2);
        }
        if (r->FieldSize(m, f) > 0) Newline(depth + 1);
        out_ += "]";
      } else {
        PrintValue(m, f, -1, depth + 1);
      }
    }
    if (!fields.empty()) Newline(depth);
    out_ += "}";
  }

  std::string Take() { return std::move(out_); }

 private:
  void PrintMap(const Message& m, const FieldDescriptor* f, int depth) {
    const Reflection* r = m.GetReflection();
    out_ += "{";
    for (int i = 0; i < r->FieldSize(m, f); ++i) {
      const Message& entry = r->GetRepeatedMessage(m, f, i);
      const FieldDescriptor* key = f->message_type()->map_key();
      const FieldDescriptor* value = f->message_type()->map_value();
      if (i > 0) out_ += ",";
      Newline(depth + 1);
      // JSON object keys are strings: integer and bool keys as text.
      google::protobuf::StringValue key_text;
      if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        key_text.set_value(entry.GetReflection()->GetString(entry, key));
      } else {
        Printer scalar(options_);
        scalar.PrintValue(entry, key, -1, 0);
        key_text.set_value(scalar.Take());
      }
      absl::StrAppend(&out_, ProtobufJson(key_text), ":", Space());
      PrintValue(entry, value, -1, depth + 1);
    }
    if (r->FieldSize(m, f) > 0) Newline(depth);
    out_ += "}";
  }

  // One value of `f` (element `index` when repeated, else -1).
  void PrintValue(const Message& m, const FieldDescriptor* f, int index,
                  int depth) {
    const Reflection* r = m.GetReflection();
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        absl::StrAppend(
            &out_, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
        return;
      case FieldDescriptor::CPPTYPE_INT64:
        absl::StrAppend(
            &out_, rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
        return;
      case FieldDescriptor::CPPTYPE_UINT32:
        absl::StrAppend(&out_, rep ? r->GetRepeatedUInt32(m, f, index)
                                   : r->GetUInt32(m, f));
        return;
      case FieldDescriptor::CPPTYPE_UINT64:
        absl::StrAppend(&out_, rep ? r->GetRepeatedUInt64(m, f, index)
                                   : r->GetUInt64(m, f));
        return;
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        google::protobuf::DoubleValue v;
        v.set_value(rep ? r->GetRepeatedDouble(m, f, index)
                        : r->GetDouble(m, f));
        out_ += ProtobufJson(v);
        return;
      }
      case FieldDescriptor::CPPTYPE_FLOAT: {
        google::protobuf::FloatValue v;
        v.set_value(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
        out_ += ProtobufJson(v);
        return;
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f))
                    ? "true"
                    : "false";
        return;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int number =
            rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
        const auto* value = f->enum_type()->FindValueByNumber(number);
        if (value == nullptr) {
          absl::StrAppend(&out_, number);
        } else {
          absl::StrAppend(&out_, "\"", value->name(), "\"");
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        const std::string s =
            rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
        if (f->type() == FieldDescriptor::TYPE_BYTES) {
          // The webhook body is JSON: show it as JSON, not base64.
          if (f->name() == "raw_json") {
            if (std::optional<std::string> json = CompactJson(s)) {
              out_ += *json;
              return;
            }
          }
          google::protobuf::BytesValue v;
          v.set_value(s);
          out_ += ProtobufJson(v);
          return;
        }
        google::protobuf::StringValue v;
        v.set_value(s);
        out_ += ProtobufJson(v);
        return;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        PrintMessage(
            rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f),
            depth);
        return;
    }
  }

  void Newline(int depth) {
    if (options_.indent > 0) {
      out_ += "\n";
      out_.append(static_cast<size_t>(depth * options_.indent), ' ');
    }
  }
  const char* Space() const { return options_.indent > 0 ? " " : ""; }

  const JsonOptions& options_;
  std::string out_;
};

}  // namespace

std::string ToJson(const Message& message, const JsonOptions& options) {
  Printer printer(options);
  printer.PrintMessage(message, 0);
  return printer.Take();
}

std::optional<std::string> CompactJson(absl::string_view text) {
  // Protobuf's JSON parser validates it (no parser of our own).
  google::protobuf::Value value;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(text.data(), text.size()), &value)
           .ok()) {
    return std::nullopt;
  }
  // Valid JSON: every byte outside a string that is whitespace separates
  // tokens that need no separator, so it can go; strings stay byte for byte.
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace hookstream::cli

# HOOKSTREAM_SANITIZE=address,undefined or thread: instrument everything we
# compile (Debian's gRPC and Protobuf are not instrumented; see docs).
if(HOOKSTREAM_SANITIZE)
  add_compile_options(-fsanitize=${HOOKSTREAM_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HOOKSTREAM_SANITIZE})
endif()

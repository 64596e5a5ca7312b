# HOOKSTREAM_SANITIZE=address,undefined or thread: instrument everything we
# compile (Debian's gRPC and Protobuf are not instrumented; see docs).
if(HOOKSTREAM_SANITIZE)
  add_compile_options(-fsanitize=${HOOKSTREAM_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HOOKSTREAM_SANITIZE})
endif()

# The fuzz build instruments everything for libFuzzer's coverage feedback;
# only the fuzz executables link its main (-fsanitize=fuzzer).
if(HOOKSTREAM_BUILD_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# hookstream_cc_library(NAME n [HDRS ...] [SRCS ...] [DEPS ...] [PRIVATE_DEPS ...])
#   One library per folder, used only through its alias hookstream::<n>.
# hookstream_cc_test(NAME n SRCS ... [DEPS ...] [LABELS ...])
#   A GoogleTest binary registered with ctest (gtest_discover_tests).

set(HOOKSTREAM_WARNINGS -Wall -Wextra -Wno-unused-parameter)

function(hookstream_cc_library)
  cmake_parse_arguments(L "" "NAME" "HDRS;SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target hookstream_${L_NAME})
  if(L_SRCS)
    add_library(${target} STATIC ${L_SRCS} ${L_HDRS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} PUBLIC ${L_DEPS} PRIVATE ${L_PRIVATE_DEPS})
    target_compile_options(${target} PRIVATE ${HOOKSTREAM_WARNINGS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${L_DEPS})
  endif()
  add_library(hookstream::${L_NAME} ALIAS ${target})
endfunction()

function(hookstream_cc_test)
  cmake_parse_arguments(T "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} hookstream::testing
                        GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_options(${T_NAME} PRIVATE ${HOOKSTREAM_WARNINGS})
  target_compile_definitions(${T_NAME} PRIVATE
    HOOKSTREAM_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/tests/testdata")
  include(GoogleTest)
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT 300)
  # Labels are set by a script that ctest runs after discovery: passed through
  # PROPERTIES, a list like "unit;concurrency" is split and all but the first
  # label are lost (CMake 3.25's GoogleTest module).
  if(T_LABELS)
    set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${T_NAME}_labels.cmake)
    file(WRITE ${labels_file}
      "if(DEFINED ${T_NAME}_TESTS)\n"
      "  set_tests_properties(\${${T_NAME}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\n"
      "endif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
  endif()
  # Tests labelled tsan form the `tsan_tests` target that `make test-tsan`
  # builds with ThreadSanitizer: only code free of uninstrumented libraries
  # (Debian's gRPC, Protobuf maps, Abseil's Mutex are not instrumented).
  # Every test but the examples' (Go, Node, Python clients) forms the
  # `sanitizer_tests` target that `make test-sanitizers` builds with ASan +
  # UBSan.
  if(NOT "examples" IN_LIST T_LABELS)
    set_property(GLOBAL APPEND PROPERTY HOOKSTREAM_SANITIZER_TESTS ${T_NAME})
  endif()
  if("tsan" IN_LIST T_LABELS)
    set_property(GLOBAL APPEND PROPERTY HOOKSTREAM_TSAN_TESTS ${T_NAME})
  endif()
endfunction()

# proton-beam-daemon: the relay-subscribing live archiver (docs/daemon.md).
file(GLOB PB_DAEMON_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/daemon/*.cpp)
add_library(pb_daemon STATIC ${PB_DAEMON_SOURCES})
target_include_directories(pb_daemon PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(pb_daemon PUBLIC pb_ingest pb_s3 pb_archive pb_nostr pb_base pb_net CLI11::CLI11
  tomlplusplus::tomlplusplus spdlog::spdlog fmt::fmt PkgConfig::SECP256K1 OpenSSL::Crypto)

add_executable(proton-beam-daemon ${CMAKE_CURRENT_SOURCE_DIR}/src/daemon_main/main.cpp)
target_link_libraries(proton-beam-daemon PRIVATE pb_daemon)
set_target_properties(proton-beam-daemon PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)

target_link_libraries(pb_unit_tests PRIVATE pb_daemon)

# Integration tests against real and hostile relays (tests/relay/).
pb_add_script_tests(tests/daemon integration.test_ 300)

# pb_serve: `proton-beam serve` (read-only relay, REST API, web page). Uses base, nostr, archive, query, ops
# and net (tests/layering/check_layers.py).
file(GLOB PB_SERVE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/serve/*.cpp)
add_library(pb_serve STATIC ${PB_SERVE_SOURCES})
target_include_directories(pb_serve PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(pb_serve PUBLIC pb_query pb_ops pb_net pb_archive pb_nostr pb_base spdlog::spdlog fmt::fmt)
target_link_libraries(proton-beam PRIVATE pb_serve tomlplusplus::tomlplusplus)
target_link_libraries(pb_unit_tests PRIVATE pb_serve)

# Integration tests (tests/serve/test_*.sh), each registered as integration.test_serve_<name>.
pb_add_script_tests(tests/serve integration.test_serve_ 300)

# pb_serve: `proton-beam serve` (read-only relay, REST API, web page). Uses base, nostr, archive, query, ops
# and net (tests/layering/check_layers.py).
file(GLOB PB_SERVE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/serve/*.cpp)
add_library(pb_serve STATIC ${PB_SERVE_SOURCES})
target_include_directories(pb_serve PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(pb_serve PUBLIC pb_query pb_ops pb_net pb_archive pb_nostr pb_base spdlog::spdlog fmt::fmt)
target_link_libraries(proton-beam PRIVATE pb_serve)
target_link_libraries(pb_unit_tests PRIVATE pb_serve)

# Integration tests (tests/serve/test_*.sh), each registered as integration.test_serve_<name>.
file(GLOB PB_SERVE_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/serve/test_*.sh)
foreach(script ${PB_SERVE_TESTS})
  get_filename_component(name ${script} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${name})
  add_test(NAME integration.test_serve_${short} COMMAND bash ${script})
  set_tests_properties(integration.test_serve_${short} PROPERTIES
    ENVIRONMENT "PB_BIN=${CMAKE_BINARY_DIR}/bin;PB_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}"
    TIMEOUT 300)
endforeach()

# pb_net: HTTP/WebSocket client and server on Boost.Asio/Beast + OpenSSL. A bottom layer: it uses no
# other src/ folder. Only ws_client.cpp, http_get.cpp, http_server.cpp and ws_server_session.cpp include Beast.
file(GLOB PB_NET_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/net/*.cpp)
add_library(pb_net STATIC ${PB_NET_SOURCES})
target_include_directories(pb_net PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(pb_net PUBLIC Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)

file(GLOB PB_NET_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/net/*.cpp)
if(PB_NET_TEST_SOURCES)
  add_executable(pb_net_tests ${PB_NET_TEST_SOURCES})
  target_link_libraries(pb_net_tests PRIVATE pb_net GTest::gtest_main)
  gtest_discover_tests(pb_net_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endif()

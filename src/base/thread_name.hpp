// Names the calling thread for `top -H`, `ps -L`, perf and gdb (Linux keeps at most 15 characters).
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace pb {

inline void name_this_thread(std::string_view name) {
  const std::string n(name.substr(0, 15));
  pthread_setname_np(pthread_self(), n.c_str());
}

}  // namespace pb

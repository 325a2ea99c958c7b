// The daemon's stages talk through the project's one bounded queue (base/bounded_queue.hpp): the io
// thread uses its non-blocking try_push and on_room callback to pause and resume a relay.
#pragma once

#include "base/bounded_queue.hpp"

namespace pb::daemon {

template <typename T>
using WorkQueue = BoundedQueue<T>;

}  // namespace pb::daemon

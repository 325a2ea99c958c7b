#include "net/body_stream.hpp"

#include <utility>

namespace pb::net {

void BodyStream::write(std::string piece) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (end_ != End::open || abandoned_ || piece.empty()) return;
    queue_.push_back(std::move(piece));
    wake = wake_;
  }
  if (wake) wake();
}

void BodyStream::finish() { end(End::finished); }
void BodyStream::abort() { end(End::aborted); }

void BodyStream::end(End how) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (end_ != End::open) return;
    end_ = how;
    wake = wake_;
  }
  if (wake) wake();
}

bool BodyStream::abandoned() const {
  std::lock_guard lock(mu_);
  return abandoned_;
}

void BodyStream::on_ready(std::function<void()> wake) {
  std::function<void()> now;
  {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
    if (!queue_.empty() || end_ != End::open) now = wake_;
  }
  if (now) now();
}

std::deque<std::string> BodyStream::take(End& end) {
  std::lock_guard lock(mu_);
  end = end_;
  return std::exchange(queue_, {});
}

void BodyStream::abandon() {
  std::function<void()> dropped;  // may own the connection: released after the lock
  std::lock_guard lock(mu_);
  abandoned_ = true;
  queue_.clear();
  dropped = std::exchange(wake_, nullptr);
}

}  // namespace pb::net

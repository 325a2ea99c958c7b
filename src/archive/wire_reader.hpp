// A bounds-checked cursor over protobuf wire format, shared by the record readers (proto_codec,
// record_view). Every read fails cleanly at the end of input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pb::detail {

class WireReader {
 public:
  explicit WireReader(std::string_view b)
      : p_(reinterpret_cast<const std::uint8_t*>(b.data())), end_(p_ + b.size()) {}

  bool done() const { return p_ == end_; }

  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const std::uint8_t byte = *p_++;
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;  // more than 10 bytes
  }

  bool bytes(std::string_view& out) {
    std::uint64_t len;
    if (!varint(len) || len > static_cast<std::uint64_t>(end_ - p_)) return false;
    out = {reinterpret_cast<const char*>(p_), static_cast<std::size_t>(len)};
    p_ += len;
    return true;
  }

  // Skips a field's value of `wire_type` (what protobuf does with unknown fields).
  bool skip(std::uint32_t wire_type, std::uint32_t field, int depth = 0) {
    std::uint64_t v;
    std::string_view sv;
    switch (wire_type) {
      case 0: return varint(v);
      case 1: return advance(8);
      case 2: return bytes(sv);
      case 5: return advance(4);
      case 3:  // a group: skip fields until its end-group tag
        if (depth > 64) return false;
        for (;;) {
          std::uint32_t f, wt;
          if (!key(f, wt)) return false;
          if (wt == 4) return f == field;
          if (!skip(wt, f, depth + 1)) return false;
        }
      default: return false;
    }
  }

  bool key(std::uint32_t& field, std::uint32_t& wire_type) {
    std::uint64_t k;
    if (!varint(k) || k > 0xffffffffu) return false;
    field = static_cast<std::uint32_t>(k >> 3);
    wire_type = static_cast<std::uint32_t>(k & 7);
    return field != 0;
  }

 private:
  bool advance(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace pb::detail

#pragma once
/// Writes JSON objects as text directly, byte for byte what nlohmann's
/// `dump()` gives for the same members (no JSON tree on hot paths: an
/// order's answer, a notification). Members come out in the order they are
/// added: add them sorted by key, as nlohmann's objects are.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::domain {

class JsonText {
 public:
  /// Appends members to `out`; the braces are the caller's.
  explicit JsonText(std::string& out) : out_(out) {}

  JsonText& key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return *this;
  }
  JsonText& str(std::string_view k, std::string_view v) {
    key(k);
    quote(out_, v);
    return *this;
  }
  JsonText& num(std::string_view k, std::int64_t v) {
    key(k);
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }

  /// `v` as a JSON string, escaped as nlohmann's dump escapes it.
  static void quote(std::string& out, std::string_view v) {
    static constexpr const char* hex = "0123456789abcdef";
    out += '"';
    size_t run = 0;  // start of the stretch that needs no escaping
    for (size_t i = 0; i < v.size(); ++i) {
      const char c = v[i];
      const char* esc = nullptr;
      switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) >= 0x20) continue;
      }
      out.append(v.data() + run, i - run);
      run = i + 1;
      if (esc) {
        out += esc;
      } else {
        out += "\\u00";
        out += hex[(c >> 4) & 0xf];
        out += hex[c & 0xf];
      }
    }
    out.append(v.data() + run, v.size() - run);
    out += '"';
  }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace troupe::domain

#include "domain/fields.hpp"

namespace troupe::domain::fields {

Writer::Writer(std::string_view tag, size_t reserve) {
  out_.reserve(reserve);
  out_.append(tag);
}

Writer& Writer::add(std::string_view v) {
  out_.push_back('\t');
  for (char c : v) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\t') out_ += "\\t";
    else if (c == '\n') out_ += "\\n";
    else out_.push_back(c);
  }
  return *this;
}

Writer& Writer::add(std::int64_t v) {
  out_.push_back('\t');
  out_ += std::to_string(v);
  return *this;
}

Reader::Reader(std::string_view s) {
  fields_.emplace_back();
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\t') {
      fields_.emplace_back();
    } else if (c == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      fields_.back().push_back(n == 't' ? '\t' : n == 'n' ? '\n' : n);
    } else {
      fields_.back().push_back(c);
    }
  }
}

std::string Reader::text() {
  if (next_ >= fields_.size()) {
    ok_ = false;
    return {};
  }
  return std::move(fields_[next_++]);
}

std::int64_t Reader::number() {
  const std::string s = text();
  if (!ok_) return 0;
  const bool neg = !s.empty() && s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (i == s.size() || s.size() - i > 18) {
    ok_ = false;
    return 0;
  }
  std::int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') {
      ok_ = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

}  // namespace troupe::domain::fields

#include "domain/fields.hpp"

#include <charconv>

namespace troupe::domain::fields {

Writer::Writer(std::string_view tag, size_t reserve) {
  out_.reserve(reserve);
  out_.append(tag);
}

Writer::Writer(std::string&& line, std::string_view tag) : out_(std::move(line)) { out_.append(tag); }

Writer& Writer::add(std::string_view v) {
  out_.push_back('\t');
  size_t run = 0;  // start of the characters not appended yet
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c != '\\' && c != '\t' && c != '\n') continue;
    out_.append(v.data() + run, i - run);
    out_.push_back('\\');
    out_.push_back(c == '\t' ? 't' : c == '\n' ? 'n' : '\\');
    run = i + 1;
  }
  out_.append(v.data() + run, v.size() - run);
  return *this;
}

Writer& Writer::add(std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.push_back('\t');
  out_.append(buf, static_cast<size_t>(r.ptr - buf));
  return *this;
}

// A tab separates fields unless a backslash escapes it; a backslash escapes
// the character after it (a last one stands for itself).
Reader::Reader(std::string_view line) : line_(line) {
  for (size_t i = 0; i < line_.size(); ++i) {
    if (line_[i] == '\\')
      ++i;
    else if (line_[i] == '\t')
      ++size_;
  }
}

std::string Reader::text() {
  if (next_ >= size_) {
    ok_ = false;
    return {};
  }
  ++next_;
  size_t end = pos_;
  bool escaped = false;
  while (end < line_.size() && line_[end] != '\t') {
    if (line_[end] == '\\' && end + 1 < line_.size()) {
      escaped = true;
      end += 2;
    } else {
      ++end;
    }
  }
  std::string out;
  if (!escaped) {
    out.assign(line_.substr(pos_, end - pos_));
  } else {
    out.reserve(end - pos_);
    for (size_t i = pos_; i < end; ++i) {
      char c = line_[i];
      if (c == '\\' && i + 1 < end) {
        const char n = line_[++i];
        c = n == 't' ? '\t' : n == 'n' ? '\n' : n;
      }
      out.push_back(c);
    }
  }
  pos_ = end + 1;
  return out;
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

#pragma once
/// Tab-separated fields: the compact stored form of records written on every
/// order (events, orders). One line; '\\', tab and newline inside a field are
/// escaped. Much cheaper to write and read than JSON, and about half the size.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::domain::fields {

/// Appends fields to a line: the first one is the record's tag.
class Writer {
 public:
  explicit Writer(std::string_view tag, size_t reserve = 256);
  /// Continues `line` (moved in; take() hands it back): the tag and then
  /// the fields are appended to what it holds (no second buffer to copy).
  Writer(std::string&& line, std::string_view tag);
  Writer& add(std::string_view v);
  Writer& add(std::int64_t v);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

/// Reads the fields of a line in order; any misuse (too few fields, a
/// number that is not one) sets `ok()` to false instead of throwing. The
/// line is read in place: it must outlive the reader.
class Reader {
 public:
  explicit Reader(std::string_view line);
  size_t size() const { return size_; }
  bool ok() const { return ok_; }
  bool at_end() const { return next_ >= size_; }
  std::string text();
  std::int64_t number();

 private:
  std::string_view line_;
  size_t pos_ = 0;   ///< where the next field starts
  size_t size_ = 1;  ///< fields in the line
  size_t next_ = 0;  ///< fields read
  bool ok_ = true;
};

}  // namespace troupe::domain::fields

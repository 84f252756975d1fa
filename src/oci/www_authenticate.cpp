#include "oci/www_authenticate.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"

namespace wwp::oci {

namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::vector<Challenge> parse() {
    std::vector<Challenge> challenges;
    for (;;) {
      skip_separators();
      if (at_end()) break;
      const std::string scheme = token();
      if (scheme.empty()) break;  // garbage: keep what we have
      Challenge challenge;
      challenge.scheme = to_lower(scheme);
      skip_spaces();
      if (!read_token68(challenge)) read_params(challenge);
      challenges.push_back(std::move(challenge));
    }
    return challenges;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void skip_spaces() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++pos_;
  }
  void skip_separators() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++pos_;
  }
  std::string token() {
    const std::size_t start = pos_;
    while (!at_end() && is_tchar(peek())) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // token68 := 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  // Only when it is the whole rest of this challenge: "abc==" then end or ','.
  bool read_token68(Challenge& challenge) {
    std::size_t end = pos_;
    while (end < text_.size() && is_token68_char(text_[end])) ++end;
    if (end == pos_) return false;
    std::size_t after = end;
    while (after < text_.size() && text_[after] == '=') ++after;
    std::size_t next = after;
    while (next < text_.size() && (text_[next] == ' ' || text_[next] == '\t')) ++next;
    // Anything else after the '=' run means this was "name=value", not a token68.
    if (next < text_.size() && text_[next] != ',') return false;
    challenge.token68 = std::string(text_.substr(pos_, after - pos_));
    pos_ = after;
    return true;
  }

  void read_params(Challenge& challenge) {
    for (;;) {
      skip_separators();
      if (at_end()) return;
      const std::size_t mark = pos_;
      const std::string name = token();
      skip_spaces();
      if (name.empty() || peek() != '=') {
        pos_ = mark;  // the next challenge's scheme
        return;
      }
      ++pos_;
      skip_spaces();
      std::string value;
      if (peek() == '"') {
        ++pos_;
        while (!at_end() && peek() != '"') {
          if (peek() == '\\' && pos_ + 1 < text_.size()) ++pos_;
          value += peek();
          ++pos_;
        }
        if (!at_end()) ++pos_;  // closing quote
      } else {
        value = token();
      }
      challenge.params[to_lower(name)] = std::move(value);
      skip_spaces();
      if (!at_end() && peek() != ',') return;  // malformed; stop here
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> Challenge::param(const std::string& name) const {
  auto it = params.find(to_lower(name));
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  return Parser(header).parse();
}

}  // namespace wwp::oci

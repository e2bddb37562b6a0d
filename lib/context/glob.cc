#include "context/glob.h"

#include "base/utf8.h"

namespace strata::context {
namespace {

using base::Code;

base::Error BadPattern() {
  return base::Error(Code::kParse, std::string(kBadPatternText));
}

struct Chunk {
  bool star = false;
  std::string_view chunk;
  std::string_view rest;
};

// Splits off the next segment: leading stars, then bytes up to the next '*'
// outside a class (Go's scanChunk; its class tracking is deliberately naive).
Chunk ScanChunk(std::string_view pattern) {
  Chunk out;
  while (!pattern.empty() && pattern[0] == '*') {
    pattern.remove_prefix(1);
    out.star = true;
  }
  bool in_range = false;
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < pattern.size()) ++i;
    } else if (c == '[') {
      in_range = true;
    } else if (c == ']') {
      in_range = false;
    } else if (c == '*' && !in_range) {
      break;
    }
  }
  out.chunk = pattern.substr(0, i);
  out.rest = pattern.substr(i);
  return out;
}

// Reads one possibly escaped rune of a class (Go's getEsc).
base::Result<char32_t> GetEsc(std::string_view& chunk) {
  if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') return BadPattern();
  if (chunk[0] == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) return BadPattern();
  }
  base::DecodedRune r = base::DecodeRune(chunk);
  chunk.remove_prefix(r.size);
  if ((r.rune == base::kRuneError && r.size == 1) || chunk.empty()) {
    return BadPattern();
  }
  return r.rune;
}

struct ChunkMatch {
  bool ok = false;
  std::string_view rest;
};

// Parses a class body after '[' and reports whether `r` is in it.
base::Result<bool> MatchClass(std::string_view& chunk, char32_t r) {
  bool negated = false;
  if (!chunk.empty() && chunk[0] == '^') {
    negated = true;
    chunk.remove_prefix(1);
  }
  bool match = false;
  int nrange = 0;
  while (true) {
    if (!chunk.empty() && chunk[0] == ']' && nrange > 0) {
      chunk.remove_prefix(1);
      break;
    }
    STRATA_ASSIGN_OR_RETURN(char32_t lo, GetEsc(chunk));
    char32_t hi = lo;
    // GetEsc guarantees a byte follows.
    if (chunk[0] == '-') {
      chunk.remove_prefix(1);
      STRATA_ASSIGN_OR_RETURN(hi, GetEsc(chunk));
    }
    if (lo <= r && r <= hi) match = true;
    ++nrange;
  }
  return match != negated;
}

// Go's matchChunk: after a mismatch it keeps parsing the chunk so that
// syntax errors are reported whatever the name is.
base::Result<ChunkMatch> MatchChunk(std::string_view chunk,
                                    std::string_view s) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) failed = true;
    char c = chunk[0];
    if (c == '[') {
      char32_t r = 0;
      if (!failed) {
        base::DecodedRune d = base::DecodeRune(s);
        r = d.rune;
        s.remove_prefix(d.size);
      }
      chunk.remove_prefix(1);
      STRATA_ASSIGN_OR_RETURN(bool in_class, MatchClass(chunk, r));
      if (!in_class) failed = true;
    } else if (c == '?') {
      if (!failed) {
        if (s[0] == '/') failed = true;
        s.remove_prefix(base::DecodeRune(s).size);
      }
      chunk.remove_prefix(1);
    } else {
      if (c == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return BadPattern();
      }
      if (!failed) {
        if (chunk[0] != s[0]) failed = true;
        s.remove_prefix(1);
      }
      chunk.remove_prefix(1);
    }
  }
  if (failed) return ChunkMatch{};
  return ChunkMatch{true, s};
}

}  // namespace

base::Result<bool> GlobMatch(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    Chunk c = ScanChunk(pattern);
    pattern = c.rest;
    if (c.star && c.chunk.empty()) {
      // A trailing '*' matches the rest unless it has a '/'.
      return name.find('/') == std::string_view::npos;
    }
    base::Result<ChunkMatch> m = MatchChunk(c.chunk, name);
    // The last chunk must use up the name; otherwise a star may still help.
    if (m && m->ok && (m->rest.empty() || !pattern.empty())) {
      name = m->rest;
      continue;
    }
    if (!m) return m.error();
    bool advanced = false;
    if (c.star) {
      // Try skipping i+1 bytes; '*' cannot skip a '/'.
      for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        base::Result<ChunkMatch> t = MatchChunk(c.chunk, name.substr(i + 1));
        if (t && t->ok) {
          if (pattern.empty() && !t->rest.empty()) continue;
          name = t->rest;
          advanced = true;
          break;
        }
        if (!t) return t.error();
      }
    }
    if (advanced) continue;
    return false;
  }
  return name.empty();
}

}  // namespace strata::context

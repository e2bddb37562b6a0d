#include "build/file_mode.h"

namespace strata::build {

using base::Code;
using base::MakeError;

namespace {

constexpr uint32_t kUser = 04700, kGroup = 02070, kOther = 01007;

uint32_t Copied(uint32_t mode, char from) {
  // The rwx bits of one class, spread to all three positions.
  uint32_t bits = 0;
  if (from == 'u') bits = (mode >> 6) & 7;
  if (from == 'g') bits = (mode >> 3) & 7;
  if (from == 'o') bits = mode & 7;
  return bits | (bits << 3) | (bits << 6);
}

}  // namespace

base::Result<ModeSpec> ModeSpec::Parse(std::string_view text) {
  ModeSpec spec;
  spec.text_ = std::string(text);
  auto bad = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument, "invalid chmod \"", text, "\": ",
                     why);
  };
  if (text.empty()) return bad("empty");
  if (text.find_first_not_of("01234567") == std::string_view::npos) {
    if (text.size() > 4 && text.find_first_not_of('0') < text.size() - 4) {
      return bad("octal mode out of range");
    }
    uint32_t v = 0;
    for (char c : text) v = v * 8 + static_cast<uint32_t>(c - '0');
    if (v > 07777) return bad("octal mode out of range");
    spec.absolute_ = v;
    return spec;
  }
  for (const std::string& part : base::Split(text, ',')) {
    size_t i = 0;
    uint32_t who = 0;
    for (; i < part.size() && std::string_view("ugoa").find(part[i]) !=
                                  std::string_view::npos;
         ++i) {
      who |= part[i] == 'u'   ? kUser
             : part[i] == 'g' ? kGroup
             : part[i] == 'o' ? kOther
                              : (kUser | kGroup | kOther);
    }
    if (i == part.size()) return bad("missing operator (+, - or =)");
    // Several operations may follow one "who": "u+x-w".
    while (i < part.size()) {
      Clause c;
      c.who = who;
      c.op = part[i];
      if (c.op != '+' && c.op != '-' && c.op != '=') {
        return bad("want +, - or = after who");
      }
      ++i;
      for (; i < part.size() && std::string_view("+-=").find(part[i]) ==
                                    std::string_view::npos;
           ++i) {
        switch (part[i]) {
          case 'r': c.perms |= 0444; break;
          case 'w': c.perms |= 0222; break;
          case 'x': c.perms |= 0111; break;
          case 'X': c.cap_x = true; break;
          case 's': c.perms |= 06000; break;
          case 't': c.perms |= 01000; break;
          case 'u': c.copy_u = true; break;
          case 'g': c.copy_g = true; break;
          case 'o': c.copy_o = true; break;
          default: return bad(base::StrCat("unknown permission '", part[i], "'"));
        }
      }
      spec.clauses_.push_back(c);
    }
  }
  return spec;
}

uint32_t ModeSpec::Apply(uint32_t mode, bool is_dir) const {
  if (absolute_) return *absolute_;
  uint32_t m = mode & 07777;
  for (const Clause& c : clauses_) {
    uint32_t who = c.who == 0 ? (kUser | kGroup | kOther) : c.who;
    uint32_t perms = c.perms;
    if (c.cap_x && (is_dir || (m & 0111) != 0)) perms |= 0111;
    if (c.copy_u) perms |= Copied(m, 'u');
    if (c.copy_g) perms |= Copied(m, 'g');
    if (c.copy_o) perms |= Copied(m, 'o');
    perms &= who;
    if (c.op == '+') m |= perms;
    if (c.op == '-') m &= ~perms;
    if (c.op == '=') m = (m & ~(who & 0777)) | perms;
  }
  return m;
}

}  // namespace strata::build

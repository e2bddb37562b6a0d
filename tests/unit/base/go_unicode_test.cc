#include "base/go_unicode.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ios>
#include <ostream>
#include <string>

namespace strata::base {
namespace {

// Expected values follow Go 1.21+ (Unicode 15.0.0). For runes assigned up to
// Unicode 13 they are also what Go 1.19 prints; the Unicode 14/15 rows say
// so where Go 1.19 differed.

TEST(GoUnicodeTest, TablesVersion) { EXPECT_EQ(kGoUnicodeVersion, "15.0.0"); }

TEST(GoUnicodeTest, AsciiAndLatin1) {
  EXPECT_TRUE(GoIsLetter('a'));
  EXPECT_TRUE(GoIsLetter('Z'));
  EXPECT_FALSE(GoIsLetter('_'));
  EXPECT_FALSE(GoIsLetter('0'));
  EXPECT_TRUE(GoIsDigit('0'));
  EXPECT_TRUE(GoIsDigit('9'));
  EXPECT_FALSE(GoIsDigit('a'));
  EXPECT_TRUE(GoIsLetter(0xAA));   // feminine ordinal, Lo
  EXPECT_TRUE(GoIsLetter(0xB5));   // micro sign, Ll
  EXPECT_TRUE(GoIsLetter(0xE9));   // e acute
  EXPECT_FALSE(GoIsLetter(0xD7));  // multiplication sign, Sm
  EXPECT_TRUE(GoIsPrint(0xD7));
  EXPECT_FALSE(GoIsDigit(0xB2));  // superscript two is No, not Nd
  EXPECT_TRUE(GoIsPrint(0xB2));
}

TEST(GoUnicodeTest, IsPrintSpotChecks) {
  EXPECT_TRUE(GoIsPrint(0x20));
  EXPECT_TRUE(GoIsPrint(0x7e));
  EXPECT_FALSE(GoIsPrint(0x00));
  EXPECT_FALSE(GoIsPrint('\n'));
  EXPECT_FALSE(GoIsPrint(0x7f));
  EXPECT_FALSE(GoIsPrint(0x85));  // NEL, Cc
  EXPECT_FALSE(GoIsPrint(0xa0));
  EXPECT_TRUE(GoIsPrint(0xa1));
  EXPECT_FALSE(GoIsPrint(0xad));
  EXPECT_TRUE(GoIsPrint(0x377));
  EXPECT_FALSE(GoIsPrint(0x378));
  EXPECT_FALSE(GoIsPrint(0xd800));
  EXPECT_FALSE(GoIsPrint(0xe000));  // private use
  EXPECT_FALSE(GoIsPrint(0xfffe));
  EXPECT_TRUE(GoIsPrint(0xfffd));
  EXPECT_TRUE(GoIsPrint(0xe0100));
  EXPECT_FALSE(GoIsPrint(0xe0001));  // language tag, Cf
  EXPECT_TRUE(GoIsPrint(0x3134a));
  EXPECT_FALSE(GoIsPrint(0x3134b));
  EXPECT_FALSE(GoIsPrint(0x10ffff));
  EXPECT_FALSE(GoIsPrint(0x110000));
}

TEST(GoUnicodeTest, SpacesAndFormatCharactersAreNotPrintable) {
  const char32_t kRunes[] = {0xA0,   0x2028, 0x2029, 0x3000,
                             0x200B, 0xFEFF, 0xAD};
  for (char32_t r : kRunes) {
    EXPECT_FALSE(GoIsPrint(r)) << std::hex << static_cast<uint32_t>(r);
    EXPECT_FALSE(GoIsLetter(r)) << std::hex << static_cast<uint32_t>(r);
  }
}

TEST(GoUnicodeTest, Scripts) {
  // Greek, Cyrillic.
  EXPECT_TRUE(GoIsLetter(0x3B1));
  EXPECT_TRUE(GoIsLetter(0x416));
  EXPECT_FALSE(GoIsLetter(0x378));  // unassigned in the Greek block
  // CJK: ideographs are letters without case; the ideographic space and
  // number zero (Nl) are not letters.
  EXPECT_TRUE(GoIsLetter(0x4E2D));
  EXPECT_EQ(GoToUpperRune(0x4E2D), 0x4E2Du);
  EXPECT_FALSE(GoIsLetter(0x3007));
  EXPECT_FALSE(GoIsDigit(0x3007));
  EXPECT_TRUE(GoIsPrint(0x3007));
  // Hangul syllables and jamo.
  EXPECT_TRUE(GoIsLetter(0xAC00));
  EXPECT_TRUE(GoIsLetter(0xD55C));
  EXPECT_TRUE(GoIsLetter(0x1100));
  EXPECT_FALSE(GoIsLetter(0xD7A4));
  // Emoji are symbols: printable, not letters.
  EXPECT_TRUE(GoIsPrint(0x1F600));
  EXPECT_FALSE(GoIsLetter(0x1F600));
  // Non-ASCII decimal digits.
  EXPECT_TRUE(GoIsDigit(0x660));
  EXPECT_TRUE(GoIsDigit(0xFF10));
  EXPECT_FALSE(GoIsDigit(0x2460));  // circled one, No
  EXPECT_FALSE(GoIsLetter(0x110000));
  EXPECT_FALSE(GoIsDigit(0x110000));
}

TEST(GoUnicodeTest, Unicode14And15Additions) {
  // All unassigned in Go 1.19 (Unicode 13): there every predicate was false
  // and every rune mapped to itself.
  EXPECT_TRUE(GoIsLetter(0x870));  // Arabic alef with attached fatha, 14
  EXPECT_TRUE(GoIsPrint(0x870));
  EXPECT_TRUE(GoIsPrint(0x1FAE0));            // melting face, 14
  EXPECT_TRUE(GoIsDigit(0x16AC0));            // Tangsa digit zero, 14
  EXPECT_EQ(GoToLowerRune(0x2C2F), 0x2C5Fu);  // Glagolitic, 14
  EXPECT_EQ(GoToUpperRune(0x2C5F), 0x2C2Fu);
  EXPECT_EQ(GoToLowerRune(0xA7C0), 0xA7C1u);    // Latin old Polish o, 14
  EXPECT_EQ(GoToLowerRune(0x10570), 0x10597u);  // Vithkuqi, 14
  EXPECT_EQ(GoToUpperRune(0x10597), 0x10570u);
  EXPECT_TRUE(GoIsDigit(0x11F50));   // Kawi digit zero, 15
  EXPECT_TRUE(GoIsLetter(0x31350));  // CJK extension H, 15
  EXPECT_TRUE(GoIsLetter(0x323AF));
  EXPECT_FALSE(GoIsLetter(0x323B0));
  EXPECT_TRUE(GoIsLetter(0x1E030));  // Cyrillic modifier letter, 15
  EXPECT_TRUE(GoIsPrint(0xCF3));     // Kannada sign (Mc), 15
  EXPECT_FALSE(GoIsLetter(0xCF3));
  EXPECT_TRUE(GoIsPrint(0x1FA75));  // light blue heart, 15
}

TEST(GoUnicodeTest, RuneCaseMapping) {
  EXPECT_EQ(GoToUpperRune('a'), U'A');
  EXPECT_EQ(GoToLowerRune('A'), U'a');
  EXPECT_EQ(GoToUpperRune('1'), U'1');
  EXPECT_EQ(GoToUpperRune(0xE9), 0xC9u);
  EXPECT_EQ(GoToUpperRune(0xFF), 0x178u);  // y diaeresis leaves Latin-1
  EXPECT_EQ(GoToLowerRune(0x178), 0xFFu);
  EXPECT_EQ(GoToUpperRune(0xB5), 0x39Cu);  // micro sign -> Greek MU
  EXPECT_EQ(GoToUpperRune(0xDF), 0xDFu);   // sharp s: no simple mapping
  EXPECT_EQ(GoToLowerRune(0x1E9E), 0xDFu);
  EXPECT_EQ(GoToUpperRune(0x3C2), 0x3A3u);  // final sigma
  EXPECT_EQ(GoToLowerRune(0x3A3), 0x3C3u);
  EXPECT_EQ(GoToLowerRune(0x416), 0x436u);
  EXPECT_EQ(GoToUpperRune(0x451), 0x401u);
  EXPECT_EQ(GoToUpperRune(0x345), 0x399u);    // a combining mark with case
  EXPECT_EQ(GoToLowerRune(0x13A0), 0xAB70u);  // Cherokee
  EXPECT_EQ(GoToUpperRune(0xAB70), 0x13A0u);
  EXPECT_EQ(GoToUpperRune(0x10D0), 0x1C90u);    // Georgian Mkhedruli
  EXPECT_EQ(GoToLowerRune(0x10400), 0x10428u);  // Deseret
  EXPECT_EQ(GoToUpperRune(0x1F80), 0x1F88u);    // to title-case form
  EXPECT_EQ(GoToUpperRune(0x149), 0x149u);
  EXPECT_EQ(GoToUpperRune(0x110000), 0x110000u);
}

TEST(GoUnicodeTest, MappingsIntoAscii) {
  EXPECT_EQ(GoToLowerRune(0x130), U'i');  // I with dot above
  EXPECT_EQ(GoToUpperRune(0x130), 0x130u);
  EXPECT_EQ(GoToUpperRune(0x131), U'I');   // dotless i
  EXPECT_EQ(GoToUpperRune(0x17F), U'S');   // long s
  EXPECT_EQ(GoToLowerRune(0x212A), U'k');  // Kelvin sign
}

TEST(GoUnicodeTest, AlternatingAndTitleCase) {
  EXPECT_EQ(GoToLowerRune(0x100), 0x101u);
  EXPECT_EQ(GoToLowerRune(0x101), 0x101u);
  EXPECT_EQ(GoToUpperRune(0x101), 0x100u);
  EXPECT_EQ(GoToUpperRune(0x100), 0x100u);
  EXPECT_EQ(GoToUpperRune(0x12F), 0x12Eu);
  // DZ with caron: upper, title and lower forms.
  EXPECT_EQ(GoToLowerRune(0x1C4), 0x1C6u);
  EXPECT_EQ(GoToUpperRune(0x1C5), 0x1C4u);
  EXPECT_EQ(GoToLowerRune(0x1C5), 0x1C6u);
  EXPECT_EQ(GoToUpperRune(0x1C6), 0x1C4u);
}

TEST(GoUnicodeTest, StringCaseMapping) {
  EXPECT_EQ(GoToLower(""), "");
  EXPECT_EQ(GoToLower("RUN Foo_1"), "run foo_1");
  EXPECT_EQ(GoToUpper("onbuild"), "ONBUILD");
  EXPECT_EQ(GoToLower("AbC\xE2\x84\xAA"), "abck");    // Kelvin sign -> k
  EXPECT_EQ(GoToUpper("onbu\xC4\xB1ld"), "ONBUILD");  // dotless i -> I
  EXPECT_EQ(GoToLower("ONBU\xC4\xB0LD"), "onbuild");  // I with dot -> i
  EXPECT_EQ(GoToUpper("\xCE\xB1\xCE\xB2\xD0\xB6"),
            "\xCE\x91\xCE\x92\xD0\x96");  // Greek and Cyrillic
  // U+023F (2 bytes) upper-cases to U+2C7E (3 bytes).
  EXPECT_EQ(GoToUpper("\xC8\xBF"), "\xE2\xB1\xBE");
  EXPECT_EQ(GoToUpper("\xE4\xB8\xAD\xF0\x9F\x98\x80"),
            "\xE4\xB8\xAD\xF0\x9F\x98\x80");
}

TEST(GoUnicodeTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(GoToLower("A\xFFz"), "a" + kFffd + "z");
  EXPECT_EQ(GoToUpper("a\xFF"), "A" + kFffd);
  // A truncated sequence, a surrogate and an overlong form: one U+FFFD per
  // byte, as utf8.DecodeRuneInString reads them.
  EXPECT_EQ(GoToUpper("\xE2\x82"), kFffd + kFffd);
  EXPECT_EQ(GoToLower("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(GoToLower("\xC0\xAF"), kFffd + kFffd);
  // A real U+FFFD stays as it is.
  EXPECT_EQ(GoToUpper(kFffd), kFffd);
}

// Count and hash (h = h*31 + r, wrapping) of the runes a predicate accepts,
// or (for a mapping) of each rune r with m(r) != r, hashing r then m(r).
struct Summary {
  uint64_t count = 0;
  uint64_t hash = 0;

  bool operator==(const Summary&) const = default;
};

void PrintTo(const Summary& s, std::ostream* os) {
  *os << "{count " << s.count << ", hash " << s.hash << "}";
}

template <typename Predicate>
Summary SummarizeSet(Predicate predicate) {
  Summary s;
  for (char32_t r = 0; r <= 0x10FFFF; ++r) {
    if (!predicate(r)) continue;
    ++s.count;
    s.hash = s.hash * 31 + r;
  }
  return s;
}

template <typename Mapping>
Summary SummarizeMapping(Mapping mapping) {
  Summary s;
  for (char32_t r = 0; r <= 0x10FFFF; ++r) {
    char32_t m = mapping(r);
    if (m == r) continue;
    ++s.count;
    s.hash = (s.hash * 31 + r) * 31 + m;
  }
  return s;
}

// The expected numbers were computed by a separate script straight from
// Unicode 15.0.0's UnicodeData.txt (categories and simple case mappings).
// For comparison, Go 1.19 (Unicode 13) gives IsPrint 143680 runes, hash
// 12258534981884806324, and ToLower 1393 changed runes.
TEST(GoUnicodeTest, AllRunesMatchUnicode15) {
  EXPECT_EQ(SummarizeSet(GoIsPrint), (Summary{148998, 11005349497113234412u}));
  EXPECT_EQ(SummarizeSet(GoIsLetter), (Summary{136104, 7674122493976212486u}));
  EXPECT_EQ(SummarizeSet(GoIsDigit), (Summary{680, 15886137320041802964u}));
  EXPECT_EQ(SummarizeMapping(GoToUpperRune),
            (Summary{1450, 13184227789549397961u}));
  EXPECT_EQ(SummarizeMapping(GoToLowerRune),
            (Summary{1433, 1434647104614970292u}));
}

}  // namespace
}  // namespace strata::base

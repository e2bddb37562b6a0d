// Hand-written parser cases. Expected values are what BuildKit's parser
// gives for the same input (checked against a build of its parser package).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dockerfile/parser.h"

namespace strata::dockerfile {
namespace {

using Strings = std::vector<std::string>;

Heredoc MakeHeredoc(std::string name, std::string content, int fd = 0,
                    bool expand = true, bool chomp = false) {
  Heredoc h;
  h.name = std::move(name);
  h.content = std::move(content);
  h.file_descriptor = fd;
  h.expand = expand;
  h.chomp = chomp;
  return h;
}

Node Arg(std::string value) {
  Node n;
  n.value = std::move(value);
  return n;
}

ParseResult MustParse(std::string_view text) {
  base::Result<ParseResult> r = Parse(text);
  if (!r) {
    ADD_FAILURE() << r.error().ToString();
    return ParseResult();
  }
  return std::move(r).value();
}

std::string DumpOf(std::string_view text) {
  return MustParse(text).root.Dump();
}

base::Error MustFail(std::string_view text) {
  base::Result<ParseResult> r = Parse(text, {.file_name = "Df"});
  if (r) {
    ADD_FAILURE() << "parsed: " << r->root.Dump();
    return base::Error(base::Code::kInternal, "parsed");
  }
  return std::move(r).error();
}

TEST(ParserTest, ByteOrderMarkOnlyOnFirstLine) {
  EXPECT_EQ(DumpOf("\xEF\xBB\xBF"
                   "FROM a\n"),
            "(from \"a\")");
  // A BOM further down is an ordinary character of the instruction word.
  EXPECT_EQ(DumpOf("FROM a\n\xEF\xBB\xBFRUN b\n"),
            "(from \"a\")\n(\xEF\xBB\xBFrun \"\")");
  // The BOM does not hide a directive.
  EXPECT_EQ(MustParse("\xEF\xBB\xBF# escape=`\nFROM a\n").escape_token, '`');
}

TEST(ParserTest, CrlfLineEndings) {
  ParseResult r = MustParse("FROM a\r\nRUN b \\\r\n  c\r\n\r\nCMD [\"x\"]\r\n");
  EXPECT_EQ(r.root.Dump(), "(from \"a\")\n(run \"b   c\")\n(cmd \"x\")");
  ASSERT_EQ(r.root.children.size(), 3u);
  EXPECT_EQ(r.root.children[1].start_line, 2);
  EXPECT_EQ(r.root.children[1].end_line, 3);
  EXPECT_EQ(r.root.children[1].original, "RUN b   c");
  // A lone '\r' does not end a line; it separates words like a blank.
  EXPECT_EQ(DumpOf("FROM a\rRUN b\n"), "(from \"a\" \"RUN\" \"b\")");
  EXPECT_EQ(DumpOf("RUN a\rb\n"), "(run \"a\\rb\")");
}

TEST(ParserTest, BacktickEscape) {
  ParseResult r = MustParse(
      "# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo \\\nCOPY --x=`\" a b\n");
  EXPECT_EQ(r.escape_token, '`');
  EXPECT_EQ(r.root.Dump(),
            "(from \"a\")\n(run \"dir c:\\\\   && echo \\\\\")\n"
            "(copy [\"--x=\\\"\"] \"a\" \"b\")");
  ASSERT_EQ(r.directives.size(), 1u);
  EXPECT_EQ(r.directives[0],
            (Directive{.name = "escape", .value = "`", .line = 1}));
}

TEST(ParserTest, DirectivesAreRecordedInOrder) {
  ParseResult r = MustParse(
      "# syntax = docker/dockerfile:1  \n#CHECK=skip=all\n  # Escape=\\\n"
      "FROM a\n");
  EXPECT_EQ(r.directives,
            (std::vector<Directive>{
                {.name = "syntax", .value = "docker/dockerfile:1", .line = 1},
                {.name = "check", .value = "skip=all", .line = 2},
                {.name = "escape", .value = "\\", .line = 3}}));
  EXPECT_TRUE(r.root.children[0].prev_comment.empty());
}

TEST(ParserTest, RepeatedDirectiveIsAnError) {
  base::Error e = MustFail("# escape=`\n# syntax=x\n# ESCAPE=\\\nFROM a\n");
  EXPECT_EQ(e.message(), "only one escape parser directive can be used");
  EXPECT_EQ(e.code(), base::Code::kParse);
  EXPECT_EQ(e.file(), "Df");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.ToString(), "Df:3: only one escape parser directive can be used");
}

TEST(ParserTest, InvalidEscapeToken) {
  base::Error e = MustFail("#escape=x\nFROM a\n");
  EXPECT_EQ(e.message(), "invalid escape token 'x' does not match ` or \\");
  EXPECT_EQ(e.line(), 1);
  // The lazy value takes the last blank when there is nothing else.
  EXPECT_EQ(MustFail("# escape= \nFROM a\n").message(),
            "invalid escape token ' ' does not match ` or \\");
}

TEST(ParserTest, DirectivesOnlyAtTheTop) {
  // After a blank line, an ordinary comment or an instruction, a directive
  // is just a comment.
  for (std::string_view text :
       {"\n# escape=`\nFROM a`\n", "# hi\n# escape=`\nFROM a`\n",
        "FROM a`\n# escape=`\n"}) {
    ParseResult r = MustParse(text);
    EXPECT_EQ(r.escape_token, '\\') << text;
    EXPECT_TRUE(r.directives.empty()) << text;
  }
  // An unknown key ends the directives too, and stays a comment.
  ParseResult r = MustParse("# foo=bar\n# escape=`\nFROM a\n");
  EXPECT_EQ(r.escape_token, '\\');
  EXPECT_EQ(r.root.children[0].prev_comment, (Strings{"foo=bar", "escape=`"}));
  // A repeated directive after the run ended is a plain comment.
  EXPECT_EQ(MustParse("# escape=`\nFROM a\n# escape=`\nRUN b\n").escape_token,
            '`');
}

TEST(ParserTest, CommentsAboveInstructions) {
  ParseResult r = MustParse(
      "# one\n  #  two  \n\n# three\nFROM a\n#\n# four\nRUN b\n#five\n\nRUN c\n"
      "RUN d \\\n# inside\n e\n");
  ASSERT_EQ(r.root.children.size(), 4u);
  EXPECT_EQ(r.root.children[0].prev_comment,
            (Strings{"one", "#  two", "three"}));
  // An empty comment line clears what was collected.
  EXPECT_EQ(r.root.children[1].prev_comment, (Strings{"four"}));
  EXPECT_EQ(r.root.children[2].prev_comment, (Strings{"five"}));
  // Comments inside a continuation are dropped, not collected.
  EXPECT_TRUE(r.root.children[3].prev_comment.empty());
  EXPECT_EQ(r.root.children[3].original, "RUN d  e");
}

TEST(ParserTest, CommentInsideContinuation) {
  ParseResult r = MustParse("RUN a \\\n  # comment \\\n#\n  b\n");
  EXPECT_EQ(r.root.Dump(), "(run \"a   b\")");
  EXPECT_EQ(r.root.children[0].end_line, 4);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ParserTest, ContinuationAtEndOfFile) {
  ParseResult r = MustParse("FROM a\nRUN b \\");
  EXPECT_EQ(r.root.Dump(), "(from \"a\")\n(run \"b\")");
  EXPECT_EQ(r.root.children[1].end_line, 2);
  r = MustParse("FROM a\nRUN b \\\n   \n");
  EXPECT_EQ(r.root.Dump(), "(from \"a\")\n(run \"b\")");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].short_text,
            "Empty continuation line found in: RUN b ");
  EXPECT_EQ(r.warnings[0].detail,
            "Empty continuation lines will become errors in a future release");
  EXPECT_EQ(r.warnings[0].start_line, 3);
  EXPECT_EQ(r.warnings[0].end_line, 3);
  // A lone escape token starts an instruction on the next line.
  EXPECT_EQ(DumpOf("\\\nFROM a\n"), "(from \"a\")");
  // An escaped escape token does not continue the line.
  EXPECT_EQ(DumpOf("RUN a\\\\\nRUN b\n"), "(run \"a\\\\\\\\\")\n(run \"b\")");
}

TEST(ParserTest, JsonAndShellForms) {
  ParseResult r = MustParse(
      "CMD [\"a\", \"b c\"]\nCMD a b\nRUN [ \"x\" ] \nRUN []\n"
      "ENTRYPOINT [\"\\u00e9\\/\\ud83d\\ude00\"]\nSHELL [\"\\ud800x\"]\n");
  EXPECT_EQ(r.root.Dump(),
            "(cmd \"a\" \"b c\")\n(cmd \"a b\")\n(run \"x\")\n(run)\n"
            "(entrypoint \"\u00e9/\U0001F600\")\n(shell \"\ufffdx\")");
  std::vector<bool> json;
  for (const Node& n : r.root.children) json.push_back(n.json);
  EXPECT_EQ(json, (std::vector<bool>{true, false, true, true, true, true}));
  // JSON form for ADD, COPY and VOLUME; words otherwise.
  EXPECT_EQ(DumpOf("COPY [\"a b\", \"c\"]\nVOLUME [ \"/a\" /b\n"),
            "(copy \"a b\" \"c\")\n(volume \"[\" \"\\\"/a\\\"\" \"/b\")");
}

TEST(ParserTest, InvalidJsonFallsBackToShellForm) {
  EXPECT_EQ(DumpOf("CMD ['a']\n"), "(cmd \"['a']\")");
  EXPECT_EQ(DumpOf("CMD [\"a\"] x\n"), "(cmd \"[\\\"a\\\"] x\")");
  EXPECT_EQ(DumpOf("CMD [\"a\",]\n"), "(cmd \"[\\\"a\\\",]\")");
  EXPECT_EQ(DumpOf("RUN [\"c:\\x\"]\n"), "(run \"[\\\"c:\\\\x\\\"]\")");
  // Go's decoder fails on a number too large for float64, even nested, and
  // the line then stays a shell-form string.
  EXPECT_EQ(DumpOf("CMD [\"a\", [1e400]]\n"), "(cmd \"[\\\"a\\\", [1e400]]\")");
  EXPECT_FALSE(MustParse("CMD [1e400]\n").root.children[0].json);
  // Anything else that is valid JSON but not all strings is an error.
  for (std::string_view text :
       {"CMD [1]\n", "CMD [\"a\", null]\n", "RUN [[\"a\"]]\n", "COPY [{}]\n"}) {
    base::Error e = MustFail(text);
    EXPECT_EQ(e.message(),
              "when using JSON array syntax, arrays must be comprised of "
              "strings only")
        << text;
    EXPECT_EQ(e.line(), 1);
  }
}

TEST(ParserTest, HeredocWithChomp) {
  ParseResult r = MustParse(
      "RUN <<-EOT cat\n\tline 1\n\t\tline 2\n\t\tEOT\nRUN <<EOT\n\tEOT\nEOT\n");
  ASSERT_EQ(r.root.children.size(), 2u);
  const Node& first = r.root.children[0];
  ASSERT_EQ(first.heredocs.size(), 1u);
  // The parser keeps the tabs; ChompHeredocContent removes them later.
  EXPECT_EQ(first.heredocs[0],
            MakeHeredoc("EOT", "\tline 1\n\t\tline 2\n", 0, true, true));
  EXPECT_EQ(first.start_line, 1);
  EXPECT_EQ(first.end_line, 4);
  EXPECT_EQ(ChompHeredocContent(first.heredocs[0].content), "line 1\nline 2\n");
  // Without '-', a tabbed terminator is body text.
  const Node& second = r.root.children[1];
  ASSERT_EQ(second.heredocs.size(), 1u);
  EXPECT_EQ(second.heredocs[0].content, "\tEOT\n");
  EXPECT_EQ(second.start_line, 5);
  EXPECT_EQ(second.end_line, 7);
}

TEST(ParserTest, SeveralHeredocsPerLine) {
  ParseResult r =
      MustParse("COPY <<A 3<<'B' /dst\nx\nA\r\ny $Z\nB\nRUN echo\n");
  ASSERT_EQ(r.root.children.size(), 2u);
  const Node& copy = r.root.children[0];
  EXPECT_EQ(copy.Dump(), "copy \"<<A\" \"3<<'B'\" \"/dst\"");
  ASSERT_EQ(copy.heredocs.size(), 2u);
  EXPECT_EQ(copy.heredocs[0], MakeHeredoc("A", "x\n"));
  EXPECT_EQ(copy.heredocs[1], MakeHeredoc("B", "y $Z\n", 3, false));
  EXPECT_EQ(copy.end_line, 5);
  EXPECT_EQ(r.root.children[1].start_line, 6);
}

TEST(ParserTest, HeredocBodiesAreRaw) {
  // Comments, continuation characters and directives in a body are text.
  ParseResult r =
      MustParse("RUN <<EOF\n# c \\\n\\\nEOF\n# escape=`\nRUN a \\\n b\n");
  ASSERT_EQ(r.root.children.size(), 2u);
  EXPECT_EQ(r.root.children[0].heredocs[0].content, "# c \\\n\\\n");
  EXPECT_EQ(r.root.children[1].Dump(), "run \"a  b\"");
}

TEST(ParserTest, HeredocsOnlyWhereBuildKitLooks) {
  // JSON form, other instructions and quoted words open no heredoc.
  ParseResult r =
      MustParse("RUN [\"<<EOF\"]\nUSER <<EOF\nRUN \"<<EOF\"\nEOF\n");
  ASSERT_EQ(r.root.children.size(), 4u);
  for (const Node& n : r.root.children) EXPECT_TRUE(n.heredocs.empty());
  // ONBUILD carries the heredocs of the instruction it wraps.
  r = MustParse("ONBUILD COPY <<X /x\nhi\nX\n");
  ASSERT_EQ(r.root.children.size(), 1u);
  EXPECT_EQ(r.root.children[0].Dump(), "onbuild (copy \"<<X\" \"/x\")");
  ASSERT_EQ(r.root.children[0].heredocs.size(), 1u);
  EXPECT_EQ(r.root.children[0].heredocs[0].content, "hi\n");
}

TEST(ParserTest, UnterminatedHeredoc) {
  base::Error e = MustFail("FROM a\nRUN <<EOF\nbody\n");
  EXPECT_EQ(e.message(), "unterminated heredoc");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.ToString(), "Df:2: unterminated heredoc");
}

TEST(ParserTest, FlagsAreTakenFromEveryInstruction) {
  EXPECT_EQ(DumpOf("COPY --from=a --chown=\"1 2\" -- --x y\n"),
            "(copy [\"--from=a\" \"--chown=1 2\"] \"--x\" \"y\")");
  EXPECT_EQ(DumpOf("FROM --platform=$P img AS b\n"),
            "(from [\"--platform=$P\"] \"img\" \"AS\" \"b\")");
  EXPECT_EQ(DumpOf("CMD --doit [ \"a\" ]\n"), "(cmd [\"--doit\"] \"a\")");
  EXPECT_EQ(DumpOf("RUN --a=\\\"b' c'\n"), "(run [\"--a=\\\"b c\"])");
  // Bytes are read as Latin-1 runes, so UTF-8 text is encoded twice.
  EXPECT_EQ(DumpOf("COPY --chown=jos\xC3\xA9 a b\n"),
            "(copy [\"--chown=jos\xC3\x83\xC2\xA9\"] \"a\" \"b\")");
  // ...and byte 0xA0 of U+00E0 counts as white space, ending the flag.
  EXPECT_EQ(DumpOf("COPY --x=\xC3\xA0 a\n"), "(copy [\"--x=\xC3\x83\"] \"a\")");
}

TEST(ParserTest, EnvAndLabelForms) {
  EXPECT_EQ(DumpOf("ENV a=b c=\"d e\" f='g'\n"),
            "(env \"a\" \"b\" \"=\" \"c\" \"\\\"d e\\\"\" \"=\" \"f\" "
            "\"'g'\" \"=\")");
  EXPECT_EQ(DumpOf("LABEL key  value with  spaces\n"),
            "(label \"key\" \"value with  spaces\" \"\")");
  EXPECT_EQ(DumpOf("ENV\n"), "(env)");
  EXPECT_EQ(MustFail("LABEL x\n").message(), "LABEL must have two arguments");
  EXPECT_EQ(MustFail("ENV a=b c\n").message(),
            "Syntax error - can't find = in \"c\". Must be of the form: "
            "name=value");
  EXPECT_EQ(DumpOf("ARG a b=\"c d\" e\\ f\n"),
            "(arg \"a\" \"b=\\\"c d\\\"\" \"e\\\\ f\")");
}

TEST(ParserTest, OtherInstructionRules) {
  EXPECT_EQ(DumpOf("HEALTHCHECK --interval=5s CMD [\"a\"]\nHEALTHCHECK NONE\n"
                   "HEALTHCHECK\n"),
            "(healthcheck [\"--interval=5s\"] \"CMD\" \"a\")\n"
            "(healthcheck \"NONE\")\n(healthcheck)");
  EXPECT_EQ(DumpOf("EXPOSE 80  443/tcp\nUSER a b\nWORKDIR /a b\n"),
            "(expose \"80\" \"443/tcp\")\n(user \"a b\")\n(workdir \"/a b\")");
  EXPECT_EQ(DumpOf("FOO bar baz\nbar\n"), "(foo \"\")\n(bar \"\")");
  EXPECT_EQ(DumpOf("ONBUILD\nONBUILD --f RUN x\n"),
            "(onbuild)\n(onbuild [\"--f\"] (run \"x\"))");
  // Dispatch lower-cases with Go's Unicode tables: U+0130 becomes 'i'.
  EXPECT_EQ(DumpOf("ONBU\xC4\xB0LD Run [\"x\"]\n"), "(onbuild (run \"x\"))");
}

TEST(ParserTest, OnbuildNestingIsBounded) {
  EXPECT_EQ(DumpOf("ONBUILD ONBUILD RUN x\n"),
            "(onbuild (onbuild (run \"x\")))");
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "ONBUILD ";
  deep += "RUN x\n";
  base::Error e = MustFail(deep);
  EXPECT_EQ(e.message(), "ONBUILD nested deeper than 64 levels");
  EXPECT_EQ(e.line(), 1);
}

TEST(ParserTest, NoInstructions) {
  base::Error e = MustFail("");
  EXPECT_EQ(e.message(), "file with no instructions");
  EXPECT_EQ(e.line(), 1);
  e = MustFail("# a\n\n  \n# b");
  EXPECT_EQ(e.line(), 4);
}

TEST(ParserTest, LineLengthLimit) {
  std::string ok = "RUN " + std::string(65531, 'a');  // 65535 bytes
  EXPECT_TRUE(Parse(ok).has_value());
  EXPECT_TRUE(Parse(ok + "\n").has_value());  // 65536 with its newline
  EXPECT_FALSE(Parse(ok + "a\n").has_value());
  base::Error e = MustFail("FROM a\n" + ok + "a");
  EXPECT_EQ(e.message(),
            "dockerfile line greater than max allowed size of 65535");
  EXPECT_EQ(e.line(), 2);
  e = MustFail(ok + "aa\n");
  EXPECT_EQ(e.message(), "file with no instructions");
  // After a continuation, BuildKit parses the line's first 64 KiB as an
  // instruction before it reports the length.
  e = MustFail("RUN a \\\nENV " + std::string(70000, 'b'));
  EXPECT_EQ(e.message(), "ENV must have two arguments");
  EXPECT_EQ(e.line(), 2);
}

TEST(ParserTest, DumpOfHandBuiltNodes) {
  Node n;
  n.value = "COPY";
  n.flags = {"--from=a\tb"};
  n.next.push_back(Arg("s\u00a0rc"));
  Node run = Arg("RUN");
  run.next.push_back(Arg("x"));
  Node holder;
  holder.children.push_back(run);
  n.next.push_back(holder);
  EXPECT_EQ(n.Dump(), "copy [\"--from=a\\tb\"] \"s\\u00a0rc\" (run \"x\")");
  EXPECT_EQ(Node().Dump(), "");
}

}  // namespace
}  // namespace strata::dockerfile
